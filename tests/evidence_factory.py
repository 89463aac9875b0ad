"""Hand-built Evidence for unit tests of checks: a healthy page by default, changed per test."""

from __future__ import annotations

import json

from cifcheck.evidence import (
    AppInfo,
    Box,
    CifMessage,
    DataverseEvidence,
    Evidence,
    Navigation,
    PanelEvidence,
    ResourceLoad,
    StorageEvidence,
    TargetInfo,
    WidgetFrame,
)

ORG = "https://contoso.crm.dynamics.com"
LIBRARY_URL = f"{ORG}/%7b637199221580014143%7d/webresources/msdyn_channelintegrationframework.js"
CHANNEL_URL = "https://phone.contoso.com/widget/index.html?uci=true"
WIDGET_LIBRARY_URL = f"{ORG}/webresources/Widget/msdyn_ciLibrary.js"

PROVIDERS = [
    {
        "id": "7d0c4b1e-0000-4000-8000-000000000001",
        "name": "Contoso Phone",
        "uniqueName": "contoso_softphone",
        "label": "Contoso Phone",
        "channelUrl": CHANNEL_URL,
        "sortOrder": "1",
    }
]
EXTENSIONS = [
    {"uniqueName": "msdyn_CIFV2Loader", "webResourceUrl": "WebResources/msdyn_channelintegrationframework.js"},
    {"uniqueName": "msdyn_ProductivityToolsLoader", "webResourceUrl": "WebResources/msdyn_productivitytools.js"},
]


def library_load(**changes: object) -> ResourceLoad:
    values: dict = {"url": LIBRARY_URL, "resource_type": "script", "status": 200, "duration_ms": 85.0, "size": 48213}
    return ResourceLoad(**(values | changes))


def storage(**values: str) -> StorageEvidence:
    return StorageEvidence(
        origin=ORG, keys=list(values), values=values, value_lengths={k: len(v) for k, v in values.items()}
    )


def healthy_storage() -> StorageEvidence:
    return storage(channelProviders=json.dumps(PROVIDERS), applicationExtensions=json.dumps(EXTENSIONS))


def widget(**changes: object) -> WidgetFrame:
    values: dict = {
        "title": "Contoso Phone",
        "src": CHANNEL_URL,
        "url": CHANNEL_URL,
        "visible": True,
        "box": Box(x=49, y=48, width=377, height=672),
        "cif_init_done": True,
        "allowed_domains": ["contoso.crm.dynamics.com"],
        "messages": [CifMessage(outcome="success")],
    }
    return WidgetFrame(**(values | changes))


def healthy_panel() -> PanelEvidence:
    return PanelEvidence(
        found=True,
        selector="#SidePanelIFrame",
        xrm_state=1,
        visible=True,
        in_viewport=True,
        box=Box(x=49, y=48, width=377, height=720),
        viewport_width=1366,
        viewport_height=768,
        host_messages=[CifMessage(type="setmode", value=1, origin="https://phone.contoso.com")],
        widgets=[widget()],
    )


USER_ID = "0a1b2c3d-0000-4000-8000-0000000000aa"
PROFILE_ID = "5e5e5e5e-0000-4000-8000-000000000001"
V2_ID = PROVIDERS[0]["id"]
V1_ID = "1e1e1e1e-0000-4000-8000-000000000001"
LOADER = {
    "msdyn_applicationextensionid": "eeeeeeee-0000-4000-8000-000000000001",
    "msdyn_name": "Channel Integration Framework v2 loader",
    "msdyn_uniquename": "msdyn_CIFV2Loader",
    "msdyn_webresource_url": "WebResources/msdyn_channelintegrationframework.js",
    "msdyn_type": 387300000,
}


def v2_provider(**changes: object) -> dict:
    return {
        "msdyn_channelproviderid": V2_ID,
        "msdyn_name": "Contoso Phone",
        "msdyn_uniquename": "contoso_softphone",
        "msdyn_label": "Contoso Phone",
        "msdyn_channelurl": CHANNEL_URL,
        "msdyn_sortorder": 1,
        "msdyn_trusteddomain": "",
        "msdyn_customparams": "(not kept: JSON with keys queue)",
        "msdyn_enableanalytics": False,
        "msdyn_apiversion": 162450000,
        "statecode": 0,
    } | changes


def v1_provider(**changes: object) -> dict:
    return {
        "msdyn_ciproviderid": V1_ID,
        "msdyn_name": "Contoso Phone",
        "msdyn_label": "Contoso Phone",
        "msdyn_landingurl": CHANNEL_URL,
        "msdyn_sortorder": 1,
        "msdyn_trusteddomain": "",
        "msdyn_customparams": "(not kept: JSON with keys queue)",
        "msdyn_enableanalytics": False,
        "msdyn_ciproviderapiversion": 0,
        "statecode": 1,
    } | changes


def profile(**changes: object) -> dict:
    return {
        "msdyn_appconfigurationid": PROFILE_ID,
        "msdyn_name": "Contoso agents",
        "msdyn_uniquename": "contoso_agents",
        "msdyn_appmoduleuniquename": "msdyn_CustomerServiceWorkspace",
        "msdyn_profileorder": 2,
        "msdyn_appconfig_msdyn_channelprovider": [
            {"msdyn_channelproviderid": V2_ID, "msdyn_uniquename": "contoso_softphone", "msdyn_label": "Contoso Phone"}
        ],
        "msdyn_appconfiguration_applicationextension": [LOADER],
    } | changes


def healthy_dataverse(**changes: object) -> DataverseEvidence:
    """The records of a finished migration: the CIF 1.0 provider deactivated, its CIF 2.0 copy attached to the
    app's profile, which the user is assigned to directly."""
    values: dict = {
        "user_id": USER_ID,
        "org_url": ORG,
        "app_unique_name": "msdyn_CustomerServiceWorkspace",
        "v1_providers": [v1_provider()],
        "v2_providers": [v2_provider()],
        "profiles": [profile()],
        "user": {
            "systemuserid": USER_ID,
            "fullname": "Agent Smith",
            "msdyn_appconfiguration_systemuser": [{"msdyn_appconfigurationid": PROFILE_ID}],
            "systemuserroles_association": [],
        },
        "role_mappings": [],
        "views": [],
    }
    return DataverseEvidence(**(values | changes))


def healthy_evidence() -> Evidence:
    return Evidence(
        target=TargetInfo(name="contoso", url=ORG, app="msdyn_CustomerServiceWorkspace"),
        navigation=Navigation(
            requested_url=f"{ORG}/main.aspx?appname=msdyn_CustomerServiceWorkspace",
            final_url=f"{ORG}/main.aspx?appid=9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c&pagetype=dashboard",
            status=200,
            title="Customer Service workspace",
            app_ready=True,
            ready_ms=1800.0,
        ),
        app=AppInfo(
            xrm_present=True,
            user_name="agent@contoso.com",
            app_id="9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c",
            app_unique_name="msdyn_CustomerServiceWorkspace",
            app_display_name="Customer Service workspace",
            url_app_id="9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c",
            session_tabs=1,
        ),
        resources=[
            ResourceLoad(url=f"{ORG}/uclient/scripts/app.js", resource_type="script", status=200),
            library_load(),
            ResourceLoad(url=CHANNEL_URL, resource_type="document", status=200, duration_ms=120.0),
            ResourceLoad(
                url=WIDGET_LIBRARY_URL, resource_type="script", status=200, duration_ms=40.0, frame_url=CHANNEL_URL
            ),
        ],
        storage=healthy_storage(),
        panel=healthy_panel(),
        dataverse=healthy_dataverse(),
        console=[],
    )
