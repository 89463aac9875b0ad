"""The sandbox org's Dataverse records: the tables a CIF migration is about, built from a scenario, and the profile
the org gives its user (as Unified Interface works it out on the server).

A scenario's providers are its CIF 2.0 provider records; by default each has the CIF 1.0 provider it was copied
from (deactivated, as after a finished migration), both attached to the app's profile, which the user is assigned to
directly. `OrgRecords` changes that story: values not copied, providers not attached, the user assigned by a role or
not at all, a better-ranked profile, a deactivated view, thousands of providers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cifcheck.sandbox.odata import Relation, Store, Table
from cifcheck.sandbox.scenarios import APPS, CIF_LIBRARY, LOADER_NAME, Provider, Scenario

if TYPE_CHECKING:
    from collections.abc import Callable

USER_ID = "6b1a0c0e-7a3f-ee11-bdf4-000d3a5c1e01"
USER_NAME = "Sandbox Agent"
OUT_OF_BOX = {
    "msdyn_CustomerServiceWorkspace": "Customer Service workspace - default profile",
    "OmniChannelEngagementHub": "Omnichannel for Customer Service - default profile",
}
SYSTEM_EXTENSION = 387300000  # msdyn_applicationextension.msdyn_type: System
API_VERSION_2 = 162450000  # msdyn_channelprovider.msdyn_apiversion "2"
VIEW_NAME = "Active Channel Providers"


def stable_id(name: str) -> str:
    """A record id that stays the same across runs, as a real org's would."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cifcheck-sandbox/{name}"))


# Security roles: (name, root role id, the id of its copy in the user's child business unit).
ROLES = {
    "agent": ("Omnichannel agent", stable_id("role/agent"), stable_id("role/agent/child-unit")),
    "supervisor": ("Omnichannel supervisor", stable_id("role/supervisor"), stable_id("role/supervisor/child-unit")),
    "representative": ("Customer Service Representative", stable_id("role/rep"), stable_id("role/rep/child-unit")),
}


def _profile_id(scenario: str, name: str) -> str:
    return stable_id(f"{scenario}/profile/{name}")


def _outranked_id(scenario: str) -> str:
    return _profile_id(scenario, "supervisors")


def _provider_id(scenario: str, unique_name: str) -> str:
    return stable_id(f"{scenario}/{unique_name}")


def _v1_id(scenario: str, unique_name: str) -> str:
    return stable_id(f"{scenario}/v1/{unique_name}")


@dataclass(frozen=True)
class Records:
    """Everything the org's records say, as tables and N:N pairs."""

    store: Store
    profile_id: str | None  # the profile the org gives the user for the scenario's app
    provider_rows: list[dict]  # the CIF 2.0 providers


def build(scenario: Scenario, channel_url: Callable[[Provider], str]) -> Records:
    story = scenario.records
    app_id, _display = APPS[scenario.app]
    name = scenario.name
    v2_rows: list[dict] = []
    v1_rows: list[dict] = []
    providers = list(scenario.providers)
    scale = [
        Provider(unique_name=f"contoso_queue_{n:05}", label=f"Contoso Queue {n:05}", sort_order=100 + n)
        for n in range(1, story.scale + 1)
    ]
    active = scenario.cif1_active or story.v1_active
    for provider in [*providers, *scale]:
        url = channel_url(provider)
        v2 = _v2_row(name, provider, url)
        v1 = _v1_row(name, provider, url, app_id, active)
        if provider in providers:
            v1.update(dict(story.v1_changes))
            v2.update(dict(story.v2_changes))
        v2_rows.append(v2)
        if story.v1_records:
            v1_rows.append(v1)
    for n in range(1, story.unmigrated_v1 + 1):
        legacy = Provider(unique_name=f"legacy_{n}", label=f"Fabrikam Legacy Dialer {n}", sort_order=50 + n)
        v1_rows.append(
            _v1_row(name, legacy, f"https://dialer.fabrikam.example/legacy/{n}/index.html", app_id, active=True)
        )
    if story.detached_provider is not None:
        v2_rows.append(_v2_row(name, story.detached_provider, channel_url(story.detached_provider)))

    extensions = _extensions(scenario)
    profiles, attached, extended = _profiles(scenario, v2_rows, extensions)
    users, roles, user_roles, members, mappings = _people(scenario)
    profile_id = _effective_profile(scenario, profiles, members, mappings)
    tables = [
        Table("msdyn_ciproviders", "msdyn_ciprovider", "msdyn_ciproviderid", v1_rows, columns=_V1_COLUMNS),
        Table(
            "msdyn_channelproviders", "msdyn_channelprovider", "msdyn_channelproviderid", v2_rows, columns=_V2_COLUMNS
        ),
        Table("msdyn_appconfigurations", "msdyn_appconfiguration", "msdyn_appconfigurationid", profiles),
        Table("msdyn_applicationextensions", "msdyn_applicationextension", "msdyn_applicationextensionid", extensions),
        Table("systemusers", "systemuser", "systemuserid", users),
        Table("roles", "role", "roleid", roles, lookups=("parentrootroleid",)),
        _mapping_table(scenario, mappings),
        Table("savedqueries", "savedquery", "savedqueryid", _views(scenario)),
        Table("appmodules", "appmodule", "appmoduleid", _app_modules()),
    ]
    relations = [
        Relation(
            "msdyn_appconfig_msdyn_channelprovider", "msdyn_appconfigurations", "msdyn_channelproviders", attached
        ),
        Relation(
            "msdyn_appconfiguration_applicationextension",
            "msdyn_appconfigurations",
            "msdyn_applicationextensions",
            extended,
        ),
        Relation("msdyn_appconfiguration_systemuser", "msdyn_appconfigurations", "systemusers", members),
        Relation("systemuserroles_association", "systemusers", "roles", user_roles),
    ]
    store = Store(tables, relations, deferred_expands=story.deferred_expands)
    return Records(store, profile_id, v2_rows)


def _v2_row(scenario: str, provider: Provider, url: str) -> dict:
    return {
        "msdyn_channelproviderid": _provider_id(scenario, provider.unique_name),
        "msdyn_name": provider.label,
        "msdyn_uniquename": provider.unique_name,
        "msdyn_label": provider.label,
        "msdyn_channelurl": url,
        "msdyn_enableoutbound": True,
        "msdyn_enableanalytics": False,
        "msdyn_sortorder": provider.sort_order,
        "msdyn_apiversion": API_VERSION_2,
        "msdyn_trusteddomain": provider.trusted_domain,
        "msdyn_customparams": provider.custom_params,
        "statecode": 0,
        "statuscode": 1,
    }


def _v1_row(scenario: str, provider: Provider, url: str, app_id: str, active: bool) -> dict:
    return {
        "msdyn_ciproviderid": _v1_id(scenario, provider.unique_name),
        "msdyn_name": provider.label,
        "msdyn_label": provider.label,
        "msdyn_landingurl": url,
        "msdyn_clicktoact": True,
        "msdyn_sortorder": provider.sort_order,
        "msdyn_ciproviderapiversion": 0,
        "msdyn_trusteddomain": provider.trusted_domain,
        "msdyn_customparams": provider.custom_params,
        "msdyn_enableanalytics": False,
        "msdyn_appselector": app_id,
        "msdyn_roleselector": "",
        # After a finished migration the CIF 1.0 record is deactivated.
        "statecode": 0 if active else 1,
        "statuscode": 1 if active else 2,
    }


_V1_COLUMNS = tuple(_v1_row("", Provider(), "", "", False))
_V2_COLUMNS = tuple(_v2_row("", Provider(), ""))


def _extensions(scenario: Scenario) -> list[dict]:
    extensions = [
        {
            "msdyn_applicationextensionid": stable_id("productivity-tools"),
            "msdyn_name": "Productivity tools",
            "msdyn_uniquename": "msdyn_ProductivityToolsLoader",
            "msdyn_webresource_url": "WebResources/msdyn_productivitytools.js",
            "msdyn_type": SYSTEM_EXTENSION,
        },
        {
            "msdyn_applicationextensionid": stable_id("cif-v2-loader"),
            "msdyn_name": "Channel Integration Framework v2 loader",
            "msdyn_uniquename": LOADER_NAME,
            "msdyn_webresource_url": f"WebResources/{CIF_LIBRARY}",
            "msdyn_type": SYSTEM_EXTENSION,
        },
    ]
    if scenario.loader == "wrong-resource":
        extensions.append(
            {
                "msdyn_applicationextensionid": stable_id("cif-v2-loader/custom"),
                "msdyn_name": "Channel Integration Framework v2 loader (custom)",
                "msdyn_uniquename": LOADER_NAME,
                "msdyn_webresource_url": "WebResources/msdyn_cifloader_custom.js",
                "msdyn_type": SYSTEM_EXTENSION,
            }
        )
    return extensions


def _profile_extensions(scenario: Scenario) -> list[str]:
    """The extensions of the migration's profile: the CIF 2.0 loader first, as the page loads them in order."""
    loader = {"present": "cif-v2-loader", "wrong-resource": "cif-v2-loader/custom"}.get(scenario.loader)
    return [stable_id(name) for name in (loader, "productivity-tools") if name]


def _profiles(scenario: Scenario, v2_rows: list[dict], extensions: list[dict]) -> tuple[list[dict], set, set]:
    story = scenario.records
    name = scenario.name
    profiles: list[dict] = []
    attached: set[tuple[str, str]] = set()
    extended: set[tuple[str, str]] = set()

    def profile(key: str, display: str, unique_name: str, app: str, rank: int | None) -> str:
        profile_id = _profile_id(name, key)
        profiles.append(
            {
                "msdyn_appconfigurationid": profile_id,
                "msdyn_name": display,
                "msdyn_uniquename": unique_name,
                "msdyn_appmoduleuniquename": app,
                "msdyn_profileorder": rank,
                "msdyn_description": "",
                "statecode": 0,
            }
        )
        return profile_id

    for app, display in OUT_OF_BOX.items():
        default = profile(f"default/{app}", display, f"{app}_default_profile", app, None)
        extended.add((default, stable_id("productivity-tools")))
    if story.profile_name:  # "": the app has only its out-of-box profiles
        migrated = profile("agents", story.profile_name, "contoso_agents_profile", scenario.app, 2)
        if story.attached:
            for provider in scenario.providers:
                attached.add((migrated, _provider_id(name, provider.unique_name)))
        for extension_id in _profile_extensions(scenario):
            extended.add((migrated, extension_id))
        supervisors = profile("supervisors", "Contoso supervisors", "contoso_supervisors_profile", scenario.app, 1)
        extended.add((supervisors, stable_id("productivity-tools")))
    other_app = next(app for app in APPS if app != scenario.app)
    elsewhere = profile("other-app", "Contoso agents (other app)", "contoso_other_app_profile", other_app, 3)
    for row in v2_rows:
        attached.add((elsewhere, row["msdyn_channelproviderid"]))
    return profiles, attached, extended


def _people(scenario: Scenario) -> tuple[list[dict], list[dict], set, set, list[tuple[str, str, int]]]:
    """Users, roles, user-role pairs, profile-user pairs, and (profile, root role, rank) mappings."""
    story = scenario.records
    users = [
        {"systemuserid": USER_ID, "fullname": USER_NAME, "domainname": "agent@sandbox.localhost", "isdisabled": False},
        {
            "systemuserid": stable_id("user/other"),
            "fullname": "Other Agent",
            "domainname": "other@sandbox.localhost",
            "isdisabled": False,
        },
    ]
    roles = []
    for role_name, root, child in ROLES.values():
        roles.append({"roleid": root, "name": role_name, "_parentrootroleid_value": root})
        roles.append({"roleid": child, "name": role_name, "_parentrootroleid_value": root})
    migrated = _profile_id(scenario.name, "agents")
    supervisors = _outranked_id(scenario.name)
    user_roles: set[tuple[str, str]] = set()
    if not story.profile_name:
        return users, roles, user_roles, set(), []
    members: set[tuple[str, str]] = {(migrated, stable_id("user/other"))}
    mappings: list[tuple[str, str, int]] = [(supervisors, ROLES["supervisor"][1], 1)]
    held = 2 if story.role_in_child_unit else 1  # which copy of the role the user holds
    if story.assignment == "direct":
        members.add((migrated, USER_ID))
    elif story.assignment in ("role", "outranked"):
        mappings.append((migrated, ROLES["agent"][1], 2))
        user_roles.add((USER_ID, ROLES["agent"][held]))
        if story.assignment == "outranked":
            user_roles.add((USER_ID, ROLES["supervisor"][held]))
    user_roles.add((USER_ID, ROLES["representative"][held]))
    return users, roles, user_roles, members, mappings


def _effective_profile(
    scenario: Scenario, profiles: list[dict], members: set, mappings: list[tuple[str, str, int]]
) -> str | None:
    """The profile the org gives the user for the app: direct, else the best-ranked role mapping, else default."""
    story = scenario.records
    of_app = {p["msdyn_appconfigurationid"] for p in profiles if p["msdyn_appmoduleuniquename"] == scenario.app}
    direct = [profile for profile, user in members if user == USER_ID and profile in of_app]
    if direct:
        return direct[0]
    held_roots = set()
    if story.assignment in ("role", "outranked"):
        held_roots.add(ROLES["agent"][1])
        if story.assignment == "outranked":
            held_roots.add(ROLES["supervisor"][1])
    ranked = sorted((rank, profile) for profile, role, rank in mappings if role in held_roots and profile in of_app)
    if ranked:
        return ranked[0][1]
    return _profile_id(scenario.name, f"default/{scenario.app}")


def _mapping_table(scenario: Scenario, mappings: list[tuple[str, str, int]]) -> Table:
    """Profile role mappings, with their columns as lookups or as text: their types are not published."""
    rows = []
    for index, (profile, role, _rank) in enumerate(mappings):
        row: dict = {"msdyn_appprofilerolemappingid": stable_id(f"{scenario.name}/mapping/{index}")}
        if scenario.records.role_mapping_columns == "lookup":
            row |= {"_msdyn_appprofileid_value": profile, "_msdyn_securityroleid_value": role}
        else:
            row |= {"msdyn_appprofileid": profile, "msdyn_securityroleid": role}
        row |= {"msdyn_name": f"Mapping {index + 1}", "statecode": 0, "msdyn_notes": "internal routing note"}
        rows.append(row)
    lookups = (
        ("msdyn_appprofileid", "msdyn_securityroleid") if scenario.records.role_mapping_columns == "lookup" else ()
    )
    columns = ("msdyn_appprofilerolemappingid", *(f"_{c}_value" for c in lookups), "msdyn_name", "statecode")
    if not lookups:
        columns = ("msdyn_appprofilerolemappingid", "msdyn_appprofileid", "msdyn_securityroleid", *columns[1:])
    return Table(
        "msdyn_appprofilerolemappings",
        "msdyn_appprofilerolemapping",
        "msdyn_appprofilerolemappingid",
        rows,
        lookups=lookups,
        columns=(*columns, "msdyn_notes"),
    )


def _views(scenario: Scenario) -> list[dict]:
    view = scenario.records.view
    views = [
        {
            "savedqueryid": stable_id("view/v1-active-providers"),
            "name": VIEW_NAME,
            "returnedtypecode": "msdyn_ciprovider",
            "querytype": 0,
            "statecode": 0,
            "fetchxml": "<fetch/>",
        },
        {
            "savedqueryid": stable_id("view/all-providers"),
            "name": "All Channel Providers",
            "returnedtypecode": "msdyn_channelprovider",
            "querytype": 0,
            "statecode": 0,
            "fetchxml": "<fetch/>",
        },
    ]
    if view != "v1-only":
        views.append(
            {
                "savedqueryid": stable_id("view/active-providers"),
                "name": VIEW_NAME,
                "returnedtypecode": "msdyn_channelprovider",
                "querytype": 0,
                "statecode": 1 if view == "inactive" else 0,
                "fetchxml": "<fetch/>",
            }
        )
    return views


def _app_modules() -> list[dict]:
    return [
        {"appmoduleid": app_id, "uniquename": unique_name, "name": display}
        for unique_name, (app_id, display) in APPS.items()
    ]
