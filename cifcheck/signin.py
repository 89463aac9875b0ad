"""Unattended sign-in: answer a sign-in page with the configured account, password and TOTP code.

It handles what a script can answer (account, password, authenticator code, "Stay signed in?") and stops
with a clear reason at what it cannot: a push approval, a consent prompt, a refused password or code, or a
page that asks the same thing again. Every secret it types is registered for redaction first.

Credentials go only where they belong: into the top frame of a page served over https from a host that
`sign_in.credential_hosts` names (plain http only for a sandbox org on this machine), checked right before each
field is filled, because the page can navigate between steps.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from cifcheck.config import SignIn
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import SignInAttempt
from cifcheck.probes.sign_in_page import STEP_SHOWN, VISIBLE, host_regex, step_selectors
from cifcheck.redact import register_secret
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


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, localhost and *.localhost (which Chromium resolves to this machine by itself)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class CredentialHosts:
    """Where unattended sign-in may type credentials: `patterns` (sign_in.credential_hosts, exact or wildcards)."""

    patterns: tuple[str, ...]
    # The sandbox serves its sign-in pages over http from this machine; no real identity provider does.
    http_on_loopback: bool = False
    # With browser.ignore_https_errors a certificate proves nothing: then only this machine's hosts get credentials.
    certificates_checked: bool = True

    def withheld_from(self, url: str) -> str | None:
        """None when credentials may be typed into the page at `url`; else the page's origin, to name it."""
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:  # a port that is no number, a broken IPv6 address
            return url[:100]
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()
        matched = [pattern.lower() for pattern in self.patterns if re.fullmatch(host_regex(pattern), host)]
        if parts.scheme == "https":
            # A certificate proves the host; which ports of it serve sign-in pages only a host named exactly says.
            allowed = bool(matched) and (host in matched or port in (None, 443))
            allowed = allowed and (self.certificates_checked or is_loopback(host))
        else:
            allowed = parts.scheme == "http" and bool(matched) and self.http_on_loopback and is_loopback(host)
        return None if allowed else origin


NOWHERE = CredentialHosts(())


def withhold(attempt: SignInAttempt, origin: str, step: str) -> SignInAttempt:
    """Stop `attempt` at `step`: the page at `origin` may not receive credentials, and got none."""
    if origin.startswith("https://"):
        host = urlsplit(origin).hostname or origin
        next_step = f"if it really is your identity provider, add {host} to sign_in.credential_hosts"
    else:
        next_step = (
            "the page is not served over https, so anyone on the way could read what is typed; if it really is "
            "your identity provider, have it served over https and add its host to sign_in.credential_hosts"
        )
    attempt.succeeded, attempt.unexpected_host = False, origin
    message = f"sign-in page on an unexpected host {origin}; cifcheck did not type your credentials; {next_step}"
    return _stop(attempt, step, message)


def _selectors(settings: SignIn) -> dict[str, str]:
    return {**step_selectors(settings), "error": settings.error_text}


def _state(page: Page, selectors: dict[str, str]) -> dict | None:
    try:
        return page.evaluate(_PAGE_STATE, selectors)
    except PlaywrightError:
        return None  # the page is navigating


def _answer(
    page: Page, step: str, secrets: SignInSecrets, settings: SignIn, allowed: CredentialHosts, timeout_ms: float
) -> str | None:
    """Answer `step`; the origin of the page when it may not receive credentials, and nothing was typed."""
    page.evaluate(_MARK_ANSWERED, step)
    if step == "stay-signed-in":
        button = settings.stay_signed_in_yes if settings.stay_signed_in else settings.stay_signed_in_no
        page.click(button, timeout=timeout_ms)
        return None
    if step == "code":
        assert secrets.totp_secret is not None
        code = totp_now(secrets.totp_secret)
        register_secret(code)
        field, value = settings.code_field, code
    elif step == "password":
        field, value = settings.password_field, secrets.password
    else:
        field, value = settings.username_field, secrets.username
    # The field of the top frame's document as it is now: a frame's field (another origin, perhaps) is never found,
    # and once the page navigates, this element is gone and filling it fails instead of typing into the next page.
    element = page.main_frame.locator(field).first.element_handle(timeout=timeout_ms)
    refused = allowed.withheld_from(page.url)  # after the field is found: the URL of the document it belongs to
    if refused:
        return refused
    element.fill(value, timeout=timeout_ms)
    page.locator(settings.submit_button).first.click(timeout=timeout_ms)
    return None


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
    page: Page,
    secrets: SignInSecrets,
    settings: SignIn,
    allowed: CredentialHosts,
    still_on_sign_in: Callable[[], bool],
    deadline: float,
) -> SignInAttempt:
    """Answer sign-in pages until the browser leaves them (`still_on_sign_in()` is False) or a step fails; type
    credentials only into pages `allowed` admits."""
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
            refusal = f": {state['error']}" if state["error"] else " (the page asked for it again)"
            return _stop(attempt, step, f"the {step} was refused{refusal}")
        if step == "code" and not secrets.totp_secret:
            return _stop(attempt, step, "the sign-in asks for an authenticator code; no TOTP secret is configured")
        remaining_ms = max((deadline - time.monotonic()) * 1000, 1)
        try:
            refused = _answer(page, step, secrets, settings, allowed, min(remaining_ms, ACTION_TIMEOUT_MS))
        except PlaywrightError as error:
            return _stop(attempt, step, f"could not answer the {step} step: {str(error).splitlines()[0]}")
        except TotpSecretError as error:
            return _stop(attempt, step, str(error))
        if refused:
            return withhold(attempt, refused, step)
        answered.add(step)
        attempt.steps.append(step)
        _await_answer(page, selectors, step, lambda: not still_on_sign_in(), deadline)
    return _stop(attempt, attempt.steps[-1] if attempt.steps else "account", "the sign-in did not finish in time")


def _stop(attempt: SignInAttempt, step: str, message: str) -> SignInAttempt:
    attempt.stopped_at = step
    attempt.message = message
    return attempt
