"""Open one target in a browser context, watch it settle, and gather its Evidence.

One page load per target: recorders listen from before navigation; the app shell's readiness (or a sign-in page,
or an error answer) ends the first wait; the observation model (observation.py) decides when the org's CIF state
has settled; then every probe reads the same page. A probe that fails is recorded as evidence; the run goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Request, Response
from playwright.sync_api import Error as PlaywrightError

from cifcheck import __version__
from cifcheck.browser import close_page
from cifcheck.checks import judge_target
from cifcheck.config import Config, ConfigError, Selectors, Target, predicate
from cifcheck.credentials import SignInSecrets
from cifcheck.evidence import BrowserInfo, CheckSettings, Evidence, Navigation, SignInAttempt, TargetInfo
from cifcheck.observation import Watch, merge_set_mode_requests
from cifcheck.probes.app import read_app
from cifcheck.probes.console import ConsoleRecorder
from cifcheck.probes.dataverse import read_dataverse
from cifcheck.probes.network import NetworkRecorder
from cifcheck.probes.panel import FrameReports, read_panel
from cifcheck.probes.screenshot import page_screenshot
from cifcheck.probes.sign_in_page import SignInWatch, identity_provider_url, is_sign_in_host
from cifcheck.probes.storage import read_storage
from cifcheck.redact import register_cookie_values
from cifcheck.signin import NOWHERE, CredentialHosts, sign_in, withhold

POLL_MS = 50
SIGN_IN_POLL_MS = 10  # the page reports its sign-in step by itself; this only picks the report up

# Told where a target's gathering is, in words for people ("waiting for the app"), as it moves on (the terminal's
# progress line). Called from the thread that runs the target.
Phase = Callable[[str], None]


def _no_phase(name: str) -> None:
    pass


@dataclass(frozen=True)
class OpenedTarget:
    """Where a target really is: the URL to open, the host names that mean 'sign-in page', and where its
    credentials may be typed (nowhere, unless told)."""

    target: Target
    org_url: str
    sign_in_hosts: tuple[str, ...]
    secrets: SignInSecrets | None = None
    credential_hosts: CredentialHosts = NOWHERE

    @property
    def org_hosts(self) -> tuple[str, ...]:
        return ((urlsplit(self.org_url).hostname or "").lower(),)

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
        records=config.records,
        config_file=config.source_file,
    )


def _now_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


class TopDocument:
    """The top frame's latest document answer, so that an org answering the app page with an error, or a page
    that failed to load, is judged within seconds instead of after the whole ready timeout."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self.status: int | None = None
        self.failure: str | None = None
        self.url = ""
        self.at = 0.0
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def _is_top_document(self, request: Request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self._page.main_frame
        except Exception:  # service-worker requests have no frame
            return False

    def _on_response(self, response: Response) -> None:
        if self._is_top_document(response.request) and not 300 <= response.status < 400:
            self.status, self.failure, self.url, self.at = response.status, None, response.url, time.monotonic()

    def _on_failed(self, request: Request) -> None:
        # ERR_ABORTED is a document replaced by the next navigation; its event can come after the next document's
        # answer (a script redirect to errorhandler.aspx on a busy machine), and must not hide that answer.
        if request.failure == "net::ERR_ABORTED":
            return
        if self._is_top_document(request):
            self.status, self.failure, self.url, self.at = None, request.failure, request.url, time.monotonic()

    def error(self, org_url: str, linger_ms: int) -> str | None:
        """Why the page will not become the app, once the error answer has stayed `linger_ms`; else None."""
        if time.monotonic() - self.at < linger_ms / 1000:
            return None  # an error page may still move on by itself (a retry, a redirect)
        if self.failure:
            return f"the page failed to load: {self.failure} ({self.url})"
        on_org = (urlsplit(self.url).hostname or "") == (urlsplit(org_url).hostname or "")
        if self.status is not None and self.status >= 400 and on_org:
            return f"the org answered HTTP {self.status} ({self.url})"
        if on_org and urlsplit(self.url).path.lower().endswith("/errorhandler.aspx"):
            # Unified Interface's own error page, e.g. when the page it restored from session storage is gone.
            return f"the org showed its error page ({self.url}); open the app URL by hand to see it"
        return None


def _wait_for_app(
    page: Page,
    opened: OpenedTarget,
    config: Config,
    navigation: Navigation,
    started: float,
    ready_ms: int,
    watch: SignInWatch,
    top: TopDocument,
    phase: Phase = _no_phase,
) -> None:
    """Until the app shell is ready, a sign-in page shows, or the org answers with an error; fills `navigation`."""
    ready_expression = predicate(config.selectors.app_ready)
    deadline = time.monotonic() + ready_ms / 1000
    arrived: float | None = None  # when the page came to the sign-in host
    off_org = _OffOrg()
    while time.monotonic() < deadline:
        failed = top.error(opened.org_url, config.timeouts.error_page_ms)
        if failed:
            navigation.error = failed
            return
        if is_sign_in_host(page.url, opened.sign_in_hosts):
            arrived = arrived or time.monotonic()
            if opened.secrets is not None and navigation.sign_in is None:
                phase("signing in")
                navigation.sign_in = sign_in(
                    page,
                    opened.secrets,
                    config.sign_in,
                    opened.credential_hosts,
                    lambda: is_sign_in_host(page.url, opened.sign_in_hosts),
                    deadline,
                )
                if not navigation.sign_in.succeeded:
                    navigation.sign_in_page = True
                    return
                phase("waiting for the app")
                continue
            # Single sign-on passes through the sign-in host without showing a form: only a page that asks for
            # something, or stays, is a sign-in page.
            lingered = time.monotonic() - arrived >= config.sign_in.settle_ms / 1000
            look = watch.latest
            if navigation.sign_in is not None or lingered or (look is not None and look.step is not None):
                navigation.sign_in_page = True
                if look is not None:
                    navigation.title = look.title  # the page's own report: no round trip
                return
            page.wait_for_timeout(SIGN_IN_POLL_MS)
            continue
        arrived = None
        try:
            if page.evaluate(ready_expression):
                navigation.app_ready = True
                navigation.ready_ms = round(_now_ms(started) - (navigation.navigation_start_ms or 0), 1)
                return
        except PlaywrightError:
            pass  # the document is being replaced (redirects); try again on the next tick
        # Only a page that is not the app: an org may serve its app from another host name than the one configured,
        # and an app page can hold a form with an e-mail field.
        if _left_for_a_sign_in_page(page.url, opened, config, watch, navigation, off_org):
            origin = opened.credential_hosts.withheld_from(page.url)
            if opened.secrets is not None and origin:  # say why the credentials configured were not used
                # Perhaps after steps on a credential host: Entra sends a federated account to its own provider.
                step = (watch.latest.step if watch.latest else None) or "account"
                navigation.sign_in = withhold(navigation.sign_in or SignInAttempt(), origin, step)
            return
        page.wait_for_timeout(POLL_MS)


@dataclass
class _OffOrg:
    """Which host off the org the top page is on, and since when: a sign-in URL counts once it stays."""

    host: str = ""
    since: float = 0.0


def _left_for_a_sign_in_page(
    url: str, opened: OpenedTarget, config: Config, watch: SignInWatch, navigation: Navigation, off_org: _OffOrg
) -> bool:
    """Whether the page left the org for another identity provider's sign-in page (a host sign_in.hosts does not
    name). A visible password field decides at once. A user-name field alone (a newsletter form has one too), or a
    URL that is an OAuth 2.0, SAML or WS-Federation request (single sign-on passes through those), decides once the
    page stays `sign_in.foreign_settle_ms`. Fills `navigation` when it did."""
    host = (urlsplit(url).hostname or "").lower() if url.startswith(("http://", "https://")) else ""
    if not host or host in opened.org_hosts:
        off_org.host = ""
        return False
    if off_org.host != host:
        off_org.host, off_org.since = host, time.monotonic()
    look = watch.latest
    protocol = identity_provider_url(url)
    step = look.step if look is not None else None
    stayed = time.monotonic() - off_org.since >= config.sign_in.foreign_settle_ms / 1000
    if not (step in ("password", "code", "push") or (stayed and (protocol is not None or step is not None))):
        return False
    navigation.sign_in_page = True
    navigation.sign_in_recognised_by = f"its {protocol} URL" if protocol else "its sign-in form"
    if look is not None:
        navigation.title = look.title
    return True


def _probe(evidence: Evidence, name: str, read: Callable[[], object]) -> None:
    try:
        setattr(evidence, name, read())
    except Exception as error:  # a probe's failure is evidence, not a crash
        evidence.probe_errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


# Compiles each function without calling it. Only a SyntaxError counts: a page's policy may forbid compiling
# (EvalError), and names the app defines (Xrm) are unknown before it loads.
_SYNTAX_ERRORS = """(sources) => sources.map((source) => {
  try { new Function("return (" + source + ");"); return null; }
  catch (error) { return error instanceof SyntaxError ? String(error) : null; }
})"""


def check_expressions(page: Page, selectors: Selectors) -> None:
    """Bad input when `selectors.app_ready` or `selectors.app_idle` is not JavaScript: one line naming it, at once,
    instead of a wait for the whole ready timeout on an expression that can never be true."""
    fields = {"selectors.app_ready": selectors.app_ready, "selectors.app_idle": selectors.app_idle}
    try:
        errors = page.evaluate(_SYNTAX_ERRORS, [predicate(expression) for expression in fields.values()])
    except PlaywrightError:
        return  # a page that cannot be asked: the wait itself says what is wrong
    for field, error in zip(fields, errors, strict=True):
        if error:
            raise ConfigError(f"{field}: not a valid JavaScript expression ({error})")


TITLE_WAIT_MS = 2_000  # how long the title read waits for the document to be parsed


def _title(page: Page) -> str:
    """The page's title once its document is parsed (a sign-in page may still be loading), or as far as it came
    within `TITLE_WAIT_MS`: a page that streams its body for ever is never parsed. The limit is Playwright's own,
    kept outside the page, where no page script can stop a timer from firing."""
    with contextlib.suppress(PlaywrightError):
        page.wait_for_function("() => document.readyState !== 'loading'", timeout=TITLE_WAIT_MS, polling=50)
    return page.title()


def open_app(
    page: Page,
    opened: OpenedTarget,
    config: Config,
    navigation: Navigation,
    started: float,
    ready_ms: int | None = None,
    phase: Phase = _no_phase,
) -> Navigation:
    """Open the app URL in `page`, a fresh page, and wait until the app shell is ready or a sign-in page stays;
    fills `navigation`. ConfigError when a `selectors` expression does not compile."""
    check_expressions(page, config.selectors)
    try:
        watch = SignInWatch(page, config.sign_in, opened.sign_in_hosts, opened.org_hosts)
        top = TopDocument(page)
        navigation.navigation_start_ms = _now_ms(started)
        phase("opening the app")
        response = page.goto(opened.app_url, wait_until="commit", timeout=config.timeouts.navigation_ms)
        navigation.status = response.status if response else None
        ready_ms = ready_ms or config.timeouts.ready_ms
        phase("waiting for the app")
        _wait_for_app(page, opened, config, navigation, started, ready_ms, watch, top, phase)
    except PlaywrightError as error:
        navigation.error = str(error).splitlines()[0]
    navigation.final_url = page.url
    if not navigation.title:  # a sign-in page's title came with its one look
        try:
            navigation.title = _title(page)
        except PlaywrightError:
            navigation.title = ""
    return navigation


def gather(
    context: BrowserContext, opened: OpenedTarget, config: Config, browser: BrowserInfo, phase: Phase | None = None
) -> Evidence:
    """Open the target in a new page of `context`, gather its evidence, and close the page; `phase` is told
    where the gathering is."""
    page = context.new_page()
    try:
        return gather_on_page(page, opened, config, browser, phase or _no_phase)
    finally:
        close_page(page)


def gather_on_page(
    page: Page, opened: OpenedTarget, config: Config, browser: BrowserInfo, phase: Phase = _no_phase
) -> Evidence:
    """One page load of the target in `page`, then every probe on that same page."""
    target = opened.target
    settings = check_settings(config, target)
    register_cookie_values_of(page.context)  # a saved session's cookies, before any page can echo them
    started_wall = time.time()
    started = time.monotonic()
    frames = FrameReports(page)
    network = NetworkRecorder(page, started_wall, settings.library_file)
    console = ConsoleRecorder(page)
    navigation = Navigation(requested_url=opened.app_url)
    target_info = TargetInfo(name=target.name, url=target.url, app=target.app, opened_url=opened.app_url)
    evidence = Evidence(
        cifcheck_version=__version__,
        target=target_info,
        settings=settings,
        browser=browser,
        started_at=datetime.fromtimestamp(started_wall, UTC).isoformat(timespec="seconds"),
        navigation=navigation,
    )
    open_app(page, opened, config, navigation, started, phase=phase)
    watch: Watch | None = None
    if navigation.app_ready:
        phase("watching the CIF state")
        watch = Watch(
            page, config, settings, network, frames, target_info, started, navigation.navigation_start_ms or 0
        )
        try:
            evidence.observation = watch.run()
            navigation.settled_by = evidence.observation.settled_by
        except PlaywrightError as error:
            navigation.error = str(error).splitlines()[0]
    # The network as it stood when the watch ended: what comes later (a request during the probes) belongs to a
    # state the watch never judged, and would make the library evidence disagree with the panel's.
    resources = network.loads()
    navigation.redirects = [load.url for load in resources if load.resource_type == "document" and load.redirected_to]
    if navigation.app_ready:
        phase("reading the page")
        _probe(evidence, "app", lambda: read_app(page, config.selectors.session_tab))
        _probe(evidence, "storage", lambda: read_storage(page, settings))
        _probe(evidence, "panel", lambda: read_panel(page, config.selectors, frames, network.frame_index))
        phase("reading records")
        # The app's unique name: an app id is named by the page when it can (no read for it), else by the Web API.
        app = (evidence.app.app_unique_name if evidence.app else None) or target.app
        _probe(
            evidence,
            "dataverse",
            lambda: read_dataverse(page, opened.org_hosts, app, config.records.view_name),
        )
    if evidence.observation and evidence.panel and watch and watch.page_offset_ms is not None:
        merge_set_mode_requests(evidence.observation, evidence.panel, watch.page_offset_ms)
    evidence.resources = resources
    evidence.console = console.entries()
    # What the browser shows now: an error's picture in the report (a sign-in page, an error page, an app that never
    # became ready). The checks are pure and fast, so they tell here whether there is an error to picture: a
    # screenshot costs the browser a frame's rendering and encoding, which most targets do not need.
    if any(check.status == "error" for check in judge_target(evidence, target.checks).checks):
        evidence.screenshot_jpeg_base64 = page_screenshot(page)
    evidence.duration_ms = _now_ms(started)
    # The evidence is built once more through the boundary (evidence.py): cookies set during this load (a sign-in)
    # are secrets too, for text recorded before cifcheck knew them; and values put into the models' lists and
    # dicts in place (which assignment validation does not see) are redacted and capped like the rest.
    register_cookie_values_of(page.context)
    return Evidence.model_validate(evidence.model_dump())


def register_cookie_values_of(context: BrowserContext) -> None:
    """Registers the context's cookie values as known secrets."""
    try:
        values = [cookie["value"] for cookie in context.cookies()]
    except PlaywrightError:
        return  # the browser is gone: nothing more is recorded either
    register_cookie_values(values)
