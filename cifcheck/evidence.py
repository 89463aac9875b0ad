"""Evidence: the facts probes gather from one page load, as plain data. Checks judge it; reports show it.

Evidence is saved as `evidence.json` with every run so a support engineer can re-judge and re-render it
offline (`cifcheck report`). It never holds cookies, and session storage values only for the CIF keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from cifcheck.config import TARGET_NAME, Expectations, PanelFacts, RecordsFacts
from cifcheck.redact import REDACTED, redact_text, redact_url, redact_values

EVIDENCE_VERSION = 1

# The redaction boundary. Every value taken from a page is one of these types, so it is redacted (redact.py) and
# capped when the model is built or a field is assigned: a probe cannot forget. Caps keep evidence.json, result.json
# and the terminal sized by the number of checks, not by what a page holds; the README lists them.
TEXT_MAX = 2_000  # console lines, page errors, messages, error texts
TITLE_MAX = 500  # document and frame titles
URL_MAX = 4_000  # request, frame and page URLs
NAME_MAX = 200  # storage key names, ids, app and user names
STORAGE_VALUE_MAX = 4_000_000  # a CIF storage value: read whole up to this (a 300-provider profile is ~200 kB)


CUT_NOTE_ROOM = 64
CUT_NOTE_END = " characters in all]"


def _before_cut(text: str, limit: int) -> str:
    """A page value cut before redaction, so that redaction costs time in proportion to what is kept. The run of
    characters at the cut is dropped too: half a secret is not recognisable as one."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip().rsplit(None, 1)[0] if " " in text[:limit] else REDACTED


def _redacted(redact: Callable[[str], str], limit: int) -> BeforeValidator:
    first_cut = 2 * limit + 4_096

    def validate(value: object) -> object:
        if isinstance(value, dict | list):  # a page may send any JSON where text is expected (a message's value)
            value = json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, str):
            return value
        shown = redact(_before_cut(value, first_cut))
        if len(shown) <= limit and len(value) <= first_cut:
            return shown
        if len(value) <= limit + CUT_NOTE_ROOM and value.endswith(CUT_NOTE_END):
            return shown  # cut already, when the evidence was first built: its note keeps the page's length
        return f"{shown[:limit]}… [cut: {len(value):,} characters in all]"

    return BeforeValidator(validate)


PageText = Annotated[str, _redacted(redact_text, TEXT_MAX)]
PageTitle = Annotated[str, _redacted(redact_text, TITLE_MAX)]
PageName = Annotated[str, _redacted(redact_text, NAME_MAX)]
PageUrl = Annotated[str, _redacted(redact_url, URL_MAX)]
StorageValue = Annotated[str, _redacted(redact_text, STORAGE_VALUE_MAX)]
PageRecords = Annotated[list[dict], BeforeValidator(redact_values)]
PageRecord = Annotated[dict, BeforeValidator(redact_values)]


class _Model(BaseModel):
    # validate_assignment: a value assigned after the model was built goes through the same boundary.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class TargetInfo(_Model):
    name: str = Field(pattern=TARGET_NAME, max_length=80)
    url: PageUrl = Field(description="The org URL as configured (sandbox:// for the sandbox org).")
    app: PageName
    opened_url: PageUrl = Field("", description="The URL the browser opened.")


class CheckSettings(_Model):
    """The configuration the checks judge by, recorded with the evidence so offline re-judging agrees."""

    library_file: PageName = "msdyn_channelintegrationframework.js"
    loader_name: PageName = "msdyn_CIFV2Loader"
    channel_providers_key: PageName = "channelProviders"
    application_extensions_key: PageName = "applicationExtensions"
    channel_providers_pattern: PageText = r"(?i)(^|[^a-z0-9])channelProviders$"
    application_extensions_pattern: PageText = r"(?i)(^|[^a-z0-9])applicationExtensions$"
    expected_app: PageName = ""
    expect: Expectations = Field(default_factory=Expectations, description="The target's expectations.")
    checks: list[PageName] | None = Field(None, description="The checks selected for this target (all when absent).")
    panel: PanelFacts = Field(default_factory=PanelFacts)
    records: RecordsFacts = Field(default_factory=RecordsFacts)
    config_file: PageName = Field("", description="The config file the run used, as given; fixes name it.")


class BrowserInfo(_Model):
    name: PageName = ""
    version: PageName = ""
    source: PageText = Field("", description="How the browser was found (config, env, channel, system, ...).")


class SignInAttempt(_Model):
    """What unattended sign-in did on a sign-in page (never the secrets it used)."""

    succeeded: bool = False
    steps: list[PageName] = Field(default_factory=list, description="Steps answered: account, password, code, ...")
    stopped_at: PageName | None = Field(None, description="The step it could not get past.")
    message: PageText = ""
    unexpected_host: PageUrl | None = Field(
        None,
        description="The origin (scheme://host[:port]) of a sign-in page that credentials may not go to; nothing "
        "was typed into it.",
    )


class Navigation(_Model):
    requested_url: PageUrl = ""
    final_url: PageUrl = ""
    status: int | None = None
    redirects: list[PageUrl] = Field(default_factory=list)
    title: PageTitle = ""
    error: PageText | None = Field(None, description="Why the page could not be opened, when it could not.")
    sign_in_page: bool = Field(False, description="The page ended on a sign-in page.")
    sign_in_recognised_by: PageName = Field(
        "", description="How a sign-in page off sign_in.hosts was recognised: its form, or its sign-in URL."
    )
    sign_in: SignInAttempt | None = Field(None, description="Unattended sign-in, when credentials were configured.")
    navigation_start_ms: float | None = Field(
        None, description="When navigation began, after the recorders were attached (ms since gathering began)."
    )
    app_ready: bool = False
    ready_ms: float | None = Field(None, description="Time from navigation start to the app shell being ready.")
    settled_by: PageName | None = Field(
        None, description="What ended the wait after the app was ready: signals, settle window, or time limit."
    )


class ModeChange(_Model):
    """One step of the communication panel's timeline while cifcheck watched."""

    at_ms: float = Field(description="When it was seen, in ms after navigation began.")
    what: PageName = Field(description="setMode request, Xrm.Panel.state, or panel frame (its geometry).")
    value: PageName


class ObservationEvidence(_Model):
    """How the wait for the org's settled state went (README, "How long a run waits")."""

    observe_ms: int = Field(0, description="How long the CIF state had to stay unchanged.")
    absence_ms: int = Field(0, description="How long after the app was idle an absent signal was awaited.")
    settle_max_ms: int = Field(0, description="The longest observation allowed.")
    idle_ms: float | None = Field(None, description="When the app was first idle, in ms after navigation began.")
    idle_signal: PageName = Field("", description="What told the app was idle.")
    last_change_ms: float | None = Field(None, description="The CIF state's last change, in ms after navigation began.")
    ended_ms: float | None = Field(None, description="When the observation ended, in ms after navigation began.")
    settled_by: PageName = Field("", description="every signal, absence window, or time limit.")
    in_flight_at_end: list[PageUrl] = Field(default_factory=list, description="CIF-related requests still unanswered.")
    mode_timeline: list[ModeChange] = Field(default_factory=list)

    def waited(self) -> str:
        """How long cifcheck waited for an absent signal, and which setting makes it wait longer."""
        if self.settled_by == "time limit":
            return f"cifcheck watched for {self.settle_max_ms / 1000:g} s (timeouts.settle_max_ms)"
        if self.idle_ms is None or self.ended_ms is None:
            return "cifcheck watched until the page was judged"
        return (
            f"cifcheck waited {(self.ended_ms - self.idle_ms) / 1000:.1f} s after the app was idle "
            f"(timeouts.absence_ms = {self.absence_ms:,} ms; raise it for an org that loads extensions later)"
        )


class ResourceLoad(_Model):
    """One network request the page (or any frame) made, with its outcome."""

    url: PageUrl
    resource_type: PageName = ""
    frame_url: PageUrl = ""
    frame_index: int | None = Field(
        None, description="Which frame made the request (numbered in the order cifcheck first saw them)."
    )
    status: int | None = None
    failure: PageText | None = Field(None, description="Network error text when the request failed outright.")
    started_ms: float | None = Field(None, description="Relative to navigation start.")
    duration_ms: float | None = None
    size: int | None = Field(None, description="Response body bytes, when known.")
    redirected_to: PageUrl | None = None
    frame_options: PageText | None = Field(
        None, description="Framing headers of a document answer (X-Frame-Options, CSP frame-ancestors)."
    )


class AppInfo(_Model):
    xrm_present: bool = False
    app_id: PageName | None = None
    app_unique_name: PageName | None = None
    app_display_name: PageName | None = None
    client_url: PageUrl | None = None
    user_name: PageName | None = None
    url_app_id: PageName | None = None
    url_app_name: PageName | None = None
    session_tabs: int | None = None


class Box(_Model):
    x: float
    y: float
    width: float
    height: float


class CifMessage(_Model):
    at_ms: float | None = None
    origin: PageUrl = ""
    type: PageName | None = Field(None, description="messageType of a request or event (setmode, getmode, ...).")
    outcome: PageName | None = Field(None, description="messageOutcome of an answer (success, failure).")
    value: int | float | PageName | None = Field(None, description="messageData.value (the mode for setmode).")
    text: PageText | None = Field(None, description="messageData when it is text (failure messages).")
    correlation: PageName | None = Field(None, description="messageCorrelationId: pairs a request with its answer.")


class WidgetFrame(_Model):
    """One provider iframe inside the communication panel."""

    title: PageTitle = ""
    src: PageUrl = Field("", description="The iframe's src attribute: the channel URL the host asked for.")
    url: PageUrl = Field("", description="The frame's document URL now (chrome-error://... when the load was refused).")
    tab_id: PageName = Field("", description="Id of the enclosing tab panel (the provider id in the 2023 host).")
    frame_index: int | None = Field(None, description="The frame's number in the network evidence (frame_index).")
    visible: bool = False
    box: Box | None = None
    cif_init_done: bool = False
    allowed_domains: list[PageUrl] = Field(default_factory=list, description="CIFInitDone's detail.")
    messages: list[CifMessage] = Field(default_factory=list, description="CIF answers the widget received.")
    error: PageText | None = Field(None, description="Why the frame could not be read.")


class PanelEvidence(_Model):
    found: bool = False
    selector: PageText = ""
    xrm_state: int | None = Field(None, description="Xrm.Panel.state: 0 minimized, 1 docked, 2 hidden, 3 collapsed.")
    visible: bool = False
    in_viewport: bool = False
    box: Box | None = None
    viewport_width: int = 0
    viewport_height: int = 0
    collapse_button_visible: bool | None = None
    expand_button_visible: bool | None = None
    host_messages: list[CifMessage] = Field(default_factory=list, description="CIF requests the host window received.")
    screenshot_png_base64: str = Field("", description="The panel cropped, taken only when it can be seen.")
    screenshot_note: str = Field("", description="Why there is no panel screenshot, when there is none.")
    widgets: list[WidgetFrame] = Field(default_factory=list)

    def why_not_seen(self) -> str:
        """Why an agent cannot see the panel, so that no picture of it means anything; "" when it can be seen."""
        if not self.found or self.box is None:
            return "there is no panel frame on the page"
        if not self.visible:
            size = f"{self.box.width:.0f} x {self.box.height:.0f} px"
            return f"the panel is not visible ({size}): a picture would show only the page behind it"
        if self.box.width <= 0 or self.box.height <= 0:
            return f"the panel is {self.box.width:.0f} x {self.box.height:.0f} px"
        if not self.in_viewport:
            return f"the panel is outside the viewport (at {self.box.x:.0f}, {self.box.y:.0f})"
        return ""


class WebApiRequest(_Model):
    """One Web API request cifcheck made for itself (never one of the page's)."""

    method: PageName = "GET"
    url: PageUrl = ""
    status: int | None = None
    duration_ms: float | None = None
    error: PageText | None = Field(
        None, description="Why the read did not succeed: cifcheck's own short message, never the answer's body."
    )


# A keyed fingerprint of a record value (parity.py): 16 hex digits, nothing else fits.
Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
# `<table>/<record id>/<column>`: cifcheck's own names around a GUID (a record whose id is no GUID gets none), so
# nothing from a page fits in and the key needs no redaction (thousands of records make that seconds).
FingerprintKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z_]{1,64}/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/[a-z_]{1,64}$"
    ),
]


class DataverseEvidence(_Model):
    """Read-only Web API answers about the CIF records: GETs to the org with the browser context's session, made
    outside the page (no page script can change them). A list is None when it could not be read (see errors)."""

    user_id: PageName | None = None
    org_url: PageUrl = Field("", description="The org's origin the records were read from (links to records).")
    app_unique_name: PageName | None = Field(None, description="The app whose agent experience profiles were read.")
    v1_providers: PageRecords | None = None
    v2_providers: PageRecords | None = None
    profiles: PageRecords | None = Field(
        None,
        description="The app's agent experience profiles (msdyn_appconfigurations), each with its channel providers "
        "and application extensions (N:N).",
    )
    user: PageRecord | None = Field(
        None, description="The signed-in user (systemusers), with the profiles and security roles it is given (N:N)."
    )
    role_mappings: PageRecords | None = Field(None, description="Profile to security role mappings, every column.")
    views: PageRecords | None = Field(None, description="savedqueries named as the Active Channel Providers view.")
    fingerprints: dict[FingerprintKey, Fingerprint] = Field(
        default_factory=dict,
        description="`<table>/<id>/<column>` -> keyed fingerprint of the value as the org sent it, for the parity "
        "columns: equal values, equal fingerprints, even where redaction hides part of a value.",
    )
    errors: dict[PageName, PageText] = Field(
        default_factory=dict, description="Why a table could not be read, by table."
    )
    requests: list[WebApiRequest] = Field(
        default_factory=list, description="Every request cifcheck made (older evidence has none recorded)."
    )


class StorageEvidence(_Model):
    origin: PageUrl = ""
    keys: list[PageName] = Field(default_factory=list, description="Every session storage key name (names only).")
    values: dict[PageName, StorageValue] = Field(
        default_factory=dict, description="Values of the keys that may be CIF keys, capped in length."
    )
    value_lengths: dict[PageName, int] = Field(default_factory=dict, description="Full length of each value.")
    truncated: list[PageName] = Field(
        default_factory=list, description="Keys whose value was not read whole (none since values are read in full)."
    )


class ConsoleEntry(_Model):
    level: PageName
    text: PageText
    frame_url: PageUrl = ""
    source_url: PageUrl = ""


class Evidence(_Model):
    version: int = EVIDENCE_VERSION
    cifcheck_version: PageName = ""
    target: TargetInfo
    settings: CheckSettings = Field(default_factory=CheckSettings)
    browser: BrowserInfo = Field(default_factory=BrowserInfo)
    started_at: PageName = ""
    duration_ms: float = 0
    navigation: Navigation = Field(default_factory=Navigation)
    app: AppInfo | None = None
    resources: list[ResourceLoad] | None = None
    storage: StorageEvidence | None = None
    panel: PanelEvidence | None = None
    dataverse: DataverseEvidence | None = None
    console: list[ConsoleEntry] | None = None
    observation: ObservationEvidence | None = None
    probe_errors: dict[PageName, PageText] = Field(
        default_factory=dict, description="Probes that failed, with their error; the checks needing them error."
    )
    trace_file: str = Field(
        "",
        description="The raw Playwright trace of this page load (trace.mode), on the machine that ran it: holds "
        "cookies and bodies; `cifcheck bundle --with-trace` shares a scrubbed copy.",
    )
    screenshot_jpeg_base64: str = Field(
        "",
        description="What the browser showed when gathering ended (the viewport, JPEG, input fields masked). "
        "Written only for a target whose verdict holds an error.",
    )
