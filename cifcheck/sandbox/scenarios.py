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
            expect=_expect(profile__channel_providers=Expect("fail", "empty"), **skipped_panel),
            tags=(),
        ),
        replace(
            healthy,
            name="providers-key-missing",
            description="Session storage has no channelProviders key at all.",
            write_providers_key=False,
            expect=_expect(profile__channel_providers=Expect("fail", "no channelProviders key"), **skipped_panel),
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
            expect=_expect(cif__v1_absent=Expect("warn", "msdyn_internal_ci_library.js")),
            tags=(),
        ),
        replace(
            healthy,
            name="v1-records-refused",
            description="The signed-in user may not read CIF 1.0 provider records: the Web API answers 403.",
            web_api_refused=("msdyn_ciproviders",),
            expect=_expect(cif__v1_absent=Expect("error", "HTTP 403")),
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
            expect=_expect(profile__channel_providers=Expect("pass", "2 providers")),
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
            expect=_expect(profile__channel_providers=Expect("pass", "300 providers")),
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
