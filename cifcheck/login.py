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
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck.browser import close_page, find_browser, launch_options
from cifcheck.config import Config, Target, predicate
from cifcheck.evidence import Navigation
from cifcheck.probes.sign_in_page import is_sign_in_host
from cifcheck.runner import open_target, sandbox_if_needed, storage_state_path
from cifcheck.session import OpenedTarget, check_expressions, open_app
from cifcheck.signin import sign_in

if TYPE_CHECKING:
    from cifcheck.sandbox.server import SandboxServer

POLL_MS = 250
Person = Callable[[Page], None]


class LoginError(Exception):
    """Sign-in did not complete: one line for the person, exit code 2."""


@dataclass(frozen=True)
class LoginOutcome:
    saved_to: Path | None
    user: str


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


def _sign_in_here(
    context: BrowserContext, target: Target, config: Config, sandbox: SandboxServer | None, person: Person | None
) -> LoginOutcome:
    """Sign in within `context`; save its storage state unless it is a persistent profile (that keeps itself)."""
    opened, _sandbox_session = open_target(target, config, sandbox)  # login starts signed out, on purpose
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
        path = storage_state_path(target, config)
        save_owner_only(path, context.storage_state())
        return LoginOutcome(path, user)
    finally:
        close_page(page)


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

    `person` stands in for the human in tests: it gets the page once it shows the sign-in form.
    """
    with sandbox_if_needed(config, sandbox) as sandbox:
        if browser is not None:
            context = browser.new_context()
            try:
                return _sign_in_here(context, target, config, sandbox, person)
            finally:
                context.close()
        choice = find_browser(config.browser)
        opened, _ = open_target(target, config, sandbox)
        if headless is None:
            headless = opened.secrets is not None  # a person needs a window; unattended sign-in does not
        if headless and opened.secrets is None and person is None:
            raise LoginError(
                "--headless needs credentials for unattended sign-in (CIFCHECK_USERNAME and CIFCHECK_PASSWORD, "
                "or auth.credentials); without them nobody could sign in"
            )
        if (
            not headless
            and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        ):
            raise LoginError(
                "no display to open a browser window on; sign in on a desktop and copy the saved session here, or "
                "set CIFCHECK_USERNAME and CIFCHECK_PASSWORD (and CIFCHECK_TOTP_SECRET) for unattended sign-in"
            )
        options = launch_options(choice, headless)
        with sync_playwright() as playwright:
            try:
                if config.auth.user_data_dir:
                    context = playwright.chromium.launch_persistent_context(config.auth.user_data_dir, **options)
                else:
                    context = playwright.chromium.launch(**options).new_context()
            except PlaywrightError as error:
                raise LoginError(f"the browser did not start: {str(error).splitlines()[0]}") from None
            try:
                return _sign_in_here(context, target, config, sandbox, person)
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
            return False, f"{what} has expired; run `cifcheck login --target {opened.target.name}`"
        return False, f"{what} did not open the app: {navigation.error or navigation.final_url}"
    finally:
        close_page(page)


def check_saved_session(
    config: Config, target: Target, sandbox: SandboxServer | None = None, browser: Browser | None = None
) -> tuple[bool, str]:
    """Whether the saved session (or the persistent profile) still opens the app, without a full run:
    (valid, one line to show). It only looks: it never signs in."""
    profile = config.auth.user_data_dir
    path = storage_state_path(target, config)
    if not profile and not path.is_file():
        return False, f"no saved session at {path}; run `cifcheck login --target {target.name}`"
    what = f"the browser profile {profile}" if profile else f"the saved session {path}"
    with sandbox_if_needed(config, sandbox) as sandbox:
        opened = replace(open_target(target, config, sandbox)[0], secrets=None)
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
