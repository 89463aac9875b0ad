"""Evidence shaped like what a run gathers on each sandbox scenario, built by hand (no browser): the scenario's
org state turned into the facts the probes would record. tests/test_fixes.py checks that the verdicts on it are the
ones the catalogue declares before judging the fixes, so this stays faithful to the scenarios."""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

from cifcheck.evidence import (
    Box,
    CifMessage,
    ConsoleEntry,
    DataverseEvidence,
    Evidence,
    ObservationEvidence,
    ResourceLoad,
    WidgetFrame,
)
from cifcheck.probes.dataverse import read_dataverse
from cifcheck.sandbox.records import USER_ID as SANDBOX_USER_ID
from cifcheck.sandbox.records import build as build_records
from cifcheck.sandbox.scenarios import APPS, SCENARIOS, Provider, Scenario
from tests.evidence_factory import EXTENSIONS, LIBRARY_URL, ORG, healthy_evidence, library_load, storage, widget

V1_LIBRARY_URL = f"{ORG}/CRMClients/msdyn_internal_ci_library.js"
WIDGET_HOST = "https://widget.contoso.sandbox"
LANDING_HOST = "https://landing.contoso.sandbox"
MODES = {0: "minimized", 1: "docked", 2: "hidden", 3: "collapsed"}


def evidence_for(scenario: Scenario, config_file: str = "playwright.config.json") -> Evidence:
    """The evidence of a run of `sandbox://<scenario>` as target `<scenario>`."""
    evidence = healthy_evidence()
    evidence.target.name = scenario.name
    evidence.target.url = f"sandbox://{scenario.name}"
    evidence.target.app = scenario.app
    evidence.settings.expected_app = scenario.app
    evidence.settings.config_file = config_file
    assert evidence.app is not None
    evidence.app.app_id, evidence.app.app_display_name = APPS[scenario.app]
    evidence.app.url_app_id = evidence.app.app_id
    evidence.app.app_unique_name = scenario.app
    if scenario.signed_out or scenario.shell_status >= 400:
        return _not_opened(evidence, scenario)
    providers, gets_the_profile = _session(scenario)
    _storage(evidence, scenario, providers, gets_the_profile)
    _library(evidence, scenario, gets_the_profile)
    if scenario.cif1_active:
        evidence.resources.append(ResourceLoad(url=V1_LIBRARY_URL, resource_type="script", status=200))
    evidence.dataverse = records_evidence(scenario)
    _panel(evidence, scenario, providers)
    return evidence


def _session(scenario: Scenario) -> tuple[list[Provider], bool]:
    """The providers the session gets, and whether it gets the migration's profile (its loader among them)."""
    story = scenario.records
    gets_the_profile = bool(story.profile_name) and story.assignment in ("direct", "role")
    providers = list(scenario.providers) if gets_the_profile and story.attached else []
    if story.detached_provider is not None:
        providers.append(story.detached_provider)
    return providers, gets_the_profile


class _StoreRequests:
    """The sandbox org's Web API without a server: what cifcheck's request API would be answered."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._records = build_records(scenario, _channel_url)

    def get(self, url: str, **options: object) -> SimpleNamespace:
        parts = urlsplit(url)
        path = unquote(parts.path.removeprefix("/api/data/v9.2/"))
        if path.split("(")[0] in self._scenario.web_api_refused:
            return _answer(403, {"error": {"message": "missing prvRead privilege"}})
        if path == "WhoAmI":
            return _answer(200, {"UserId": SANDBOX_USER_ID})
        headers = options.get("headers") or {}
        query = parse_qsl(parts.query, keep_blank_values=True)
        answer = self._records.store.get(path, query, headers.get("Prefer", ""), f"{ORG}/api/data/v9.2/")  # type: ignore[union-attr]
        return _answer(answer.status, answer.body)


def _answer(status: int, body: dict) -> SimpleNamespace:
    data = json.dumps(body).encode()
    return SimpleNamespace(status=status, headers={}, body=lambda: data, dispose=lambda: None)


def records_evidence(scenario: Scenario) -> DataverseEvidence:
    """What cifcheck's Web API reads record on the scenario's org (a copy: callers may change it)."""
    return _records_evidence(scenario.name).model_copy(deep=True)


@functools.cache
def _records_evidence(name: str) -> DataverseEvidence:
    """Read once per scenario and test process: 5,000 providers take seconds."""
    return read_records_of(SCENARIOS[name])


def read_records_of(scenario: Scenario) -> DataverseEvidence:
    """A new read of the scenario's records (a new fingerprint key)."""
    context = SimpleNamespace(request=_StoreRequests(scenario), cookies=lambda url: [])
    page = SimpleNamespace(url=f"{ORG}/main.aspx", context=context)
    return read_dataverse(page, (urlsplit(ORG).hostname,), scenario.app)  # type: ignore[arg-type]


def _not_opened(evidence: Evidence, scenario: Scenario) -> Evidence:
    navigation = evidence.navigation
    navigation.app_ready, navigation.ready_ms = False, None
    evidence.app = evidence.resources = evidence.storage = evidence.panel = evidence.console = None
    if scenario.shell_status >= 400:
        navigation.status = scenario.shell_status
        navigation.error = f"the org answered HTTP {scenario.shell_status} ({navigation.requested_url})"
        return evidence
    navigation.sign_in_page = True
    if scenario.identity_provider == "entra":
        navigation.final_url = "http://login.localhost:8400/common/oauth2/authorize?client_id=x"
    else:
        navigation.final_url = f"http://idp.localhost:8400/{scenario.identity_provider}/sign-in"
        navigation.sign_in_recognised_by = "its sign-in form"
    return evidence


def _storage(evidence: Evidence, scenario: Scenario, session: list[Provider], gets_the_profile: bool) -> None:
    providers = [
        {"uniqueName": p.unique_name, "label": p.label, "channelUrl": _channel_url(p), "sortOrder": str(p.sort_order)}
        for p in session
    ]
    extensions = list(EXTENSIONS)
    if scenario.loader == "missing" or not gets_the_profile:
        extensions = extensions[1:]
    elif scenario.loader == "wrong-resource":
        extensions[0] = {"uniqueName": "msdyn_CIFV2Loader", "webResourceUrl": "WebResources/msdyn_cifloader_custom.js"}
    values = {f"{scenario.storage_key_prefix}applicationExtensions": json.dumps(extensions)}
    if scenario.write_providers_key:
        values[f"{scenario.storage_key_prefix}channelProviders"] = json.dumps(providers)
    evidence.storage = storage(**values)


def _library(evidence: Evidence, scenario: Scenario, gets_the_profile: bool) -> None:
    assert evidence.resources is not None
    evidence.resources = [load for load in evidence.resources if load.url != LIBRARY_URL]
    if scenario.loader != "present" or not gets_the_profile:
        return
    if scenario.org_down_after_shell:
        evidence.resources.append(library_load(status=None, failure="net::ERR_CONNECTION_REFUSED"))
        _console(evidence, "Failed to load resource: net::ERR_CONNECTION_REFUSED", LIBRARY_URL)
        return
    evidence.resources.append(library_load(status=scenario.library_status))
    if scenario.library_status >= 400:
        status = scenario.library_status
        _console(evidence, f"Failed to load resource: the server responded with a status of {status}", LIBRARY_URL)


def _panel(evidence: Evidence, scenario: Scenario, providers: list[Provider]) -> None:
    assert evidence.panel is not None and evidence.resources is not None
    panel = evidence.panel
    requested = [
        mode for p in providers for mode in (p.mode_on_init, *(m for _, m in p.later_modes)) if mode is not None
    ]
    several = len(providers) > 1
    mode = 1 if several or not requested else requested[-1]
    panel.host_messages = [CifMessage(type="setmode", value=value) for value in requested]
    panel.xrm_state = mode
    if MODES[mode] == "hidden":
        panel.visible = False
    elif MODES[mode] == "minimized":
        panel.box = Box(x=49, y=48, width=377, height=34)
    elif MODES[mode] == "collapsed":
        panel.box = Box(x=49, y=48, width=24, height=720)
    panel.widgets = [_widget(evidence, scenario, provider) for provider in providers]
    if several and any(p.mode_on_init is not None for p in providers):
        _console(evidence, "setmode: This operation can be performed from the active provider", "")


def _channel_url(provider: Provider) -> str:
    host = LANDING_HOST if provider.channel_host == "landing" else WIDGET_HOST
    return f"{host}/{provider.unique_name}/index.html?uci=true{provider.channel_fragment}"


def _widget(evidence: Evidence, scenario: Scenario, provider: Provider) -> WidgetFrame:
    assert evidence.resources is not None
    url = _channel_url(provider)
    document = ResourceLoad(url=url, resource_type="document", status=provider.widget_status)
    frame = widget(title=provider.label, src=url, url=url)
    if provider.widget_never_answers:
        document.status = None
        frame.cif_init_done = False
        evidence.observation = ObservationEvidence(settle_max_ms=60_000, settled_by="time limit")
    elif provider.refuses_framing:
        document.frame_options = "X-Frame-Options: DENY; frame-ancestors 'none'"
        frame.url, frame.cif_init_done = "chrome-error://chromewebdata/", False
        _console(evidence, f"Refused to display '{url}' in a frame because of frame-ancestors 'none'.", "")
    elif provider.widget_status >= 400:
        frame.cif_init_done = False
        _console(
            evidence, f"Failed to load resource: the server responded with a status of {provider.widget_status}", url
        )
    evidence.resources.append(document)
    if provider.channel_host == "landing":
        final = url.replace(LANDING_HOST, WIDGET_HOST)
        document.status, document.redirected_to = 302, final
        evidence.resources.append(ResourceLoad(url=final, resource_type="document", status=200))
        refused = "Sender domain is not a recognised or is invalid and hence the message cant be processed"
        frame.messages = [CifMessage(outcome="failure", text=refused)]
        _console(evidence, refused, final)
        url = final
    if document.status is not None and document.status < 400 and not document.frame_options:
        library = f"{ORG}/webresources/Widget/msdyn_ciLibrary.js"
        evidence.resources.append(ResourceLoad(url=library, resource_type="script", status=200, frame_url=url))
    return frame


def _console(evidence: Evidence, text: str, source_url: str) -> None:
    evidence.console = [*(evidence.console or []), ConsoleEntry(level="error", text=text, source_url=source_url)]
