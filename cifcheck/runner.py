"""Run the configured targets: start the sandbox org when a target needs it, get a browser (launched, attached
over CDP, or a persistent profile), gather evidence per target, judge it, and return it for the writers."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck import __version__
from cifcheck.browser import find_browser, launch_options
from cifcheck.checks import REGISTRY, all_checks, judge_target
from cifcheck.config import (
    Config,
    ConfigError,
    Credentials,
    Target,
    reports_folder_problem,
    resolved,
    saved_session_problems,
)
from cifcheck.config_messages import did_you_mean
from cifcheck.credentials import SignInSecrets, load_secrets
from cifcheck.evidence import BrowserInfo, Evidence, Navigation, TargetInfo
from cifcheck.results import RunResult, TargetResult, not_run_target
from cifcheck.session import OpenedTarget, Phase, check_settings, gather
from cifcheck.signin import CredentialHosts, is_loopback

if TYPE_CHECKING:  # the sandbox (uvicorn, starlette) is imported only when a target needs it
    from cifcheck.sandbox.server import SandboxServer


class Progress(Protocol):
    """What a run tells while it goes (the terminal shows it): target `number` of `total`, and its phases."""

    def target_started(self, number: int, total: int, name: str) -> None: ...

    def phase(self, name: str) -> None: ...

    def target_finished(self, number: int, total: int, result: TargetResult) -> None: ...


# Set by the command's SIGINT and SIGTERM handler. A KeyboardInterrupt raised while Playwright dispatches an event
# reaches the run as a Playwright error ("Error occurred in event listener"): this says it was an interrupt.
INTERRUPTED = threading.Event()


@dataclass
class RunOutput:
    result: RunResult
    evidence: list[Evidence]


class SavedSessionError(Exception):
    """A storage state file that cannot be used: reported as the target's `error`, with the refresh hint."""


# A new context fails in a browser that is gone (crashed, killed, out of memory): no saved session is to blame.
BROWSER_CLOSED = "the browser closed during the run"


def check_targets(config: Config, output_dir: str | None = None) -> None:
    """Everything `cifcheck run` refuses that the config models cannot know, every problem listed, found before any
    browser starts so bad input never costs a run. `cifcheck config check` calls this too, so the two cannot drift.
    `output_dir` is the `--output` given, else the config's own reports folder is checked."""
    found = target_problems(config) + reports_problems(config, output_dir)
    if found:
        raise ConfigError(*found)


def target_problems(config: Config) -> list[str]:
    """Check ids and sandbox scenarios exist, the sandbox timing exists, credentials are readable, saved sessions
    are files; each line names the config file and the field."""
    from cifcheck.sandbox.scenarios import SCENARIOS, TIMINGS

    found = [*saved_session_problems(config)]
    if config.sandbox.timing not in TIMINGS:
        timing = config.sandbox.timing
        found.append(f"sandbox.timing: unknown sandbox timing {timing!r}{_known(timing, TIMINGS)}")
    for index, target in enumerate(config.targets):
        for check_id in target.checks or []:
            if check_id not in REGISTRY:
                found.append(f"targets[{index}].checks: unknown check id {check_id!r}{_known(check_id, REGISTRY)}")
        scenario = target.sandbox_scenario
        if target.is_sandbox and scenario not in SCENARIOS:
            found.append(f"targets[{index}].url: unknown sandbox scenario {scenario!r}{_known(scenario, SCENARIOS)}")
        try:
            secrets_for(target, config)
        except ConfigError as error:
            found.extend(str(error).splitlines())
    source = f"{config.source_file}: " if config.source_file else ""
    return [source + problem for problem in found]


def reports_problems(config: Config, output_dir: str | None) -> list[str]:
    """The reports folder (`--output`, else `output_dir`) can be written, and holds no saved session."""
    option, reports = ("--output", output_dir) if output_dir else ("output_dir", config.output_dir)
    problem = reports_folder_problem(reports)
    found = [f"{option}: {problem}"] if problem else []
    owners = [("in auth.storage_state", config.auth.storage_state)]
    owners += [(f"of {t.name}", t.storage_state) for t in config.targets if t.storage_state]
    for owner, state in owners:
        if resolved(state).is_relative_to(resolved(reports)):
            found.append(f"{option}: {reports} holds the saved session {owner} ({state}); write reports elsewhere")
    profile = config.auth.user_data_dir  # its cookies are a saved session too
    if profile and resolved(profile).is_relative_to(resolved(reports)):
        found.append(
            f"{option}: {reports} holds the browser profile in auth.user_data_dir ({profile}); write reports elsewhere"
        )
    return found


def _known(word: str, choices: Iterable[str]) -> str:
    """A near miss suggested, else the choices listed."""
    return did_you_mean(word, choices) or f" (known: {', '.join(choices)})"


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M%S-%f")[:-3]


@contextlib.contextmanager
def sandbox_if_needed(config: Config, running: SandboxServer | None = None) -> Iterator[SandboxServer | None]:
    """The sandbox org for sandbox:// targets: the one given, or one started for this run."""
    if running is not None or not any(target.is_sandbox for target in config.targets):
        yield running
        return
    from cifcheck.sandbox.server import SandboxServer

    with SandboxServer(latency_ms=config.sandbox.latency_ms) as server:
        yield server


def credentials_for(target: Target, config: Config) -> Credentials | None:
    """Where this target's sign-in secrets are. A sandbox target uses only credentials it names itself: the
    account in CIFCHECK_USERNAME is for the user's real org, never typed into the sandbox's sign-in page."""
    if target.is_sandbox or config.browser.cdp_endpoint:
        # Nor, over CDP, into the browser of the person cifcheck attached to, unless the target asks for it.
        return target.credentials
    return target.credentials or config.auth.credentials


def secrets_for(target: Target, config: Config) -> SignInSecrets | None:
    """The target's sign-in secrets, read now, or None when it has none."""
    credentials = credentials_for(target, config)
    return load_secrets(credentials) if credentials else None


def storage_state_path(target: Target, config: Config) -> Path:
    return Path(target.storage_state or config.auth.storage_state)


def open_target(target: Target, config: Config, sandbox: SandboxServer | None) -> tuple[OpenedTarget, list[dict]]:
    """Where the target is, its sign-in secrets, and the cookies to start with.

    A sandbox target without a saved session of its own gets a session the sandbox issues, as a saved sign-in
    would give; one that names a storage state uses it, so sign-in and expiry are tested for real.
    """
    secrets = secrets_for(target, config)
    sign_in_hosts = config.sign_in.all_hosts
    credential_hosts = tuple(config.sign_in.credential_hosts)
    if not target.is_sandbox:
        # An org served over http from this machine is a sandbox (`cifcheck sandbox serve`), and so is its sign-in.
        org = urlsplit(target.url)
        local = org.scheme == "http" and is_loopback((org.hostname or "").lower())
        allowed = CredentialHosts(
            credential_hosts, http_on_loopback=local, certificates_checked=not config.browser.ignore_https_errors
        )
        return OpenedTarget(target, target.url, sign_in_hosts, secrets, allowed), []
    from cifcheck.sandbox.app import SESSION_COOKIE
    from cifcheck.sandbox.scenarios import get_scenario

    try:
        get_scenario(target.sandbox_scenario)
    except KeyError as error:
        raise ConfigError(f"target {target.name}: url: {error.args[0]}") from None
    assert sandbox is not None, "sandbox targets run with a sandbox server"
    org_url = sandbox.urls.org(target.sandbox_scenario, config.sandbox.timing)
    allowed = CredentialHosts(
        (*credential_hosts, "login.localhost"),
        http_on_loopback=True,
        certificates_checked=not config.browser.ignore_https_errors,
    )
    opened = OpenedTarget(target, org_url, (*sign_in_hosts, "login.localhost"), secrets, allowed)
    if target.storage_state or secrets or config.browser.cdp_endpoint or config.auth.user_data_dir:
        return opened, []
    token = sandbox.app.state.issue_session()
    return opened, [{"name": SESSION_COOKIE, "value": token, "url": org_url}]


@dataclass
class Browsers:
    """How each target gets its browser context.

    A launched (or given) browser gives every target a fresh context with its own saved session. A browser
    attached over CDP or a persistent profile is the user's own: its context is used as it is, never closed.
    """

    info: BrowserInfo
    browser: Browser | None = None
    shared: BrowserContext | None = None

    @contextlib.contextmanager
    def context_for(self, target: Target, config: Config, cookies: list[dict]) -> Iterator[BrowserContext]:
        if self.shared is not None:
            yield self.shared
            return
        assert self.browser is not None
        options: dict = {
            "viewport": {"width": config.browser.viewport_width, "height": config.browser.viewport_height},
            "ignore_https_errors": config.browser.ignore_https_errors,
        }
        state = storage_state_path(target, config)
        if state.is_file() and (target.storage_state or not target.is_sandbox):
            options["storage_state"] = str(state)
        try:
            context = self.browser.new_context(**options)
        except (PlaywrightError, ValueError, OSError) as error:
            why = str(error).splitlines()[0]
            if not self.browser.is_connected():
                raise SavedSessionError(f"{BROWSER_CLOSED} ({why})") from None
            raise SavedSessionError(f"the saved session {state} could not be loaded ({why})") from None
        try:
            if cookies:
                context.add_cookies(cookies)
            yield context
        finally:
            context.close()


@contextlib.contextmanager
def browsers(config: Config, running: Browser | None = None) -> Iterator[Browsers]:
    if running is not None:
        yield Browsers(BrowserInfo(name=running.browser_type.name, version=running.version, source="given"), running)
        return
    with sync_playwright() as playwright:
        if config.browser.cdp_endpoint:
            attached = playwright.chromium.connect_over_cdp(config.browser.cdp_endpoint)
            info = BrowserInfo(name="chromium", version=attached.version, source=f"CDP {config.browser.cdp_endpoint}")
            context = attached.contexts[0] if attached.contexts else attached.new_context()
            yield Browsers(info, shared=context)  # leaving sync_playwright only disconnects: the user's tabs stay
            return
        choice = find_browser(config.browser)
        options = launch_options(choice, config.browser.headless)
        if config.auth.user_data_dir:
            viewport = {"width": config.browser.viewport_width, "height": config.browser.viewport_height}
            profile = playwright.chromium.launch_persistent_context(
                config.auth.user_data_dir,
                viewport=viewport,
                ignore_https_errors=config.browser.ignore_https_errors,
                **options,
            )
            version = profile.browser.version if profile.browser else ""
            try:
                yield Browsers(BrowserInfo(name="chromium", version=version, source=choice.describe()), shared=profile)
            finally:
                profile.close()
            return
        browser = playwright.chromium.launch(**options)
        try:
            yield Browsers(
                BrowserInfo(name=browser.browser_type.name, version=browser.version, source=choice.describe()), browser
            )
        finally:
            browser.close()


def _unusable_session(target: Target, opened: OpenedTarget, config: Config, info: BrowserInfo, why: str) -> Evidence:
    """Evidence for a target whose saved session could not even be loaded: every check but sign-in skips."""
    return Evidence(
        cifcheck_version=__version__,
        target=TargetInfo(name=target.name, url=target.url, app=target.app, opened_url=opened.app_url),
        settings=check_settings(config, target),
        browser=info,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        navigation=Navigation(requested_url=opened.app_url, error=why),
    )


def _validate_target(
    browsers_: Browsers, target: Target, config: Config, sandbox: SandboxServer | None, phase: Phase | None
) -> tuple[TargetResult, Evidence]:
    """One target: one page load, its evidence, and the verdicts on it."""
    opened, cookies = open_target(target, config, sandbox)
    try:
        with browsers_.context_for(target, config, cookies) as context:
            evidence = gather(context, opened, config, browsers_.info, phase)
    except SavedSessionError as error:
        evidence = _unusable_session(target, opened, config, browsers_.info, str(error))
    return judge_target(evidence, target.checks), evidence


def _not_run(target: Target) -> TargetResult:
    checks = [(c.id, c.title) for c in all_checks() if target.checks is None or c.id in target.checks]
    return not_run_target(target.name, target.url, target.app, checks)


def run(
    config: Config,
    progress: Progress | None = None,
    sandbox: SandboxServer | None = None,
    browser: Browser | None = None,
) -> RunOutput:
    """Validate every target. `sandbox` (a running sandbox server) and `browser` (a launched browser, left open)
    are reused when given, as the test suite and a pytest plugin do. The reports folder is the caller's.

    A KeyboardInterrupt (Ctrl-C; the command turns SIGTERM into one too) stops the run at once: the page, the
    browser and the sandbox close as the interrupt leaves them, and the result holds the finished targets, the
    others marked not run, with `interrupted` set."""
    found = target_problems(config)
    if found:
        raise ConfigError(*found)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    results: list[TargetResult] = []
    evidences: list[Evidence] = []
    browser_name = ""
    interrupted = False
    total = len(config.targets)
    try:
        with sandbox_if_needed(config, sandbox) as sandbox, browsers(config, browser) as browsers_:
            browser_name = f"{browsers_.info.name} {browsers_.info.version}"
            for number, target in enumerate(config.targets, start=1):
                if progress:
                    progress.target_started(number, total, target.name)
                phase = progress.phase if progress else None
                result, evidence = _validate_target(browsers_, target, config, sandbox, phase)
                if INTERRUPTED.is_set():  # the interrupt reached this target as an error: it is not run, not judged
                    raise KeyboardInterrupt
                results.append(result)
                evidences.append(evidence)
                if progress:
                    progress.target_finished(number, total, result)
    except (KeyboardInterrupt, PlaywrightError) as error:
        if isinstance(error, PlaywrightError) and not INTERRUPTED.is_set():
            raise
        interrupted = True
        results += [_not_run(target) for target in config.targets[len(results) :]]
    run_result = RunResult(
        run_id=new_run_id(started_at),
        cifcheck_version=__version__,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        browser=browser_name,
        targets=results,
        interrupted=interrupted,
    )
    return RunOutput(run_result, evidences)
