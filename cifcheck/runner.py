"""Run the configured targets: start the sandbox org when a target needs it, launch the browser, gather
evidence per target in its own context, judge it, and hand everything to the report writers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Playwright, sync_playwright

from cifcheck import __version__
from cifcheck.browser import BrowserChoice, find_browser
from cifcheck.checks import REGISTRY, judge_target
from cifcheck.config import Config, ConfigError, Target
from cifcheck.evidence import BrowserInfo, Evidence
from cifcheck.results import RunResult, TargetResult
from cifcheck.session import OpenedTarget, gather

Progress = Callable[[str, TargetResult | None], None]


@dataclass
class RunOutput:
    result: RunResult
    evidence: list[Evidence]


def validate_selection(config: Config) -> None:
    """Check ids in targets must exist; a typo would otherwise silently check nothing."""
    for index, target in enumerate(config.targets):
        for check_id in target.checks or []:
            if check_id not in REGISTRY:
                known = ", ".join(REGISTRY)
                raise ConfigError(f"targets[{index}].checks: unknown check id {check_id!r} (known: {known})")


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M%S-%f")[:-3]


@contextlib.contextmanager
def _sandbox_if_needed(config: Config, running: object | None) -> Iterator[object | None]:
    if running is not None or not any(target.is_sandbox for target in config.targets):
        yield running
        return
    from cifcheck.sandbox.server import SandboxServer

    with SandboxServer(latency_ms=config.sandbox.latency_ms) as server:
        yield server


def _launch(playwright: Playwright, config: Config, choice: BrowserChoice) -> Browser:
    if config.browser.cdp_endpoint:
        return playwright.chromium.connect_over_cdp(config.browser.cdp_endpoint)
    return playwright.chromium.launch(
        executable_path=choice.executable_path,
        channel=choice.channel,
        headless=config.browser.headless,
        args=list(choice.args),
    )


def _open(target: Target, config: Config, sandbox: object | None) -> tuple[OpenedTarget, list[dict]]:
    """The URL to open and the cookies to start with (the sandbox issues its own saved session)."""
    sign_in_hosts = tuple(config.sign_in.hosts)
    if not target.is_sandbox:
        return OpenedTarget(target, target.url, sign_in_hosts), []
    from cifcheck.sandbox.app import SESSION_COOKIE
    from cifcheck.sandbox.scenarios import get_scenario

    try:
        get_scenario(target.sandbox_scenario)
    except KeyError as error:
        raise ConfigError(f"target {target.name}: url: {error.args[0]}") from None
    org_url = sandbox.urls.org(target.sandbox_scenario)  # type: ignore[attr-defined]
    cookie = {"name": SESSION_COOKIE, "value": sandbox.app.state.issue_session(), "url": org_url}  # type: ignore[attr-defined]
    return OpenedTarget(target, org_url, (*sign_in_hosts, "login.localhost")), [cookie]


def _context_options(target: Target, config: Config) -> dict:
    options: dict = {"viewport": {"width": config.browser.viewport_width, "height": config.browser.viewport_height}}
    state = Path(target.storage_state or config.auth.storage_state)
    if not target.is_sandbox and state.is_file():
        options["storage_state"] = str(state)
    return options


def _validate_target(
    browser: Browser, info: BrowserInfo, target: Target, config: Config, sandbox: object | None
) -> tuple[TargetResult, Evidence]:
    """One target in a fresh context: one page load, its evidence, and the verdicts on it."""
    opened, cookies = _open(target, config, sandbox)
    context = browser.new_context(**_context_options(target, config))
    try:
        if cookies:
            context.add_cookies(cookies)
        evidence = gather(context, opened, config, info)
    finally:
        context.close()
    return judge_target(evidence, target.checks), evidence


@contextlib.contextmanager
def _browser(config: Config, running: Browser | None) -> Iterator[tuple[Browser, BrowserInfo]]:
    if running is not None:
        yield running, BrowserInfo(name=running.browser_type.name, version=running.version, source="given")
        return
    choice = find_browser(config.browser) if not config.browser.cdp_endpoint else BrowserChoice("cdp")
    with sync_playwright() as playwright:
        browser = _launch(playwright, config, choice)
        try:
            yield (
                browser,
                BrowserInfo(name=browser.browser_type.name, version=browser.version, source=choice.describe()),
            )
        finally:
            browser.close()


def run(
    config: Config, progress: Progress | None = None, sandbox: object | None = None, browser: Browser | None = None
) -> RunOutput:
    """Validate every target. `sandbox` (a running sandbox server) and `browser` (a launched browser, left open)
    are reused when given, as the test suite and a pytest plugin do."""
    validate_selection(config)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    results: list[TargetResult] = []
    evidences: list[Evidence] = []
    with _sandbox_if_needed(config, sandbox) as sandbox, _browser(config, browser) as (browser, info):
        for target in config.targets:
            if progress:
                progress(target.name, None)
            result, evidence = _validate_target(browser, info, target, config, sandbox)
            results.append(result)
            evidences.append(evidence)
            if progress:
                progress(target.name, result)
    run_result = RunResult(
        run_id=new_run_id(started_at),
        cifcheck_version=__version__,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        browser=f"{info.name} {info.version}",
        targets=results,
    )
    return RunOutput(run_result, evidences)
