"""Unattended sign-in: answer a sign-in page with the configured account, password and TOTP code.

It handles what a script can answer (account, password, authenticator code, "Stay signed in?") and stops
with a clear reason at what it cannot: a push approval, a consent prompt, a refused password or code, or a
page that asks the same thing again. Every secret it types is registered for redaction first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from cifcheck.config import SignIn
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import SignInAttempt
from cifcheck.probes.sign_in_page import STEP_SHOWN, VISIBLE, step_selectors
from cifcheck.redact import redact_text, register_secret
from cifcheck.totp import TotpSecretError, totp_now

POLL_MS = 100
ACTION_TIMEOUT_MS = 10_000

# Which step the page shows, and any visible error. The marker tells a fresh document from the one answered.
_PAGE_STATE = f"""(s) => {{
  const step = ({STEP_SHOWN})(s);
  const error = [...document.querySelectorAll(s.error)].filter({VISIBLE}).map((e) => e.textContent.trim())
    .find((text) => text) || "";
  return {{ step, error, answered: window.__cifcheckAnswered === step }};
}}"""
_MARK_ANSWERED = "(step) => { window.__cifcheckAnswered = step; }"

CANNOT = {
    "push": "the sign-in waits for a push approval in the Authenticator app, which cannot be automated; run "
    "`cifcheck login` once, approve it, and let runs reuse the saved session",
    "consent": "the sign-in asks for consent to permissions, which a person must give; sign in once by hand "
    "with `cifcheck login`",
}


def _selectors(settings: SignIn) -> dict[str, str]:
    return {**step_selectors(settings), "error": settings.error_text}


def _state(page: Page, selectors: dict[str, str]) -> dict | None:
    try:
        return page.evaluate(_PAGE_STATE, selectors)
    except PlaywrightError:
        return None  # the page is navigating


def _answer(page: Page, step: str, secrets: SignInSecrets, settings: SignIn, timeout_ms: float) -> None:
    page.evaluate(_MARK_ANSWERED, step)
    if step == "stay-signed-in":
        button = settings.stay_signed_in_yes if settings.stay_signed_in else settings.stay_signed_in_no
        page.click(button, timeout=timeout_ms)
        return
    if step == "code":
        assert secrets.totp_secret is not None
        code = totp_now(secrets.totp_secret)
        register_secret(code)
        field, value = settings.code_field, code
    elif step == "password":
        field, value = settings.password_field, secrets.password
    else:
        field, value = settings.username_field, secrets.username
    page.fill(field, value, timeout=timeout_ms)
    page.locator(settings.submit_button).first.click(timeout=timeout_ms)


def _await_answer(
    page: Page, selectors: dict[str, str], step: str, leaving: Callable[[], bool], deadline: float
) -> None:
    """After submitting a step: until the page shows another step, an error, a fresh document, or leaves sign-in.

    Entra moves between steps without navigating, so a navigation event is not a signal to rely on.
    """
    while time.monotonic() < deadline and not leaving():
        state = _state(page, selectors)
        if state is not None and (state["step"] != step or state["error"] or not state["answered"]):
            return
        page.wait_for_timeout(POLL_MS)


def sign_in(
    page: Page, secrets: SignInSecrets, settings: SignIn, still_on_sign_in: Callable[[], bool], deadline: float
) -> SignInAttempt:
    """Answer sign-in pages until the browser leaves them (`still_on_sign_in()` is False) or a step fails."""
    attempt = SignInAttempt()
    selectors = _selectors(settings)
    answered: set[str] = set()
    while time.monotonic() < deadline:
        if not still_on_sign_in():
            attempt.succeeded = True
            attempt.message = "signed in unattended" if attempt.steps else "signed in by single sign-on"
            return attempt
        state = _state(page, selectors)
        step = state["step"] if state else None
        if step is None:
            page.wait_for_timeout(POLL_MS)
            continue
        if step in CANNOT:
            return _stop(attempt, step, CANNOT[step])
        if step in answered:
            refusal = f": {redact_text(state['error'])}" if state["error"] else " (the page asked for it again)"
            return _stop(attempt, step, f"the {step} was refused{refusal}")
        if step == "code" and not secrets.totp_secret:
            return _stop(attempt, step, "the sign-in asks for an authenticator code; no TOTP secret is configured")
        remaining_ms = max((deadline - time.monotonic()) * 1000, 1)
        try:
            _answer(page, step, secrets, settings, min(remaining_ms, ACTION_TIMEOUT_MS))
        except PlaywrightError as error:
            return _stop(attempt, step, f"could not answer the {step} step: {redact_text(str(error).splitlines()[0])}")
        except TotpSecretError as error:
            return _stop(attempt, step, str(error))
        answered.add(step)
        attempt.steps.append(step)
        _await_answer(page, selectors, step, lambda: not still_on_sign_in(), deadline)
    return _stop(attempt, attempt.steps[-1] if attempt.steps else "account", "the sign-in did not finish in time")


def _stop(attempt: SignInAttempt, step: str, message: str) -> SignInAttempt:
    attempt.stopped_at = step
    attempt.message = message
    return attempt
