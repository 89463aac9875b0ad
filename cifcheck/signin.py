"""Unattended sign-in: answer a sign-in page with the configured account, password and TOTP code.

It handles what a script can answer (account, password, authenticator code, "Stay signed in?") and stops
with a clear reason at what it cannot: a push approval, a consent prompt, a refused password or code.
"""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from cifcheck.config import SignIn
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import SignInAttempt
from cifcheck.redact import redact_text

POLL_MS = 100

_PAGE_STATE = """(s) => {
  const visible = (selector) => {
    const element = document.querySelector(selector);
    if (!element) return false;
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden";
  };
  const error = [...document.querySelectorAll(s.error)].map((e) => e.textContent.trim()).find((t) => t) || "";
  const step = visible(s.push) ? "push" : visible(s.consent) ? "consent" : visible(s.code) ? "code"
    : visible(s.password) ? "password" : visible(s.username) ? "account" : visible(s.stay) ? "stay-signed-in" : null;
  return { step, error, ready: document.readyState !== "loading" };
}"""

CANNOT = {
    "push": "the sign-in waits for a push approval in the Authenticator app, which cannot be automated; run "
    "`cifcheck login` once, approve it, and let runs reuse the saved session",
    "consent": "the sign-in asks for consent to permissions, which a person must give; sign in once by hand "
    "with `cifcheck login`",
}


def _fill_and_submit(page: Page, field: str, value: str, settings: SignIn) -> None:
    page.fill(field, value)
    page.locator(settings.submit_button).first.click()


def _state(page: Page, selectors: dict[str, str]) -> dict | None:
    try:
        return page.evaluate(_PAGE_STATE, selectors)
    except PlaywrightError:
        return None  # the page is navigating


def _await_answer(page: Page, selectors: dict[str, str], step: str, still_on_sign_in, deadline: float) -> None:
    """After submitting a step: until the page shows another step, an error, or leaves sign-in.

    Entra moves between steps without navigating, so a navigation event is not a signal to rely on.
    """
    while time.monotonic() < deadline and still_on_sign_in():
        state = _state(page, selectors)
        if state is not None and (state["step"] != step or state["error"]):
            return
        page.wait_for_timeout(POLL_MS)


def sign_in(page: Page, secrets: SignInSecrets, settings: SignIn, still_on_sign_in, deadline: float) -> SignInAttempt:
    """Answer sign-in pages until the browser leaves them (`still_on_sign_in()` is False) or a step fails."""
    attempt = SignInAttempt()
    answered: dict[str, int] = {}
    selectors = {
        "push": settings.push_approval,
        "consent": settings.consent,
        "code": settings.code_field,
        "password": settings.password_field,
        "username": settings.username_field,
        "stay": settings.stay_signed_in_no,
        "error": settings.error_text,
    }
    while time.monotonic() < deadline:
        if not still_on_sign_in():
            attempt.succeeded = True
            attempt.message = "signed in unattended"
            return attempt
        state = _state(page, selectors)
        step = state and state["step"]
        if step is None:
            page.wait_for_timeout(POLL_MS)
            continue
        if step in CANNOT:
            return _stop(attempt, step, CANNOT[step])
        if answered.get(step, 0):
            refusal = f": {redact_text(state['error'])}" if state["error"] else ""
            return _stop(attempt, step, f"the {step} was refused{refusal}")
        try:
            if step == "account":
                _fill_and_submit(page, settings.username_field, secrets.username, settings)
            elif step == "password":
                _fill_and_submit(page, settings.password_field, secrets.password, settings)
            elif step == "code":
                if not secrets.totp_secret:
                    return _stop(
                        attempt, step, "the sign-in asks for an authenticator code and no TOTP secret is configured"
                    )
                _fill_and_submit(page, settings.code_field, pyotp.TOTP(secrets.totp_secret).now(), settings)
            else:
                page.click(settings.stay_signed_in_no)
        except PlaywrightError as error:
            return _stop(attempt, step, f"could not answer the {step} step: {str(error).splitlines()[0]}")
        except (ValueError, TypeError) as error:  # pyotp: the secret is not base32
            return _stop(attempt, step, f"the TOTP secret is not valid base32 ({error})")
        answered[step] = answered.get(step, 0) + 1
        attempt.steps.append(step)
        _await_answer(page, selectors, step, still_on_sign_in, deadline)
    return _stop(attempt, attempt.steps[-1] if attempt.steps else "account", "the sign-in did not finish in time")


def _stop(attempt: SignInAttempt, step: str, message: str) -> SignInAttempt:
    attempt.stopped_at = step
    attempt.message = message
    return attempt
