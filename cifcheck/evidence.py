"""Evidence: the facts probes gather from one page load, as plain data. Checks judge it; reports show it.

Evidence is saved as `evidence.json` with every run so a support engineer can re-judge and re-render it
offline (`cifcheck report`). It never holds cookies, and session storage values only for the CIF keys.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

EVIDENCE_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TargetInfo(_Model):
    name: str
    url: str = Field(description="The org URL as configured (sandbox:// for the sandbox org).")
    app: str
    opened_url: str = Field("", description="The URL the browser opened.")


class CheckSettings(_Model):
    """The configuration the checks judge by, recorded with the evidence so offline re-judging agrees."""

    library_file: str = "msdyn_channelintegrationframework.js"
    loader_name: str = "msdyn_CIFV2Loader"
    channel_providers_key: str = "channelProviders"
    application_extensions_key: str = "applicationExtensions"
    channel_providers_pattern: str = r"(?i)(^|[^a-z0-9])channelProviders$"
    application_extensions_pattern: str = r"(?i)(^|[^a-z0-9])applicationExtensions$"
    expected_app: str = ""
    expect: dict = Field(default_factory=dict, description="The target's expectations, as configured.")


class BrowserInfo(_Model):
    name: str = ""
    version: str = ""
    source: str = Field("", description="How the browser was found (config, env, channel, system, ...).")


class Navigation(_Model):
    requested_url: str = ""
    final_url: str = ""
    status: int | None = None
    redirects: list[str] = Field(default_factory=list)
    title: str = ""
    error: str | None = Field(None, description="Why the page could not be opened, when it could not.")
    sign_in_page: bool = Field(False, description="The page ended on a configured sign-in host.")
    app_ready: bool = False
    ready_ms: float | None = Field(None, description="Time from navigation start to the app shell being ready.")


class ResourceLoad(_Model):
    """One network request the page (or any frame) made, with its outcome."""

    url: str
    resource_type: str = ""
    frame_url: str = ""
    status: int | None = None
    failure: str | None = Field(None, description="Network error text when the request failed outright.")
    started_ms: float | None = Field(None, description="Relative to navigation start.")
    duration_ms: float | None = None
    size: int | None = Field(None, description="Response body bytes, when known.")
    redirected_to: str | None = None


class AppInfo(_Model):
    xrm_present: bool = False
    app_id: str | None = None
    app_unique_name: str | None = None
    app_display_name: str | None = None
    client_url: str | None = None
    user_name: str | None = None
    url_app_id: str | None = None
    url_app_name: str | None = None
    session_tabs: int | None = None


class StorageEvidence(_Model):
    origin: str = ""
    keys: list[str] = Field(default_factory=list, description="Every session storage key name (names only).")
    values: dict[str, str] = Field(
        default_factory=dict, description="Values of the keys that may be CIF keys, capped in length."
    )
    value_lengths: dict[str, int] = Field(default_factory=dict, description="Full length of each value.")


class ConsoleEntry(_Model):
    level: str
    text: str
    frame_url: str = ""
    source_url: str = ""


class Evidence(_Model):
    version: int = EVIDENCE_VERSION
    cifcheck_version: str = ""
    target: TargetInfo
    settings: CheckSettings = Field(default_factory=CheckSettings)
    browser: BrowserInfo = Field(default_factory=BrowserInfo)
    started_at: str = ""
    duration_ms: float = 0
    navigation: Navigation = Field(default_factory=Navigation)
    app: AppInfo | None = None
    resources: list[ResourceLoad] | None = None
    storage: StorageEvidence | None = None
    console: list[ConsoleEntry] | None = None
    probe_errors: dict[str, str] = Field(
        default_factory=dict, description="Probes that failed, with their error; the checks needing them error."
    )
