"""The sandbox scenario catalogue: each scenario is an org state plus the verdicts cifcheck must give on it.

The catalogue is data. The end-to-end tests run cifcheck against every scenario and compare its verdicts
with `expect`; `cifcheck sandbox list` prints it. Where cif-facts.md marks a detail UNKNOWN (storage key
names, JSON shapes), scenarios vary it on purpose so the validator has to be tolerant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Literal

APPS = {
    # unique name -> (app id, display name). App ids differ per org; these are the sandbox org's.
    "msdyn_CustomerServiceWorkspace": ("9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c", "Customer Service workspace"),
    "OmniChannelEngagementHub": ("4c2a6b0e-1f3d-ee11-9cb7-000d3a1b2c3d", "Omnichannel for Customer Service"),
}

CIF_LIBRARY = "msdyn_channelintegrationframework.js"
LOADER_NAME = "msdyn_CIFV2Loader"

Status = Literal["pass", "fail", "warn", "skip", "error"]
StorageFormat = Literal["camel", "msdyn", "pascal-map"]


@dataclass(frozen=True)
class Expect:
    """A verdict cifcheck must give: its status and a phrase its reason must contain (case-insensitive)."""

    status: Status
    reason: str = ""


@dataclass(frozen=True)
class Provider:
    """A CIF 2.0 channel provider (msdyn_channelprovider) and how its widget page behaves."""

    unique_name: str = "contoso_softphone"
    label: str = "Contoso Phone"
    # Host that serves the channel URL: "widget", or "landing" (which redirects to the widget host).
    channel_host: Literal["widget", "landing"] = "widget"
    trusted_domain: str = ""
    sort_order: int = 1
    # The mode the widget asks for after CIFInitDone; None: it never calls setMode.
    mode_on_init: int | None = 1
    # Later setMode calls, as (milliseconds after the first, mode): a provider that changes its mind.
    later_modes: tuple[tuple[int, int], ...] = ()
    widget_status: int = 200
    # The channel URL's server never answers (the request stays open until the browser gives up on it).
    widget_never_answers: bool = False
    refuses_framing: bool = False
    custom_params: str = '{"queue": "tier1", "token": "sandbox-widget-token-3f9a"}'
    # Appended to the channel URL: single-page widgets route by fragment ("#/home").
    channel_fragment: str = ""
    # The channel URL is a start page that redirects, with a relative Location, to the widget page.
    relative_redirect: bool = False


@dataclass(frozen=True)
class OrgRecords:
    """How the org's Dataverse records stand (sandbox/records.py builds them). The default is a finished migration:
    each provider has the CIF 1.0 provider it was copied from, deactivated; the providers are attached to the app's
    agent experience profile, and the user is assigned to it directly."""

    v1_records: bool = True  # False: the org never had CIF 1.0 providers
    v1_active: bool = False  # the CIF 1.0 providers are still active (the migration is under way)
    # Column values of the CIF 1.0 / CIF 2.0 record of each of the scenario's providers: a value not copied.
    v1_changes: tuple[tuple[str, object], ...] = ()
    v2_changes: tuple[tuple[str, object], ...] = ()
    unmigrated_v1: int = 0  # active CIF 1.0 providers with no CIF 2.0 counterpart
    scale: int = 0  # more provider pairs (CIF 1.0 and its CIF 2.0 copy), attached to no profile of the app
    profile_name: str = "Contoso agents"
    attached: bool = True  # the scenario's providers are attached to the profile
    # How the user gets the profile: directly; through a security role; through a role while a better-ranked
    # profile (no providers) is mapped to another role of the user; or not at all (the out-of-box default).
    assignment: Literal["direct", "role", "outranked", "none"] = "direct"
    role_in_child_unit: bool = False  # the user holds a business unit's copy of the role the mapping names
    role_mapping_columns: Literal["lookup", "text"] = "lookup"  # the mapping columns' types are not published
    view: Literal["active", "inactive", "v1-only"] = "active"
    deferred_expands: bool = False  # listings answer N:N expansions with next links, as older Dataverse does
    throttled_reads: int = 0  # cifcheck's first reads of the provider tables answer 429, Retry-After 1
    # A provider the session still has from before it was detached from the profile (the records no longer attach it).
    detached_provider: Provider | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    expect: dict[str, Expect]
    app: str = "msdyn_CustomerServiceWorkspace"
    providers: tuple[Provider, ...] = (Provider(),)
    library_status: int = 200
    loader: Literal["present", "missing", "wrong-resource"] = "present"
    write_providers_key: bool = True
    storage_key_prefix: str = ""
    storage_format: StorageFormat = "camel"
    cif1_active: bool = False
    signed_out: bool = False
    # "2023": #SidePanelIFrame > #widgetControlDiv > iframe; "variant": no panel id, another container id.
    panel_markup: Literal["2023", "variant"] = "2023"
    # The app keeps writing unrelated session storage keys and polling the Web API, as real orgs do.
    busy: bool = False
    # Client-side boot time of the app shell, and server-side delay of the CIF library response.
    app_ready_ms: int = 0
    library_delay_ms: int = 0
    # The org stops answering once the app shell is up: its web resources are refused (connection refused).
    org_down_after_shell: bool = False
    # The app page itself answers with this HTTP status (503: the org is unavailable).
    shell_status: int = 200
    # Where a signed-out browser is sent: Entra (the sandbox's login.localhost) or another identity provider's
    # page shape on idp.localhost (adfs, okta, ping, b2c), which no sign_in.hosts entry names.
    identity_provider: Literal["entra", "adfs", "okta", "ping", "b2c"] = "entra"
    # Web API entity sets the signed-in user may not read: they answer 403, as a missing privilege does.
    web_api_refused: tuple[str, ...] = ()
    records: OrgRecords = OrgRecords()
    tags: tuple[str, ...] = field(default=())


_ALL_PASS = {
    "session.signed_in": Expect("pass"),
    "app.loaded": Expect("pass"),
    "cif.library_loaded": Expect("pass", "200"),
    "profile.channel_providers": Expect("pass", "1 provider"),
    "profile.cif_v2_loader": Expect("pass", LOADER_NAME),
    "panel.docked": Expect("pass", "docked"),
    "widget.loaded": Expect("pass"),
    "cif.v1_absent": Expect("pass"),
    "console.cif_errors": Expect("pass"),
    # After a finished migration the CIF 1.0 providers are deactivated: nothing left to compare.
    "records.provider_parity": Expect("skip", "no cif 1.0 provider is active"),
    "records.profile_providers": Expect("pass", "contoso phone"),
    "records.user_assigned": Expect("pass", "directly"),
    "records.loader_extension": Expect("pass", LOADER_NAME),
    "records.active_providers_view": Expect("skip", "only omnichannel"),
    "records.session_providers": Expect("pass", "1 provider"),
}


def _expect(**changes: Expect) -> dict[str, Expect]:
    """The all-pass table with some verdicts changed; keyword names use `__` for the dot in check ids."""
    table = dict(_ALL_PASS)
    for key, verdict in changes.items():
        check_id = key.replace("__", ".")
        if check_id not in table:
            raise KeyError(f"unknown check id in scenario table: {check_id}")
        table[check_id] = verdict
    return table


_NO_PANEL_BECAUSE = "prerequisite"


@dataclass(frozen=True)
class Timing:
    """A timeline any scenario can run under. Real orgs differ from the sandbox's default timeline: they are
    slower, load extensions lazily, write the profile in steps, and providers change the panel's mode after init.
    A timing profile never changes what the org settles into, so the scenario's verdicts stay the same."""

    name: str
    description: str
    latency_ms: int = 0  # added to every org and widget response
    lazy_extensions_ms: int = 0  # the app is idle, nothing happens, then it loads its extensions this much later
    profile_steps_ms: int = 0  # channelProviders is written as [] first and filled this much later
    mode_flip_ms: int = 0  # the provider first asks for another mode, then for its own this much later


TIMINGS: dict[str, Timing] = {
    timing.name: timing
    for timing in (
        Timing("instant", "The scenario's own timeline: every response at once."),
        Timing(
            "slow-network", "A slow network: 400 ms added to every response of the org and the widget.", latency_ms=400
        ),
        Timing(
            "lazy-extensions",
            "The app is idle, nothing happens for 4 s, then it requests its extensions (the CIF library among them).",
            lazy_extensions_ms=4000,
        ),
        Timing(
            "profile-in-steps",
            "The profile is written in two steps: channelProviders is [] at first and filled 1.5 s later.",
            profile_steps_ms=1500,
        ),
        Timing(
            "mode-flip",
            "The provider first asks for the other mode (docked, or minimized when it wants docked), then for its "
            "own 1.5 s later.",
            mode_flip_ms=1500,
        ),
    )
}
DEFAULT_TIMING = "instant"


def get_timing(name: str) -> Timing:
    try:
        return TIMINGS[name]
    except KeyError:
        raise KeyError(f"unknown sandbox timing {name!r} (known: {', '.join(TIMINGS)})") from None


def _catalogue() -> list[Scenario]:
    healthy = Scenario(
        name="healthy-csw",
        description="Customer Service workspace migrated correctly: library loaded, profile in session "
        "storage, one provider docked.",
        expect=_expect(),
        tags=("healthy",),
    )
    # No profile with a CIF 2.0 provider: who gets it, and with which loader, is not asked.
    skipped_behind_profile = {
        "records__user_assigned": Expect("skip", "records.profile_providers"),
        "records__loader_extension": Expect("skip", "records.profile_providers"),
        "records__session_providers": Expect("skip", "records.profile_providers"),
    }
    # The user gets a profile without the CIF 2.0 provider: the browser sees no CIF at all.
    no_cif_in_the_session = {
        "cif__library_loaded": Expect("fail", "never requested"),
        "profile__channel_providers": Expect("fail", "empty"),
        "profile__cif_v2_loader": Expect("fail", "no " + LOADER_NAME),
        "panel__docked": Expect("skip", _NO_PANEL_BECAUSE),
        "widget__loaded": Expect("skip", _NO_PANEL_BECAUSE),
    }
    migrating = OrgRecords(v1_active=True)  # the CIF 1.0 providers still active: parity is judged
    parity_fails = {"cif__v1_absent": Expect("warn", "cif 1.0 provider contoso phone is active")}
    skipped_panel = {
        "panel__docked": Expect("skip", _NO_PANEL_BECAUSE),
        "widget__loaded": Expect("skip", _NO_PANEL_BECAUSE),
    }
    return [
        healthy,
        replace(
            healthy,
            name="healthy-omnichannel",
            description="Omnichannel for Customer Service, session storage written with msdyn_ field names.",
            app="OmniChannelEngagementHub",
            storage_format="msdyn",
            records=OrgRecords(profile_name="Omnichannel upgraded app profile"),
            expect=_expect(
                records__profile_providers=Expect("pass", "omnichannel upgraded app profile"),
                records__active_providers_view=Expect("pass", "active"),
            ),
        ),
        replace(
            healthy,
            name="library-missing",
            description="The app profile names the CIF 2.0 loader but the web resource answers 404.",
            library_status=404,
            expect=_expect(
                cif__library_loaded=Expect("fail", "404"),
                console__cif_errors=Expect("warn", "404"),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="library-500",
            description="The CIF 2.0 library web resource answers 500.",
            library_status=500,
            expect=_expect(
                cif__library_loaded=Expect("error", "500"),
                console__cif_errors=Expect("warn", "500"),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="providers-empty",
            description="channelProviders is written but empty: the user is not assigned to a profile with providers.",
            providers=(),
            expect=_expect(
                profile__channel_providers=Expect("fail", "empty"),
                records__provider_parity=Expect("skip", "no cif 1.0 provider (msdyn_ciprovider) exists"),
                records__profile_providers=Expect("fail", "no cif 2.0 channel provider is attached"),
                **skipped_behind_profile,
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="providers-key-missing",
            description="Session storage has no channelProviders key at all.",
            write_providers_key=False,
            expect=_expect(
                profile__channel_providers=Expect("fail", "no channelProviders key"),
                records__session_providers=Expect("skip", "could not be read"),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="loader-missing",
            description="applicationExtensions lists other extensions but no msdyn_CIFV2Loader, so the CIF 2.0 "
            "library is never requested.",
            loader="missing",
            expect=_expect(
                cif__library_loaded=Expect("fail", "never requested"),
                profile__cif_v2_loader=Expect("fail", "no " + LOADER_NAME),
                records__loader_extension=Expect("fail", "has no " + LOADER_NAME),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="loader-wrong-resource",
            description="msdyn_CIFV2Loader points at a different web resource.",
            loader="wrong-resource",
            expect=_expect(
                cif__library_loaded=Expect("fail", "never requested"),
                profile__cif_v2_loader=Expect("fail", "msdyn_cifloader_custom.js"),
                records__loader_extension=Expect("fail", "msdyn_cifloader_custom.js"),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="panel-minimized",
            description="The provider calls setMode(0): the panel is minimized.",
            providers=(Provider(mode_on_init=0),),
            expect=_expect(panel__docked=Expect("fail", "minimized")),
            tags=(),
        ),
        replace(
            healthy,
            name="panel-hidden",
            description="The provider calls setMode(2): the panel is hidden (code runs, nothing shown).",
            providers=(Provider(mode_on_init=2),),
            expect=_expect(panel__docked=Expect("fail", "hidden")),
            tags=(),
        ),
        replace(
            healthy,
            name="panel-collapsed",
            description="The provider calls setMode(3): the panel is collapsed to its strip.",
            providers=(Provider(mode_on_init=3),),
            expect=_expect(panel__docked=Expect("fail", "collapsed")),
            tags=(),
        ),
        replace(
            healthy,
            name="widget-404",
            description="The provider's channel URL answers 404.",
            providers=(Provider(widget_status=404, mode_on_init=None),),
            expect=_expect(widget__loaded=Expect("fail", "404"), console__cif_errors=Expect("warn", "404")),
            tags=(),
        ),
        replace(
            healthy,
            name="widget-refuses-framing",
            description="The provider's page sends X-Frame-Options: DENY and frame-ancestors 'none'.",
            providers=(Provider(refuses_framing=True, mode_on_init=None),),
            expect=_expect(
                widget__loaded=Expect("fail", "refused to be framed"),
                console__cif_errors=Expect("warn", "frame"),
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="trusted-domain-mismatch",
            description="The channel URL's landing host redirects to another host that is not a trusted "
            "domain: the host refuses the widget's messages.",
            providers=(Provider(channel_host="landing"),),
            expect=_expect(
                widget__loaded=Expect("fail", "trusted domain"),
                console__cif_errors=Expect("warn", "Sender domain"),
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="cif1-still-active",
            description="CIF 2.0 works, but the CIF 1.0 host library and an active CIF 1.0 provider remain.",
            cif1_active=True,
            expect=_expect(
                cif__v1_absent=Expect("warn", "msdyn_internal_ci_library.js"),
                records__provider_parity=Expect("pass", "the 1 active cif 1.0 provider has"),
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="v1-records-refused",
            description="The signed-in user may not read CIF 1.0 provider records: the Web API answers 403.",
            web_api_refused=("msdyn_ciproviders",),
            expect=_expect(
                cif__v1_absent=Expect("error", "HTTP 403"),
                records__provider_parity=Expect("error", "prvReadmsdyn_ciprovider"),
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="signed-out",
            description="The session is expired: the org redirects to the sign-in origin.",
            signed_out=True,
            expect={check_id: Expect("skip", "session.signed_in") for check_id in _ALL_PASS}
            | {"session.signed_in": Expect("error", "sign-in page")},
            tags=(),
        ),
        replace(
            healthy,
            name="slow-org",
            description="A healthy org that is slow: the app shell is ready after 2 s, the library 0.5 s later.",
            app_ready_ms=2000,
            library_delay_ms=500,
            tags=("healthy", "slow"),
        ),
        replace(
            healthy,
            name="busy-org",
            description="A healthy org that never goes quiet: it keeps writing telemetry keys to session storage "
            "and polling the Web API.",
            busy=True,
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="several-providers",
            description="Two providers in the profile; each gets a tab in the docked panel.",
            providers=(
                Provider(mode_on_init=None),
                Provider(unique_name="fabrikam_chat", label="Fabrikam Chat", sort_order=2, mode_on_init=None),
            ),
            expect=_expect(
                profile__channel_providers=Expect("pass", "2 providers"),
                records__profile_providers=Expect("pass", "contoso phone, fabrikam chat"),
                records__session_providers=Expect("pass", "2 provider"),
            ),
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="several-providers-set-mode",
            description="Two providers that both call setMode(1) on the home session, where the host refuses it.",
            providers=(
                Provider(),
                Provider(unique_name="fabrikam_chat", label="Fabrikam Chat", sort_order=2),
            ),
            expect=_expect(
                profile__channel_providers=Expect("pass", "2 providers"),
                console__cif_errors=Expect("warn", "active provider"),
                records__session_providers=Expect("pass", "2 provider"),
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="panel-markup-variant",
            description="The panel frame has no id (title only) and the widget container another id: the "
            "validator must find them by its fallbacks.",
            panel_markup="variant",
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="storage-keys-prefixed",
            description="Both session storage keys carry an org-specific prefix.",
            storage_key_prefix="CIF.4f1c9a2e.",
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="storage-json-variant",
            description="Session storage values use PascalCase field names and an object keyed by unique name.",
            storage_format="pascal-map",
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="panel-docked-late",
            description="The provider minimizes the panel at init and docks it 1.5 s later: judged on the final state.",
            providers=(Provider(mode_on_init=0, later_modes=((1500, 1),)),),
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="panel-minimized-late",
            description="The provider docks the panel at init and minimizes it 1.5 s later: the admin sees a "
            "minimized panel.",
            providers=(Provider(mode_on_init=1, later_modes=((1500, 0),)),),
            expect=_expect(panel__docked=Expect("fail", "minimized")),
            tags=(),
        ),
        replace(
            healthy,
            name="panel-minimized-after-4s",
            description="The provider docks the panel at init and minimizes it 4 s later, past the observation "
            "window: cifcheck sees the timer still to fire and waits for it.",
            providers=(Provider(mode_on_init=1, later_modes=((4000, 0),)),),
            expect=_expect(panel__docked=Expect("fail", "minimized")),
            tags=(),
        ),
        replace(
            healthy,
            name="widget-never-answers",
            description="The provider's server never answers the channel URL: the frame stays loading. cifcheck "
            "watches up to timeouts.settle_max_ms and says it could not decide.",
            providers=(Provider(widget_never_answers=True, mode_on_init=None),),
            expect=_expect(widget__loaded=Expect("error", "had not finished loading")),
            tags=("slow",),
        ),
        replace(
            healthy,
            name="large-profile",
            description="300 providers in the profile (about 650 kB of channelProviders); each gets a frame.",
            providers=tuple(
                Provider(
                    unique_name=f"contoso_line_{number:03}",
                    label=f"Contoso Line {number:03}",
                    sort_order=number,
                    mode_on_init=None,  # several providers: setMode is refused on the home session
                    custom_params=json.dumps({"queue": f"tier{number}", "routing": "x" * 1900}),
                )
                for number in range(1, 301)
            ),
            expect=_expect(
                profile__channel_providers=Expect("pass", "300 providers"),
                records__profile_providers=Expect("pass", "contoso agents has 300 providers"),
                records__session_providers=Expect("pass", "300 provider"),
            ),
            tags=("healthy", "large"),
        ),
        replace(
            healthy,
            name="widget-fragment-url",
            description="The channel URL routes by fragment (.../index.html?...#/home), as single-page widgets do.",
            providers=(Provider(channel_fragment="#/home"),),
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="widget-relative-redirect",
            description="The channel URL is a start page that redirects to the widget with a relative Location.",
            providers=(Provider(relative_redirect=True),),
            tags=("healthy",),
        ),
        replace(
            healthy,
            name="org-down-mid-load",
            description="The org goes away once the app shell is up: the CIF library request is refused.",
            org_down_after_shell=True,
            expect=_expect(
                cif__library_loaded=Expect("error", "ERR_CONNECTION_REFUSED"),
                console__cif_errors=Expect("warn", "ERR_CONNECTION_REFUSED"),
                **skipped_panel,
            ),
            tags=(),
        ),
        replace(
            healthy,
            name="org-503",
            description="The org answers the app page with 503 Service Unavailable.",
            shell_status=503,
            expect={check_id: Expect("skip", "session.signed_in") for check_id in _ALL_PASS}
            | {"session.signed_in": Expect("error", "503")},
            tags=(),
        ),
        *(
            replace(
                healthy,
                name=f"parity-{field}",
                description=f"The migration is under way (CIF 1.0 still active) and the CIF 2.0 provider's {label} "
                "differs from the CIF 1.0 provider it was copied from.",
                records=replace(migrating, **{side: ((column, value),)}),
                expect=_expect(
                    records__provider_parity=Expect("fail", phrase),
                    # The label is the CIF 2.0 provider's: it names the attached provider.
                    records__profile_providers=Expect("pass", value if column == "msdyn_label" else "contoso phone"),
                    **parity_fails,
                ),
                tags=("records",),
            )
            for field, label, side, column, value, phrase in (
                (
                    "channel-url",
                    "channel URL",
                    "v1_changes",
                    "msdyn_landingurl",
                    "https://phone.contoso.example/cif1/softphone.html",
                    "was copied with a different channel url",
                ),
                ("label", "label", "v2_changes", "msdyn_label", "Contoso Softphone", "label"),
                ("sort-order", "sort order", "v2_changes", "msdyn_sortorder", 7, "sort order"),
                (
                    "trusted-domain",
                    "trusted domain",
                    "v1_changes",
                    "msdyn_trusteddomain",
                    "https://phone.contoso.example",
                    "trusted domain",
                ),
                # Only the token differs: a value redaction hides, compared by its fingerprint.
                (
                    "custom-params",
                    "custom parameters (only their token)",
                    "v1_changes",
                    "msdyn_customparams",
                    '{"queue": "tier1", "token": "sandbox-widget-token-0ld1"}',
                    "custom parameters",
                ),
                ("analytics", "analytics setting", "v1_changes", "msdyn_enableanalytics", True, "enable analytics"),
                ("api-version", "API version", "v2_changes", "msdyn_apiversion", 162450001, "api version"),
            )
        ),
        replace(
            healthy,
            name="v1-provider-not-migrated",
            description="An active CIF 1.0 provider (a legacy dialer) has no CIF 2.0 counterpart.",
            records=replace(migrating, unmigrated_v1=1),
            expect=_expect(
                records__provider_parity=Expect("fail", "fabrikam legacy dialer 1"),
                cif__v1_absent=Expect("warn", "fabrikam legacy dialer 1"),
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="provider-not-attached",
            description="The CIF 2.0 provider exists but is not attached to the agent experience profile: the "
            "session gets no provider.",
            records=OrgRecords(attached=False),
            expect=_expect(
                profile__channel_providers=Expect("fail", "empty"),
                records__profile_providers=Expect("fail", "no cif 2.0 channel provider is attached to contoso agents"),
                **skipped_behind_profile,
                **skipped_panel,
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="user-not-assigned",
            description="The profile has the provider, but the user is not assigned to it, directly or by role: "
            "they get the out-of-box default profile.",
            records=OrgRecords(assignment="none"),
            expect=_expect(
                **no_cif_in_the_session,
                records__user_assigned=Expect("fail", "customer service workspace - default profile"),
                records__session_providers=Expect("warn", "not in this session's channelproviders: contoso phone"),
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="only-default-profile",
            description="The app has only its out-of-box profiles, which cannot be modified: no provider anywhere.",
            records=OrgRecords(profile_name=""),
            expect=_expect(
                **no_cif_in_the_session,
                records__profile_providers=Expect("fail", "only its out-of-box profile"),
                **skipped_behind_profile,
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="assigned-by-role",
            description="The user gets the profile through a security role mapped to it (rank 2).",
            records=OrgRecords(assignment="role"),
            expect=_expect(records__user_assigned=Expect("pass", "through the security role omnichannel agent")),
            tags=("records", "healthy"),
        ),
        replace(
            healthy,
            name="assigned-by-role-in-business-unit",
            description="The user holds a business unit's copy of the mapped role, and the mapping's columns are "
            "text, not lookups.",
            records=OrgRecords(assignment="role", role_in_child_unit=True, role_mapping_columns="text"),
            expect=_expect(records__user_assigned=Expect("pass", "through the security role omnichannel agent")),
            tags=("records", "healthy"),
        ),
        replace(
            healthy,
            name="another-profile-outranks",
            description="The user gets the profile through one role, but another role maps a better-ranked profile "
            "without providers, which wins.",
            records=OrgRecords(assignment="outranked"),
            expect=_expect(
                **no_cif_in_the_session,
                records__user_assigned=Expect("fail", "gets contoso supervisors through the security role"),
                records__session_providers=Expect("warn", "contoso phone"),
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="view-deactivated",
            description="Omnichannel: the Active Channel Providers view on the channel provider table is deactivated.",
            app="OmniChannelEngagementHub",
            records=OrgRecords(view="inactive"),
            expect=_expect(records__active_providers_view=Expect("fail", "deactivated")),
            tags=("records",),
        ),
        replace(
            healthy,
            name="view-only-on-cif1",
            description="Omnichannel: only the CIF 1.0 provider table has an Active Channel Providers view.",
            app="OmniChannelEngagementHub",
            records=OrgRecords(view="v1-only"),
            expect=_expect(records__active_providers_view=Expect("fail", "only the cif 1.0 provider table")),
            tags=("records",),
        ),
        replace(
            healthy,
            name="user-records-refused",
            description="The signed-in user may not read user records (systemusers): the Web API answers 403.",
            web_api_refused=("systemusers",),
            expect=_expect(
                records__user_assigned=Expect("error", "prvReadsystemuser"),
                records__session_providers=Expect("error", "prvReadsystemuser"),
            ),
            tags=("records",),
        ),
        replace(
            healthy,
            name="records-throttled",
            description="The org throttles cifcheck's first two reads of each provider table (429, Retry-After 1 s), "
            "then serves them.",
            records=replace(migrating, throttled_reads=2),
            expect=_expect(
                records__provider_parity=Expect("pass", "the 1 active"),
                cif__v1_absent=Expect("warn", "active"),
            ),
            tags=("records", "slow"),
        ),
        replace(
            healthy,
            name="many-providers",
            description="5,000 CIF 2.0 providers, each copied from an active CIF 1.0 provider: read in pages.",
            records=replace(migrating, scale=4_999),
            expect=_expect(
                records__provider_parity=Expect("pass", "all 5,000 active"),
                cif__v1_absent=Expect("warn", "active"),
            ),
            tags=("records", "large"),  # run alone: 10,000 records are seconds of Python that 11 other cases would slow
        ),
        replace(
            healthy,
            name="expands-by-next-link",
            description="The org answers a listing's N:N expansions with next links (empty lists), as older "
            "Dataverse versions do.",
            records=OrgRecords(deferred_expands=True),
            tags=("records", "healthy"),
        ),
        replace(
            healthy,
            name="session-has-detached-provider",
            description="A provider detached from the profile is still in the session (it was cached before).",
            providers=(Provider(mode_on_init=None),),
            records=OrgRecords(
                detached_provider=Provider(
                    unique_name="retired_dialer", label="Retired Dialer", sort_order=3, mode_on_init=None
                )
            ),
            expect=_expect(
                profile__channel_providers=Expect("pass", "2 providers"),
                # "... not attached to Contoso agents (<its id>): Retired Dialer"
                records__session_providers=Expect("warn", "): retired dialer"),
            ),
            tags=("records",),
        ),
        *(
            replace(
                healthy,
                name=f"signed-out-{shape}",
                description=f"The session is expired and the org sends the browser to a {label} sign-in page on a "
                "host no sign_in.hosts entry names.",
                signed_out=True,
                identity_provider=shape,
                expect={check_id: Expect("skip", "session.signed_in") for check_id in _ALL_PASS}
                | {"session.signed_in": Expect("error", "sign-in page")},
                tags=(),
            )
            for shape, label in (("adfs", "AD FS"), ("okta", "Okta"), ("ping", "PingFederate"), ("b2c", "Entra B2C"))
        ),
    ]


SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _catalogue()}
DEFAULT_SCENARIO = "healthy-csw"


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise KeyError(f"unknown sandbox scenario {name!r} (known: {known})") from None
