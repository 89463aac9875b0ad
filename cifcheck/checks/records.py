"""What the records checks share: the tables, links that open a record in the org, the error for a read that did
not succeed, and which agent experience profile the signed-in user gets.

Which profile a user gets (Customer Service docs, "Add users to experience profiles"): a custom profile the user is
assigned to directly, else the best-ranked profile mapped to one of the user's security roles (rank 1 before rank
2), else the custom default profile, else the out-of-box default profile, which cannot be modified and so has no
channel provider. Whether a direct assignment outranks a role mapping is not published: cifcheck takes the direct
one and says so when both apply (`records.profile` judges a chosen profile instead).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from cifcheck.checks.registry import Verdict
from cifcheck.evidence import DataverseEvidence, Evidence
from cifcheck.parity import canonical
from cifcheck.probes.dataverse import (
    PROFILE_EXTENSIONS,
    PROFILE_PROVIDERS,
    PROFILE_RANK,
    PROFILES,
    ROLE_MAPPINGS,
    USER_PROFILES,
    USER_ROLES,
    USERS,
    V1_TABLE,
    V2_TABLE,
    VIEWS,
)
from cifcheck.results import Detail

# entity set -> (logical name, the table's display name)
TABLES = {
    "WhoAmI": ("systemuser", "WhoAmI"),
    V1_TABLE: ("msdyn_ciprovider", "Channel Integration Framework v1.0 Provider"),
    V2_TABLE: ("msdyn_channelprovider", "Channel Provider"),
    PROFILES: ("msdyn_appconfiguration", "App Profile (agent experience profile)"),
    USERS: ("systemuser", "User"),
    ROLE_MAPPINGS: ("msdyn_appprofilerolemapping", "App profile role mapping"),
    VIEWS: ("savedquery", "View"),
}

PROFILES_PATH = "Customer Service admin center > Agent experience > Workspaces > Agent experience profiles"
V1_PATH = "Channel Integration Framework app > Channel Integration Framework (v1.0 providers)"
V2_PATH = f"{PROFILES_PATH} > <profile> > Channel providers > Edit > Third party voice channel providers"

OMNICHANNEL_APP = "omnichannelengagementhub"


def org_url(evidence: Evidence) -> str:
    """The org's origin, for links to its records ("" for the sandbox's sandbox:// URL in old evidence)."""
    dataverse = evidence.dataverse
    if dataverse is not None and dataverse.org_url:
        return dataverse.org_url.rstrip("/")
    parts = urlsplit(evidence.target.url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def record_link(evidence: Evidence, entity_set: str, record_id: object) -> str:
    """The URL that opens a record in the org's Unified Interface."""
    base = org_url(evidence)
    try:
        guid = uuid.UUID(str(record_id).strip("{}"))
    except ValueError:
        return ""  # an id that is no GUID goes into no link
    if not base:
        return ""
    return f"{base}/main.aspx?pagetype=entityrecord&etn={TABLES[entity_set][0]}&id={guid}"


# The first check (in the report's order) that reads each table: it carries the fix for a read that did not succeed,
# and the other checks that need the table point to it, so that no paragraph repeats across a report's cards.
FIRST_READER = {
    V1_TABLE: "records.provider_parity",
    V2_TABLE: "records.provider_parity",
    PROFILES: "records.profile_providers",
    USERS: "records.user_assigned",
    ROLE_MAPPINGS: "records.user_assigned",
    VIEWS: "records.active_providers_view",
}


# entity set -> the DataverseEvidence attribute its records are kept in
RECORDED = {
    "WhoAmI": "user_id",
    V1_TABLE: "v1_providers",
    V2_TABLE: "v2_providers",
    PROFILES: "profiles",
    USERS: "user",
    ROLE_MAPPINGS: "role_mappings",
    VIEWS: "views",
}
NOT_RECORDED = "not recorded in this evidence, and no error either (evidence from an older cifcheck?)"


def unread(evidence: Evidence, check_id: str, *tables: str) -> Verdict | None:
    """An `error` for the first of `tables` that could not be read, naming the table and the privilege the user
    lacks when the org refused it; None when every one was read. A table kept as None with no error recorded (older
    evidence, or a probe that stopped) was not read either: judging it as empty would be a verdict on nothing."""
    dataverse = evidence.dataverse
    errors = dict(dataverse.errors) if dataverse else {}
    for table in tables:
        if table not in errors and (dataverse is None or getattr(dataverse, RECORDED.get(table, ""), []) is None):
            errors[table] = NOT_RECORDED
        elif table == USERS and table not in errors and dataverse is not None and dataverse.user is not None:
            # The user's profiles and roles are N:N expands: a list missing or null was not read, which is not
            # the same as none (the Web API answers an empty expand with []).
            lists = [column for column in (USER_PROFILES, USER_ROLES) if dataverse.user.get(column) is None]
            if lists:
                errors[table] = f"the user was read without {' and '.join(lists)} (N:N)"
    missing = [(table, errors[table]) for table in tables if table in errors]
    if not missing:
        return None
    if dataverse is not None and not dataverse.org_url and all(error == NOT_RECORDED for _, error in missing):
        # Evidence gathered before cifcheck read the migration's records (it names no org it read them from): the
        # records were never asked for, which is no failure of this org or of a read. Re-judging it stays possible.
        return Verdict(
            "skip",
            "This evidence was gathered by a cifcheck that did not read the migration's records yet; re-run "
            "cifcheck against the org to judge them.",
        )
    table, error = missing[0]
    logical, display = TABLES.get(table, (table, table))
    privilege = f"prvRead{logical}"
    also = f" (also not read: {', '.join(name for name, _ in missing[1:])})" if len(missing) > 1 else ""
    if "HTTP 403" in error and table == "WhoAmI":
        reason = (
            f"The org refused WhoAmI (403), so the signed-in user could not be told; this could not be decided{also}."
        )
        fix = "WhoAmI needs no privilege beyond signing in: sign in again and re-run; if it stays, ask the org's admin."
    elif "HTTP 403" in error:
        reason = (
            f"The signed-in user may not read {display} records ({table}): the org answered 403, so the user lacks "
            f"the Read privilege on that table ({privilege}); this could not be decided{also}."
        )
        fix = (
            f"Give the signed-in user a security role with Read on {display} ({privilege}), or run cifcheck as a "
            "user who has it (an admin). The browser checks do not need it."
        )
    elif error == NOT_RECORDED:
        reason = f"{display} records ({table}) were {error}: this could not be decided{also}."
        fix = "Re-run cifcheck to read the records again: this evidence does not hold them."
    elif "HTTP 401" in error or "was redirected" in error:
        reason = f"The read of {table} was refused as signed out ({error}); this could not be decided{also}."
        fix = "The session ended during the run: sign in again and re-run."
    else:
        reason = f"{table} could not be read ({error}); this could not be decided{also}."
        fix = (
            "The org's Web API did not answer this read, which says nothing about the records: re-run. If it keeps "
            "failing, compare the records by hand in the admin center."
        )
    owner = FIRST_READER.get(table, check_id)
    if owner != check_id:
        fix = f"The fix is on {owner}'s card: the same read of {table} did not succeed."
    return Verdict(
        "error",
        reason,
        requests_detail(evidence, [name for name, _ in missing]),
        remediation=fix,
        title=f"The {display} records could not be read"
        if table != "WhoAmI"
        else "The signed-in user could not be told",
    )


def requests_detail(evidence: Evidence, tables: list[str]) -> list[Detail]:
    requests = [
        r
        for r in (evidence.dataverse.requests if evidence.dataverse else [])
        if any(f"/{table}" in r.url for table in tables)
    ]
    if not requests:
        return []
    return [
        Detail(
            kind="table",
            title="cifcheck's Web API requests for " + ", ".join(tables),
            headings=[
                {"key": "method", "label": "Method", "type": "text"},
                {"key": "url", "label": "URL", "type": "url"},
                {"key": "status", "label": "Status", "type": "text"},
                {"key": "error", "label": "Error", "type": "text"},
            ],
            rows=[r.model_dump(include={"method", "url", "status", "error"}) for r in requests[-10:]],
        )
    ]


def text(value: object) -> str:
    return "" if value is None else str(value)


def same(a: object, b: object) -> bool:
    return bool(text(a)) and text(a).strip().casefold() == text(b).strip().casefold()


def key(record_id: object) -> str:
    """A record id as ids compare: without braces and spaces, in lower case ({ABC-...} is abc-...)."""
    return _key(text(record_id))


@functools.lru_cache(maxsize=65_536)
def _key(record_id: str) -> str:
    return record_id.strip().strip("{}").strip().lower()


def is_active(record: dict) -> bool:
    """statecode 0 is active; a record without the column is taken as active. An org, an export or a formatted
    answer may give the state as 0, "0", 0.0 or its label "Active": each is active."""
    state = record.get("statecode")
    if state is None or isinstance(state, bool):
        return state is None
    written = text(state).strip().casefold()
    if written in ("", "active"):
        return True
    try:
        return float(written) == 0
    except ValueError:
        return False


@dataclass
class Profile:
    id: str
    name: str
    unique_name: str
    rank: float | None
    providers: list[dict]
    extensions: list[dict]
    # False when the profile came without the N:N list (missing or null): not read, which is not "none attached"
    providers_read: bool = True
    extensions_read: bool = True

    @property
    def display(self) -> str:
        return self.name or self.unique_name or self.id or "(unnamed profile)"

    def named(self, wanted: str) -> bool:
        by_id = bool(key(wanted)) and key(wanted) == key(self.id)
        return by_id or any(same(wanted, value) for value in (self.unique_name, self.name))


def _rank(value: object) -> float | None:
    try:
        rank = float(str(value))
    except ValueError:
        return None
    return rank if rank == rank and rank not in (float("inf"), float("-inf")) else None  # no NaN, no infinity


def _distinct(records: object, id_field: str) -> list[dict]:
    """The records of an N:N list, each once (an org may list an attachment twice)."""
    seen: set[str] = set()
    distinct = []
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue
        identity = key(record.get(id_field)) or repr(sorted(record.items(), key=str))
        if identity not in seen:
            seen.add(identity)
            distinct.append(record)
    return distinct


def profiles(dataverse: DataverseEvidence) -> list[Profile]:
    return [
        Profile(
            id=text(record.get("msdyn_appconfigurationid")),
            name=text(record.get("msdyn_name")),
            unique_name=text(record.get("msdyn_uniquename")),
            rank=_rank(record.get(PROFILE_RANK)),
            providers=_distinct(record.get(PROFILE_PROVIDERS), "msdyn_channelproviderid"),
            extensions=_distinct(record.get(PROFILE_EXTENSIONS), "msdyn_applicationextensionid"),
            providers_read=isinstance(record.get(PROFILE_PROVIDERS), list),
            extensions_read=isinstance(record.get(PROFILE_EXTENSIONS), list),
        )
        for record in dataverse.profiles or []
    ]


def is_out_of_box(profile: Profile, evidence: Evidence) -> bool:
    return any(same(name, profile.name) for name in evidence.settings.records.out_of_box_profiles)


def provider_profiles(evidence: Evidence) -> list[Profile]:
    """The migration's profiles: the configured one, else every profile of the app with a provider attached."""
    every = profiles(evidence.dataverse) if evidence.dataverse else []
    wanted = evidence.settings.records.profile
    if wanted:
        return [p for p in every if p.named(wanted)]
    return [p for p in every if p.providers and not is_out_of_box(p, evidence)]


Path = Literal["direct", "role", "default", "out-of-box default", "none"]


@dataclass
class Assignment:
    """The profile the user gets for the app, how, and what else applied."""

    profile: Profile | None
    path: Path
    how: str  # "directly", "through the security role Agent (rank 1)", ...
    others: list[str] = field(default_factory=list)  # other profiles that apply and why they lose
    # Profiles that apply as well as `profile` with nothing documented to tell them apart (several direct
    # assignments, or role mappings of the same best rank): which one the user gets is not known.
    tied: list[Profile] = field(default_factory=list)


def _mapping_value(mapping: dict, part: str) -> str:
    """A mapping's column by part of its name (a lookup's _x_value or a text column): its profile or role id."""
    for column, value in mapping.items():
        if part in column.lower() and value not in (None, ""):
            return key(value)
    return ""


def assignment(evidence: Evidence) -> Assignment:
    dataverse = evidence.dataverse
    assert dataverse is not None and dataverse.user is not None
    every = profiles(dataverse)
    by_id = {key(p.id): p for p in every}
    direct = list(
        {
            key(record.get("msdyn_appconfigurationid")): by_id[key(record.get("msdyn_appconfigurationid"))]
            for record in dataverse.user.get(USER_PROFILES) or []
            if isinstance(record, dict) and key(record.get("msdyn_appconfigurationid")) in by_id
        }.values()
    )
    roles = {}
    for role in dataverse.user.get(USER_ROLES) or []:
        if isinstance(role, dict):
            for column in ("roleid", "_parentrootroleid_value"):
                if role.get(column):
                    roles[key(role[column])] = text(role.get("name")) or text(role[column])
    mapped: list[tuple[float, Profile, str]] = []
    for mapping in dataverse.role_mappings or []:
        if not is_active(mapping):
            continue  # a deactivated mapping gives no profile
        profile = by_id.get(_mapping_value(mapping, "appprofileid"))
        role = roles.get(_mapping_value(mapping, "securityroleid"))
        if profile is None or role is None:
            continue
        rank = _rank(next((v for k, v in mapping.items() if "profileorder" in k or "rank" in k), None))
        rank = rank if rank is not None else profile.rank
        mapped.append((rank if rank is not None else float("inf"), profile, role))
    mapped.sort(key=lambda item: (item[0], item[1].display))

    def ranked(rank: float) -> str:
        return f"rank {rank:g}" if rank != float("inf") else "no rank"

    others: list[str] = []
    if direct:
        chosen = sorted(direct, key=lambda p: (p.rank if p.rank is not None else float("inf"), p.display))
        others += [f"{p.display} (also assigned directly)" for p in chosen[1:]]
        others += [
            f"{p.display} (through the security role {role}, {ranked(rank)}; a direct assignment is taken to win, "
            "which the documentation does not say)"
            for rank, p, role in mapped
            if p is not chosen[0]
        ]
        return Assignment(chosen[0], "direct", "directly", others, tied=chosen if len(chosen) > 1 else [])
    if mapped:
        rank, profile, role = mapped[0]
        others += [
            f"{p.display} (through the security role {r}, {ranked(k)}: ranked after {profile.display})"
            for k, p, r in mapped[1:]
            if p is not profile
        ]
        tied = list({id(p): p for k, p, _ in mapped if k == rank}.values())
        how = f"through the security role {role} ({ranked(rank)})"
        return Assignment(profile, "role", how, others, tied=tied if len(tied) > 1 else [])
    wanted = evidence.settings.records.default_profile
    default = next((p for p in every if wanted and p.named(wanted)), None)
    if default is not None:
        return Assignment(default, "default", "as the custom default profile (records.default_profile)")
    out_of_box = next((p for p in every if is_out_of_box(p, evidence)), None)
    if out_of_box is not None:
        return Assignment(out_of_box, "out-of-box default", "as the out-of-box default profile")
    return Assignment(None, "none", "from no profile cifcheck can see")


def user_name(evidence: Evidence) -> str:
    user = evidence.dataverse.user if evidence.dataverse else None
    name = text(user.get("fullname")) if user else ""
    return name or (evidence.app.user_name if evidence.app and evidence.app.user_name else "") or "The signed-in user"


def is_omnichannel(evidence: Evidence) -> bool:
    dataverse = evidence.dataverse
    app = (dataverse.app_unique_name if dataverse else None) or evidence.target.app
    return app.casefold() == OMNICHANNEL_APP


def quoted(name: object) -> str:
    """A name as the reasons quote it: in single quotes, always (repr would switch to double quotes for a name with
    an apostrophe in it)."""
    return f"'{text(name)}'"


def counted(count: int, one: str, many: str | None = None) -> str:
    """ "1 provider", "2 providers": a count with its noun in the right number."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def link_heading() -> dict[str, str]:
    return {"key": "link", "label": "Open", "type": "link"}


def in_session(entry: object, record: dict) -> bool:
    """Whether a channelProviders entry (profile.py's ProviderEntry) is this provider record: by unique name, then
    name, label or channel URL (session storage's shape is not published, so any one of them may be missing)."""
    if key(getattr(entry, "id", "")) and key(getattr(entry, "id", "")) == key(record.get("msdyn_channelproviderid")):
        return True
    pairs = (
        (getattr(entry, "unique_name", ""), record.get("msdyn_uniquename")),
        (getattr(entry, "name", ""), record.get("msdyn_name")),
        (getattr(entry, "label", ""), record.get("msdyn_label")),
    )
    if any(same(a, b) for a, b in pairs):
        return True
    url = getattr(entry, "channel_url", "")
    return bool(url) and canonical("url", url) == canonical("url", record.get("msdyn_channelurl"))


def provider_record(evidence: Evidence, attachment: dict) -> dict:
    """An attached provider as the CIF 2.0 provider table has it (state, channel URL), over what the N:N expand gave;
    the attachment alone when the table does not hold it."""
    provider_id = key(attachment.get("msdyn_channelproviderid"))
    found = _providers_by_id(evidence.dataverse).get(provider_id, {}) if provider_id and evidence.dataverse else {}
    return attachment | found


# The list last indexed, held (so that no other list can take its id), with its length and its index.
_indexed: tuple[list[dict], int, dict[str, dict]] = ([], 0, {})


def _providers_by_id(dataverse: DataverseEvidence) -> dict[str, dict]:
    """The CIF 2.0 providers by id, built once per provider list (a profile of 300 providers against a table of
    5,000 would otherwise compare every pair, in each of the checks that asks). Targets are judged in threads: the
    cache is one tuple, read once and replaced whole."""
    global _indexed
    records = dataverse.v2_providers or []
    cached, length, index = _indexed
    if cached is not records or length != len(records):
        index = {}
        for record in records:
            index.setdefault(key(record.get("msdyn_channelproviderid")), record)
        _indexed = (records, len(records), index)
    return index


def provider_label(provider: dict) -> str:
    """A CIF 2.0 provider as people name it: its label, else its name, else its unique name."""
    return (
        text(provider.get("msdyn_label")) or text(provider.get("msdyn_name")) or text(provider.get("msdyn_uniquename"))
    )


def list_not_read(
    profiles: list[Profile], what: str, navigation: str, undecided: str, details: list[Detail], check_id: str
) -> Verdict:
    """The `error` for profiles whose N:N list was not in the answer at all (an empty list would be): `undecided`
    says what could not be decided."""
    names = ", ".join(f"{p.display} ({p.id})" for p in profiles)
    return Verdict(
        "error",
        f"The {what} of {names} were not read (the answer had no {navigation} list, not even an empty one): "
        f"{undecided} could not be decided.",
        details,
        remediation=f"Re-run; if the list is missing again, attach evidence.json to a cifcheck issue about {check_id}.",
    )
