"""Open one target in a browser context, wait for positive signals, and gather its Evidence.

One page load per target: recorders listen from before navigation, the wait ends as soon as the evidence
decides (or an absent signal's short settle window passes once the app is ready), then every probe reads
the same page. A probe that fails is recorded as evidence; the run goes on.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from cifcheck import __version__
from cifcheck.config import Config, Target
from cifcheck.evidence import BrowserInfo, CheckSettings, Evidence, Navigation, TargetInfo
from cifcheck.probes.app import read_app
from cifcheck.probes.console import ConsoleRecorder
from cifcheck.probes.network import NetworkRecorder
from cifcheck.probes.storage import read_storage, storage_keys
from cifcheck.redact import redact_url

POLL_MS = 50


@dataclass(frozen=True)
class OpenedTarget:
    """Where a target really is: the URL to open, and the host names that mean 'sign-in page'."""

    target: Target
    org_url: str
    sign_in_hosts: tuple[str, ...]

    @property
    def app_url(self) -> str:
        return f"{self.org_url}/main.aspx?{self.target.app_query}"


def check_settings(config: Config, target: Target) -> CheckSettings:
    keys = config.storage_keys
    return CheckSettings(
        library_file=keys.library_file,
        loader_name=keys.loader_name,
        channel_providers_key=keys.channel_providers,
        application_extensions_key=keys.application_extensions,
        channel_providers_pattern=keys.channel_providers_pattern,
        application_extensions_pattern=keys.application_extensions_pattern,
        expected_app=target.app,
        expect=target.expect.model_dump(),
    )


def is_sign_in_host(url: str, hosts: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(fnmatch.fnmatch(host, pattern.lower()) for pattern in hosts)


def _now_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _wait_for_app(page: Page, opened: OpenedTarget, config: Config, navigation: Navigation, started: float) -> None:
    """Until the app shell is ready or a sign-in page shows; fills `navigation`."""
    ready_expression = f"() => !!({config.selectors.app_ready})"
    deadline = time.monotonic() + config.timeouts.ready_ms / 1000
    while time.monotonic() < deadline:
        if is_sign_in_host(page.url, opened.sign_in_hosts):
            navigation.sign_in_page = True
            return
        try:
            if page.evaluate(ready_expression):
                navigation.app_ready = True
                navigation.ready_ms = _now_ms(started)
                return
        except PlaywrightError:
            pass  # the document is being replaced (redirects); try again on the next tick
        page.wait_for_timeout(POLL_MS)


def _settle(page: Page, config: Config, settings: CheckSettings, network: NetworkRecorder) -> None:
    """Until every awaited signal is decided, or nothing changed for the settle window."""
    provider_key = re.compile(settings.channel_providers_pattern)
    extension_key = re.compile(settings.application_extensions_pattern)
    settle_s = config.timeouts.settle_ms / 1000
    last_state: object = None
    quiet_since = time.monotonic()
    while True:
        try:
            keys = storage_keys(page)
        except PlaywrightError:
            keys = []
        library_done = network.finished(settings.library_file)
        keys_done = any(k == settings.channel_providers_key or provider_key.search(k) for k in keys) and any(
            k == settings.application_extensions_key or extension_key.search(k) for k in keys
        )
        if library_done and keys_done:
            return
        state = (network.changes, tuple(keys))
        if state != last_state:
            last_state, quiet_since = state, time.monotonic()
        elif time.monotonic() - quiet_since >= settle_s:
            return
        page.wait_for_timeout(POLL_MS)


def _probe(evidence: Evidence, name: str, read: Callable[[], object]) -> None:
    try:
        setattr(evidence, name, read())
    except Exception as error:  # a probe's failure is evidence, not a crash
        evidence.probe_errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def gather(context: BrowserContext, opened: OpenedTarget, config: Config, browser: BrowserInfo) -> Evidence:
    target = opened.target
    settings = check_settings(config, target)
    started_wall = time.time()
    started = time.monotonic()
    page = context.new_page()
    network = NetworkRecorder(page, started_wall)
    console = ConsoleRecorder(page)
    navigation = Navigation(requested_url=redact_url(opened.app_url))
    evidence = Evidence(
        cifcheck_version=__version__,
        target=TargetInfo(name=target.name, url=target.url, app=target.app, opened_url=redact_url(opened.app_url)),
        settings=settings,
        browser=browser,
        started_at=datetime.fromtimestamp(started_wall, UTC).isoformat(timespec="seconds"),
        navigation=navigation,
    )
    try:
        response = page.goto(opened.app_url, wait_until="commit", timeout=config.timeouts.navigation_ms)
        navigation.status = response.status if response else None
        _wait_for_app(page, opened, config, navigation, started)
        if navigation.sign_in_page:
            page.wait_for_load_state("domcontentloaded", timeout=config.timeouts.navigation_ms)
        elif navigation.app_ready:
            _settle(page, config, settings, network)
    except PlaywrightError as error:
        navigation.error = str(error).splitlines()[0]
    navigation.final_url = redact_url(page.url)
    navigation.redirects = [
        load.url for load in network.loads() if load.resource_type == "document" and load.redirected_to
    ]
    try:
        navigation.title = page.title()
    except PlaywrightError:
        navigation.title = ""
    if navigation.app_ready:
        _probe(evidence, "app", lambda: read_app(page, config.selectors.session_tab))
        _probe(evidence, "storage", lambda: read_storage(page, settings))
    evidence.resources = network.loads()
    evidence.console = console.entries()
    evidence.duration_ms = _now_ms(started)
    page.close()
    return evidence
