"""Hand-built Evidence for unit tests of checks: a healthy page by default, changed per test."""

from __future__ import annotations

from cifcheck.evidence import AppInfo, Evidence, Navigation, ResourceLoad, StorageEvidence, TargetInfo

ORG = "https://contoso.crm.dynamics.com"
LIBRARY_URL = f"{ORG}/%7b637199221580014143%7d/webresources/msdyn_channelintegrationframework.js"


def library_load(**changes: object) -> ResourceLoad:
    values: dict = {"url": LIBRARY_URL, "resource_type": "script", "status": 200, "duration_ms": 85.0, "size": 48213}
    return ResourceLoad(**(values | changes))


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
        app=AppInfo(xrm_present=True, user_name="agent@contoso.com", app_unique_name="msdyn_CustomerServiceWorkspace"),
        resources=[
            ResourceLoad(url=f"{ORG}/uclient/scripts/app.js", resource_type="script", status=200),
            library_load(),
        ],
        storage=StorageEvidence(origin=ORG, keys=[], values={}),
        console=[],
    )
