"""The Dataverse records the checks need: who is signed in, the CIF 1.0 and CIF 2.0 providers, the app's agent
experience profiles with their providers and extensions, the user's profiles and roles, the profile-to-role
mappings, and the "Active Channel Providers" view.

Read with cifcheck's own Web API client (webapi.py), outside the page, so no page script can change the reads; only
GETs. Only the fields below are asked for and kept; their values are redacted. The parity columns are fingerprinted
first (parity.py), so that values redaction hides in part still compare. A read that did not succeed stays None,
with the reason in `errors` under the table's name, so its checks give `error` rather than judging an empty table;
one refused table never stops the other reads.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from playwright.sync_api import Page

from cifcheck.evidence import DataverseEvidence
from cifcheck.parity import NOT_KEPT, PARITY_FIELDS, described, fingerprint
from cifcheck.probes.webapi import Limits, ReadError, WebApi
from cifcheck.redact import redact_text, redact_values

V1_TABLE = "msdyn_ciproviders"
V2_TABLE = "msdyn_channelproviders"
V1_FIELDS = (
    "msdyn_ciproviderid",
    "msdyn_name",
    "msdyn_label",
    "msdyn_landingurl",
    "msdyn_sortorder",
    "msdyn_trusteddomain",
    "msdyn_customparams",
    "msdyn_enableanalytics",
    "msdyn_ciproviderapiversion",
    "statecode",
)
V2_FIELDS = (
    "msdyn_channelproviderid",
    "msdyn_name",
    "msdyn_uniquename",
    "msdyn_label",
    "msdyn_channelurl",
    "msdyn_sortorder",
    "msdyn_trusteddomain",
    "msdyn_customparams",
    "msdyn_enableanalytics",
    "msdyn_apiversion",
    "statecode",
)
PROFILES = "msdyn_appconfigurations"
PROFILE_FIELDS = ("msdyn_appconfigurationid", "msdyn_name", "msdyn_uniquename", "msdyn_appmoduleuniquename")
# The profile's rank. cif-facts.md puts it on the profile; an org without the column still gets its profiles read.
PROFILE_RANK = "msdyn_profileorder"
PROFILE_PROVIDERS = "msdyn_appconfig_msdyn_channelprovider"
PROFILE_EXTENSIONS = "msdyn_appconfiguration_applicationextension"
PROFILE_EXPAND = {
    PROFILE_PROVIDERS: ("msdyn_channelproviderid", "msdyn_uniquename", "msdyn_name", "msdyn_label"),
    PROFILE_EXTENSIONS: (
        "msdyn_applicationextensionid",
        "msdyn_name",
        "msdyn_uniquename",
        "msdyn_webresource_url",
        "msdyn_type",
    ),
}
USERS = "systemusers"
USER_PROFILES = "msdyn_appconfiguration_systemuser"
USER_ROLES = "systemuserroles_association"
USER_FIELDS = ("systemuserid", "fullname")
USER_EXPAND = {
    USER_PROFILES: ("msdyn_appconfigurationid", "msdyn_name", "msdyn_uniquename", "msdyn_appmoduleuniquename"),
    # A role is copied into every business unit; _parentrootroleid_value names the root role a mapping may name.
    USER_ROLES: ("roleid", "name", "_parentrootroleid_value"),
}
# The mapping's column types (lookup or text) are not published: every column is read and matched by name.
ROLE_MAPPINGS = "msdyn_appprofilerolemappings"
ROLE_MAPPING_COLUMNS = re.compile(r"(?i)(appprofile|securityrole|profileorder|rank|^statecode$|^msdyn_name$)")
# A column's name comes from the answer too (no $select): only a Dataverse logical name (lower case, a lookup's
# `_<name>_value`) that redaction leaves as it is becomes a key of the evidence, which keys are not redacted in.
LOGICAL_NAME = re.compile(r"_?[a-z][a-z0-9_]{0,63}")
VIEWS = "savedqueries"
VIEW_FIELDS = ("savedqueryid", "name", "returnedtypecode", "statecode", "querytype")
READS = ("WhoAmI", V1_TABLE, V2_TABLE, PROFILES, USERS, ROLE_MAPPINGS, VIEWS)

T = TypeVar("T")


def read_dataverse(
    page: Page,
    org_hosts: Sequence[str],
    app: str = "",
    view_name: str = "Active Channel Providers",
    limits: Limits | None = None,
) -> DataverseEvidence:
    """Every read, for the target's `app` (a unique name, or an app id the page or the Web API names)."""
    evidence = DataverseEvidence()
    try:
        api = WebApi.for_page(page, org_hosts, limits)
    except ReadError as error:
        evidence.errors = dict.fromkeys(READS, str(error))
        return evidence
    read_records(api, evidence, app, view_name)
    return evidence


def read_records(api: WebApi, evidence: DataverseEvidence, app: str, view_name: str) -> None:
    evidence.org_url = api.origin
    errors: dict[str, str] = {}

    def attempt(name: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except ReadError as error:  # one table refused is no reason not to read the others
            errors[name] = str(error)
            return None

    key = secrets.token_bytes(32)  # for this read's fingerprints only; never stored
    fingerprints: dict[str, str] = {}

    def providers(table: str, fields: tuple[str, ...], side: str) -> list[dict]:
        records = api.raw_records(table, fields)
        id_field = fields[0]
        kept = []
        for record in records:
            record_id = _guid(str(record.get(id_field, "")))
            shown: dict = redact_values({c: described(v) if c in NOT_KEPT else v for c, v in record.items()})  # type: ignore[assignment]
            for parity in PARITY_FIELDS:
                column = getattr(parity, side)
                # Only a value the evidence does not keep as it is: the rest compares as kept (parity.py).
                if record_id and column in record and (column in NOT_KEPT or shown.get(column) != record[column]):
                    fingerprints[f"{table}/{record_id}/{column}"] = fingerprint(key, parity.kind, record[column])
            kept.append(shown)
        return kept

    who = attempt("WhoAmI", lambda: api.get("WhoAmI"))
    user_id = who.get("UserId") if who else None
    evidence.user_id = user_id if isinstance(user_id, str) else None
    evidence.v1_providers = attempt(V1_TABLE, lambda: providers(V1_TABLE, V1_FIELDS, "v1"))
    evidence.v2_providers = attempt(V2_TABLE, lambda: providers(V2_TABLE, V2_FIELDS, "v2"))
    unique_name = attempt(PROFILES, lambda: _app_unique_name(api, app))
    evidence.app_unique_name = unique_name
    if unique_name:
        evidence.profiles = attempt(PROFILES, lambda: _profiles(api, unique_name))
    elif PROFILES not in errors:
        errors[PROFILES] = "not read: the target names no app"
    user_id = _guid(evidence.user_id or "")
    if user_id:
        evidence.user = attempt(USERS, lambda: api.record(f"{USERS}({user_id})", USER_FIELDS, USER_EXPAND))
    else:
        errors[USERS] = "not read: WhoAmI named no user" if "WhoAmI" not in errors else "not read: WhoAmI failed"
    evidence.role_mappings = attempt(ROLE_MAPPINGS, lambda: _role_mappings(api))
    view_filter = {"$filter": f"name eq {_literal(view_name)}"}
    evidence.views = attempt(VIEWS, lambda: api.records(VIEWS, VIEW_FIELDS, view_filter))
    evidence.fingerprints = fingerprints
    evidence.errors = errors
    evidence.requests = api.requests


def _profiles(api: WebApi, app_unique_name: str) -> list[dict]:
    query = {"$filter": f"msdyn_appmoduleuniquename eq {_literal(app_unique_name)}"}
    try:
        return api.records(PROFILES, (*PROFILE_FIELDS, PROFILE_RANK), query, PROFILE_EXPAND)
    except ReadError as error:
        if not str(error).startswith("HTTP 400"):
            raise
        # An org whose profiles have no rank column answers 400 to a $select naming it: read without the rank.
        return api.records(PROFILES, PROFILE_FIELDS, query, PROFILE_EXPAND)


def _role_mappings(api: WebApi) -> list[dict]:
    """Every mapping with only the columns that name its profile, its role, its rank or itself: read without
    $select (the columns' types are not published), so nothing else an org keeps there is recorded."""
    return [
        {column: value for column, value in mapping.items() if _mapping_column(column)}
        for mapping in api.records(ROLE_MAPPINGS, ())
    ]


def _mapping_column(column: str) -> bool:
    return bool(
        LOGICAL_NAME.fullmatch(column) and ROLE_MAPPING_COLUMNS.search(column) and redact_text(column) == column
    )


def _app_unique_name(api: WebApi, app: str) -> str | None:
    """The app's unique name: as configured, or, for an app id, as the org's appmodules table names it."""
    try:
        app_id = uuid.UUID(app.strip("{}"))
    except ValueError:
        return app or None
    module = api.get(f"appmodules({app_id})", {"$select": "uniquename"})
    name = module.get("uniquename")
    return name if isinstance(name, str) and name else None


def _guid(value: str) -> str:
    """A record id for a URL path, "" for anything but a GUID: no value from an answer can change the path."""
    try:
        return str(uuid.UUID(value.strip("{}")))
    except ValueError:
        return ""


def _literal(text: str) -> str:
    """An OData string literal: quoted, with quotes doubled."""
    return "'" + text.replace("'", "''") + "'"
