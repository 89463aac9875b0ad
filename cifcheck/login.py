"""`cifcheck login`: sign in once and save the session for later headless runs; `--check` tells whether a
saved session still opens the app.

The session is Playwright's storage state (cookies and local storage), written owner-only (file 0600,
folder 0700), never inside the reports folder. Session storage is not part of it (Playwright does not save
it), which is why every run reads the CIF keys from a freshly loaded page.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck.browser import close_page, find_browser, launch_fix, launch_options
from cifcheck.checks import fixes
from cifcheck.checks.fixes import SANDBOX_ACCOUNT
from cifcheck.config import Config, Target, predicate
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import Navigation
from cifcheck.probes.sign_in_page import is_sign_in_host
from cifcheck.redact import register_secret
from cifcheck.runner import credentials_for, hosts_started, open_target, secrets_for, storage_state_path
from cifcheck.session import OpenedTarget, check_expressions, open_app
from cifcheck.signin import sign_in
from cifcheck.targets import RunningHost

if TYPE_CHECKING:
    from cifcheck.sandbox.server import SandboxServer

POLL_MS = 250
Person = Callable[[Page], None]


class LoginError(Exception):
    """Sign-in did not complete: one line for the person, exit code 2."""


class NothingToSignIn(Exception):
    """The target needs no sign-in (a sandbox target the sandbox issues a session to): one line, exit code 0."""


@dataclass(frozen=True)
class LoginOutcome:
    saved_to: Path | None
    user: str
    note: str = ""  # what the person should know about this session (a sandbox one does not outlive its process)


SANDBOX_SESSION_NOTE = (
    "A sandbox session lasts as long as the sandbox process that issued it, and this command's sandbox has stopped: "
    "each `cifcheck run` starts its own, where this target signs in again with its credentials, or, with only a "
    "storage_state, lands on the sign-in page (which is what such a target tests)."
)


def login_command(target: Target, config: Config) -> str:
    return fixes.login_command(target.name, config.source_file)


def nothing_to_sign_in(target: Target, config: Config) -> str | None:
    """Why a sandbox target needs no sign-in, or None when it asks for one (its own storage_state or credentials,
    a persistent profile): one line for `login` and `login --check`."""
    if not target.is_sandbox or target.storage_state or credentials_for(target, config) or config.auth.user_data_dir:
        return None
    return (
        f"{target.name} is a sandbox target ({target.url}): every run gets a session the sandbox issues itself, so "
        "there is nothing to sign in to and nothing to save; `cifcheck run` works as it is"
    )


def _sandbox_check(target: Target, config: Config) -> tuple[bool, str]:
    """`login --check` for a sandbox target that asks for sign-in, with no sandbox running to check against."""
    if credentials_for(target, config) is not None and secrets_for(target, config) is not None:
        return True, f"{target.name} is a sandbox target: each run signs in to the sandbox with its credentials"
    if credentials_for(target, config) is not None:
        return (
            False,
            f"{target.name} is a sandbox target that signs in with its own credentials: {_credentials(target, config)}",
        )
    return False, (
        f"{target.name} is a sandbox target with its own storage_state: a sandbox session never outlives the sandbox "
        "process that issued it, so every run lands on the sign-in page (how expiry is tested). To have it sign in, "
        f"give it credentials for the sandbox's test account ({SANDBOX_ACCOUNT}); or remove storage_state to use the "
        "session the sandbox issues"
    )


def _credentials(target: Target, config: Config) -> str:
    """Exactly where unattended sign-in reads this target's account and password from, as a sentence's end."""
    spec = credentials_for(target, config)
    if spec is None:
        why = "a sandbox target" if target.is_sandbox else "over --cdp, a target"
        return f"give {target.name} a credentials field ({why} uses only the credentials it names itself)"
    where = "its own credentials field" if target.credentials is not None else "auth.credentials"
    account = f" (the sandbox's test account: {SANDBOX_ACCOUNT})" if target.is_sandbox else ""
    return (
        f"for {target.name}, set {spec.username_env} and {spec.password_env}{account}, and {spec.totp_secret_env} "
        f"if the account asks for an authenticator code (names from {where})"
    )


def save_owner_only(path: Path, data: dict) -> None:
    """Write JSON readable by its owner only, atomically: its folder 0700, the file 0600. A failure leaves no
    half-written copy behind (it would hold live cookies)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise LoginError(f"{path}: cannot save the session there: {error.strerror or error}") from None


def _user_name(page: Page) -> str:
    try:
        return page.evaluate("() => Xrm.Utility.getGlobalContext().userSettings.userName") or "an unnamed user"
    except PlaywrightError:
        return "an unnamed user"


def _wait_until_signed_in(page: Page, config: Config, sign_in_hosts: tuple[str, ...], timeout_s: float) -> None:
    ready = predicate(config.selectors.app_ready)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_sign_in_host(page.url, sign_in_hosts):
            try:
                if page.evaluate(ready):
                    return
            except PlaywrightError:
                pass  # between documents
        page.wait_for_timeout(POLL_MS)
    raise LoginError(f"sign-in did not finish within {timeout_s:.0f} s; run `cifcheck login` again")


def _sign_in_here(context: BrowserContext, opened: OpenedTarget, config: Config, person: Person | None) -> LoginOutcome:
    """Sign in within `context`; save its storage state unless it is a persistent profile (that keeps itself)."""
    page = context.new_page()
    try:
        check_expressions(page, config.selectors)  # before the person signs in, not after login_timeout_s
        try:
            page.goto(opened.app_url, timeout=config.timeouts.navigation_ms)
        except PlaywrightError as error:
            raise LoginError(f"{opened.app_url}: the org could not be opened ({str(error).splitlines()[0]})") from None
        if person is not None:
            person(page)
        elif opened.secrets is not None and is_sign_in_host(page.url, opened.sign_in_hosts):
            deadline = time.monotonic() + config.auth.login_timeout_s
            attempt = sign_in(
                page,
                opened.secrets,
                config.sign_in,
                opened.credential_hosts,
                lambda: is_sign_in_host(page.url, opened.sign_in_hosts),
                deadline,
            )
            if not attempt.succeeded:
                raise LoginError(f"unattended sign-in stopped at the {attempt.stopped_at} step: {attempt.message}")
        _wait_until_signed_in(page, config, opened.sign_in_hosts, config.auth.login_timeout_s)
        user = _user_name(page)
        if config.auth.user_data_dir:
            return LoginOutcome(None, user)
        path = storage_state_path(opened.target, config)
        save_owner_only(path, context.storage_state())
        return LoginOutcome(path, user)
    finally:
        close_page(page)


def _opened_for_login(
    target: Target, config: Config, hosts: Mapping[str, RunningHost], person: Person | None, headless: bool | None
) -> OpenedTarget:
    """Where to sign in, signed out on purpose. A sandbox target with no credentials of its own signs in with the
    sandbox's test account, unless a person signs in (`--headed`)."""
    opened, _sandbox_session = open_target(target, config, hosts)
    if target.is_sandbox and opened.secrets is None and person is None and headless is not False:
        from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_USER

        register_secret(SANDBOX_PASSWORD)  # scrubbed like any password in use, though the README prints it
        opened = replace(opened, secrets=SignInSecrets(SANDBOX_USER, SANDBOX_PASSWORD))
    return opened


def login(
    config: Config,
    target: Target,
    *,
    headless: bool | None = None,
    person: Person | None = None,
    sandbox: SandboxServer | None = None,
    browser: Browser | None = None,
) -> LoginOutcome:
    """Open the target's org signed out, let the person (or unattended sign-in) sign in, and save the session.

    `person` stands in for the human in tests: it gets the page once it shows the sign-in form. A sandbox target
    that needs no sign-in raises NothingToSignIn; one signed in to a sandbox this call started gets a note saying
    the session ends with it.
    """
    if target.is_sandbox and sandbox is None:
        reason = nothing_to_sign_in(target, config)
        if reason is not None:
            raise NothingToSignIn(reason)
        from cifcheck.sandbox.server import SandboxServer

        with SandboxServer(latency_ms=config.sandbox.latency_ms) as own:
            outcome = login(config, target, headless=headless, person=person, sandbox=own, browser=browser)
        return replace(outcome, note=SANDBOX_SESSION_NOTE)
    with hosts_started(config, sandbox) as hosts:
        opened = _opened_for_login(target, config, hosts, person, headless)
        if browser is not None:
            context = browser.new_context()
            try:
                return _sign_in_here(context, opened, config, person)
            finally:
                context.close()
        choice = find_browser(config.browser)
        if headless is None:
            headless = opened.secrets is not None  # a person needs a window; unattended sign-in does not
        if headless and opened.secrets is None and person is None:
            raise LoginError(
                f"--headless needs credentials for unattended sign-in: {_credentials(target, config)}; without them "
                "nobody could sign in"
            )
        if (
            not headless
            and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        ):
            instead = (
                "; or leave out --headed: cifcheck then signs in to the sandbox with its test account"
                if target.is_sandbox
                else f", or sign in on a desktop and copy the saved session to {storage_state_path(target, config)}"
            )
            raise LoginError(
                "no display to open a browser window on (DISPLAY and WAYLAND_DISPLAY are unset); to sign in "
                f"unattended instead, {_credentials(target, config)}{instead}"
            )
        options = launch_options(choice, headless)
        with sync_playwright() as playwright:
            try:
                if config.auth.user_data_dir:
                    context = playwright.chromium.launch_persistent_context(config.auth.user_data_dir, **options)
                else:
                    context = playwright.chromium.launch(**options).new_context()
            except PlaywrightError as error:
                why = str(error).splitlines()[0]
                raise LoginError(f"the browser did not start ({why}); {launch_fix(choice)}") from None
            try:
                return _sign_in_here(context, opened, config, person)
            finally:
                context.close()
                if context.browser is not None and not config.auth.user_data_dir:
                    context.browser.close()


def _opens_the_app(context: BrowserContext, opened: OpenedTarget, config: Config, what: str) -> tuple[bool, str]:
    page = context.new_page()
    try:
        navigation = open_app(page, opened, config, Navigation(), time.monotonic())
        if navigation.app_ready:
            return True, f"{what} is valid: signed in as {_user_name(page)}"
        if navigation.sign_in_page:
            return False, f"{what} has expired; run `{login_command(opened.target, config)}`"
        return False, f"{what} did not open the app: {navigation.error or navigation.final_url}"
    finally:
        close_page(page)


def check_saved_session(
    config: Config, target: Target, sandbox: SandboxServer | None = None, browser: Browser | None = None
) -> tuple[bool, str]:
    """Whether the saved session (or the persistent profile) still opens the app, without a full run:
    (valid, one line to show). It only looks: it never signs in."""
    if target.is_sandbox and sandbox is None:
        reason = nothing_to_sign_in(target, config)
        return (True, reason) if reason is not None else _sandbox_check(target, config)
    profile = config.auth.user_data_dir
    path = storage_state_path(target, config)
    if not profile and not path.is_file():
        return False, f"no saved session at {path}; run `{login_command(target, config)}`"
    what = f"the browser profile {profile}" if profile else f"the saved session {path}"
    with hosts_started(config, sandbox) as hosts:
        opened = replace(open_target(target, config, hosts)[0], secrets=None)
        with contextlib.ExitStack() as stack:
            try:
                if profile:
                    playwright = stack.enter_context(sync_playwright())
                    options = launch_options(find_browser(config.browser))
                    context = playwright.chromium.launch_persistent_context(profile, **options)
                else:
                    if browser is None:
                        playwright = stack.enter_context(sync_playwright())
                        browser = playwright.chromium.launch(**launch_options(find_browser(config.browser)))
                        stack.callback(browser.close)
                    context = browser.new_context(storage_state=str(path))
            except (PlaywrightError, ValueError) as error:
                return False, f"{what} could not be opened ({str(error).splitlines()[0]})"
            stack.callback(context.close)
            return _opens_the_app(context, opened, config, what)
