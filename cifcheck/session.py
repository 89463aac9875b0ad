"""Open one target in a browser context, wait for positive signals, and gather its Evidence.

One page load per target: recorders listen from before navigation, the wait ends as soon as the evidence
decides (or an absent signal's short settle window passes once the app is ready), then every probe reads
the same page. A probe that fails is recorded as evidence; the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from cifcheck import __version__
from cifcheck.browser import close_page
from cifcheck.config import Config, Target
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import BrowserInfo, CheckSettings, Evidence, Navigation, TargetInfo
from cifcheck.probes.app import read_app
from cifcheck.probes.console import ConsoleRecorder
from cifcheck.probes.dataverse import read_dataverse
from cifcheck.probes.network import NetworkRecorder
from cifcheck.probes.panel import OBSERVER_SCRIPT, observed_in, read_panel, widget_elements
from cifcheck.probes.sign_in_page import TITLE_MAX, SignInWatch, is_sign_in_host
from cifcheck.probes.storage import read_storage
from cifcheck.redact import redact_text, redact_url
from cifcheck.signin import sign_in

POLL_MS = 50
SIGN_IN_POLL_MS = 10  # the page reports its sign-in step by itself; this only picks the report up


@dataclass(frozen=True)
class OpenedTarget:
    """Where a target really is: the URL to open, and the host names that mean 'sign-in page'."""

    target: Target
    org_url: str
    sign_in_hosts: tuple[str, ...]
    secrets: SignInSecrets | None = None

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
        expect=target.expect,
        checks=target.checks,
        panel=config.panel,
    )


def _now_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _wait_for_app(
    page: Page,
    opened: OpenedTarget,
    config: Config,
    navigation: Navigation,
    started: float,
    ready_ms: int,
    watch: SignInWatch,
) -> None:
    """Until the app shell is ready or a sign-in page shows; fills `navigation`."""
    ready_expression = f"() => !!({config.selectors.app_ready})"
    deadline = time.monotonic() + ready_ms / 1000
    arrived: float | None = None  # when the page came to the sign-in host
    while time.monotonic() < deadline:
        if is_sign_in_host(page.url, opened.sign_in_hosts):
            arrived = arrived or time.monotonic()
            if opened.secrets is not None and navigation.sign_in is None:
                navigation.sign_in = sign_in(
                    page,
                    opened.secrets,
                    config.sign_in,
                    lambda: is_sign_in_host(page.url, opened.sign_in_hosts),
                    deadline,
                )
                if not navigation.sign_in.succeeded:
                    navigation.sign_in_page = True
                    return
                continue
            # Single sign-on passes through the sign-in host without showing a form: only a page that asks for
            # something, or stays, is a sign-in page.
            lingered = time.monotonic() - arrived >= config.sign_in.settle_ms / 1000
            look = watch.latest
            if navigation.sign_in is not None or lingered or (look is not None and look.step is not None):
                navigation.sign_in_page = True
                if look is not None:
                    navigation.title = redact_text(look.title)  # the page's own report: no round trip
                return
            page.wait_for_timeout(SIGN_IN_POLL_MS)
            continue
        arrived = None
        try:
            if page.evaluate(ready_expression):
                navigation.app_ready = True
                navigation.ready_ms = _now_ms(started)
                return
        except PlaywrightError:
            pass  # the document is being replaced (redirects); try again on the next tick
        page.wait_for_timeout(POLL_MS)


_EMPTY_VALUES = ("", "[]", "{}", "null", '""')

_SIGNALS = """([providersPattern, extensionsPattern, providersKey, extensionsKey, libraryFile, panelSelector]) => {
  const keys = Object.keys(sessionStorage);
  const find = (exact, pattern) => keys.includes(exact) ? exact : keys.find((k) => new RegExp(pattern, "i").test(k));
  const providers = find(providersKey, providersPattern);
  const extensions = find(extensionsKey, extensionsPattern);
  const panel = typeof Xrm !== "undefined" ? Xrm.Panel : undefined;
  const state = panel && typeof panel.state === "number" ? panel.state : null;
  return {
    // Only the CIF keys count as progress: a real org keeps writing other keys (telemetry, caches).
    keys: keys.filter((k) => k === providers || k === extensions),
    providers: providers === undefined ? null : (sessionStorage.getItem(providers) || "").trim().slice(0, 64),
    extensionsPresent: extensions !== undefined,
    extensionsMentionLibrary: extensions !== undefined &&
      (sessionStorage.getItem(extensions) || "").toLowerCase().includes(libraryFile.toLowerCase()),
    panelFound: !!document.querySelector(panelSelector),
    panelState: state,
    hostMessages: window.__cifcheck ? window.__cifcheck.messages.length : 0,
  };
}"""


def _js_pattern(pattern: str) -> str:
    """A Python regex as JavaScript's RegExp reads it (the inline (?i) flag is passed separately)."""
    return pattern.removeprefix("(?i)")


def _widgets_decided(page: Page, config: Config, network: NetworkRecorder) -> tuple[bool, tuple]:
    """Whether every provider frame has finished (CIF init done, or its load failed), and their states."""
    states = []
    for element in widget_elements(page, config.selectors):
        frame = element.content_frame()
        src = redact_url(element.evaluate("(frame) => frame.src || ''") or "")
        observed = observed_in(frame)
        init_done = bool(observed and observed["initDone"])
        failed = frame is None or frame.url.startswith("chrome-error:") or network.document_failed(src)
        states.append((src, init_done, failed, len(observed["messages"]) if observed else 0))
    decided = bool(states) and all(init_done or failed for _, init_done, failed, _ in states)
    return decided, tuple(states)


def _settle(page: Page, config: Config, settings: CheckSettings, network: NetworkRecorder) -> str:
    """Wait until every signal the evidence needs is decided, then a short quiet moment for late mode changes.

    Signals: the CIF library's answer (or the profile showing it will never be requested), both storage keys
    (or the app having finished without one), and, when a panel is expected, every provider frame done.
    Whatever stays undecided gets `settle_ms` after the last CIF-related change, not the whole timeout.
    """
    arguments = [
        _js_pattern(settings.channel_providers_pattern),
        _js_pattern(settings.application_extensions_pattern),
        settings.channel_providers_key,
        settings.application_extensions_key,
        settings.library_file,
        config.selectors.panel_frame,
    ]
    quiet_s = config.timeouts.quiet_ms / 1000
    settle_s = config.timeouts.settle_ms / 1000
    # A page that never stops changing (a busy real org) still ends here.
    limit = time.monotonic() + config.timeouts.settle_max_ms / 1000
    last_state: object = None
    changed_at = time.monotonic()
    while True:
        try:
            signals = page.evaluate(_SIGNALS, arguments)
            widgets_done, widget_states = _widgets_decided(page, config, network)
        except PlaywrightError:
            signals, widgets_done, widget_states = None, False, ()
        now = time.monotonic()
        state = (network.cif_changes, repr(signals), widget_states)
        if state != last_state:
            last_state, changed_at = state, now
        if signals is not None:
            library_ok = network.succeeded(settings.library_file)
            library_decided = network.finished(settings.library_file) or (
                signals["extensionsPresent"] and not signals["extensionsMentionLibrary"]
            )
            panel_expected = library_ok and signals["providers"] not in (None, *_EMPTY_VALUES)
            panel_decided = not panel_expected or (signals["panelFound"] and widgets_done)
            keys_decided = (signals["providers"] is not None and signals["extensionsPresent"]) or (
                library_decided and panel_decided and signals["extensionsPresent"]
            )
            if library_decided and panel_decided and keys_decided and now - changed_at >= quiet_s:
                return "every signal"
        if now - changed_at >= settle_s:
            return "settle window"
        if now >= limit:
            return "time limit"
        page.wait_for_timeout(POLL_MS)


def _probe(evidence: Evidence, name: str, read: Callable[[], object]) -> None:
    try:
        setattr(evidence, name, read())
    except Exception as error:  # a probe's failure is evidence, not a crash
        evidence.probe_errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


_TITLE_WHEN_PARSED = """() => document.readyState !== "loading" ? document.title
  : new Promise((done) => document.addEventListener("DOMContentLoaded", () => done(document.title), { once: true }))"""


def open_app(
    page: Page,
    opened: OpenedTarget,
    config: Config,
    navigation: Navigation,
    started: float,
    ready_ms: int | None = None,
) -> Navigation:
    """Open the app URL in `page`, a fresh page, and wait until the app shell is ready or a sign-in page stays;
    fills `navigation`."""
    try:
        watch = SignInWatch(page, config.sign_in, opened.sign_in_hosts)
        navigation.navigation_start_ms = _now_ms(started)
        response = page.goto(opened.app_url, wait_until="commit", timeout=config.timeouts.navigation_ms)
        navigation.status = response.status if response else None
        _wait_for_app(page, opened, config, navigation, started, ready_ms or config.timeouts.ready_ms, watch)
    except PlaywrightError as error:
        navigation.error = str(error).splitlines()[0]
    navigation.final_url = redact_url(page.url)
    if not navigation.title:  # a sign-in page's title came with its one look
        try:
            # One round trip, answered once the document is parsed (a sign-in page may still be loading).
            navigation.title = redact_text(page.evaluate(_TITLE_WHEN_PARSED))[:TITLE_MAX]
        except PlaywrightError:
            navigation.title = ""
    return navigation


def gather(context: BrowserContext, opened: OpenedTarget, config: Config, browser: BrowserInfo) -> Evidence:
    """Open the target in a new page of `context`, gather its evidence, and close the page."""
    page = context.new_page()
    try:
        return gather_on_page(page, opened, config, browser)
    finally:
        close_page(page)


def gather_on_page(page: Page, opened: OpenedTarget, config: Config, browser: BrowserInfo) -> Evidence:
    """One page load of the target in `page`, then every probe on that same page."""
    target = opened.target
    settings = check_settings(config, target)
    started_wall = time.time()
    started = time.monotonic()
    page.add_init_script(OBSERVER_SCRIPT)
    network = NetworkRecorder(page, started_wall, settings.library_file)
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
    open_app(page, opened, config, navigation, started)
    if navigation.app_ready:
        try:
            navigation.settled_by = _settle(page, config, settings, network)
        except PlaywrightError as error:
            navigation.error = str(error).splitlines()[0]
    navigation.redirects = [
        load.url for load in network.loads() if load.resource_type == "document" and load.redirected_to
    ]
    if navigation.app_ready:
        _probe(evidence, "app", lambda: read_app(page, config.selectors.session_tab))
        _probe(evidence, "storage", lambda: read_storage(page, settings))
        _probe(evidence, "panel", lambda: read_panel(page, config.selectors))
        _probe(evidence, "dataverse", lambda: read_dataverse(page))
    evidence.resources = network.loads()
    evidence.console = console.entries()
    evidence.duration_ms = _now_ms(started)
    return evidence
