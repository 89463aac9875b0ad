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
        dataverse=DataverseEvidence(user_id="u", v1_providers=[], v2_providers=[]),
        console=[],
    )
