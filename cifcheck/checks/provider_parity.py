"""records.provider_parity: every active CIF 1.0 provider has a CIF 2.0 counterpart with the values it was copied.

A counterpart is found by channel URL (normal form, parity.py), then by name or label. Values compare in their normal
form; where redaction hid part of a value, its fingerprint (taken before redaction) decides.
"""

from __future__ import annotations

import functools
import re
import uuid

from cifcheck.checks.records import (
    V1_PATH,
    V2_PATH,
    counted,
    is_active,
    link_heading,
    record_link,
    text,
    unread,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.parity import PARITY_FIELDS, ParityField, canonical
from cifcheck.probes.dataverse import V1_TABLE, V2_TABLE
from cifcheck.results import Detail

# msdyn_channelprovider.msdyn_apiversion: 162450000 is "2" (cif-facts.md). How an org or an export writes it is not
# pinned down: the option's value (int, float or text), or a label ("2", "2.0", "CIF 2.0", "v2"); each is 2.0.
API_VERSION_2 = (162450000.0, 2.0)
LABEL_2 = re.compile(r"(?i)^(cif\s*)?v?\s*2(\.0)?$")
MAX_NAMED = 5


def _fingerprint(evidence: Evidence, table: str, record: dict, id_field: str, column: str) -> str | None:
    fingerprints = evidence.dataverse.fingerprints if evidence.dataverse else {}
    if not fingerprints:
        return None
    record_id = _record_id(str(record.get(id_field)))
    return fingerprints.get(f"{table}/{record_id}/{column}") if record_id else None


@functools.lru_cache(maxsize=65_536)
def _record_id(value: str) -> str:
    """A record id as the fingerprints name it (dataverse.py): a GUID in its plain form, "" for anything else."""
    try:
        return str(uuid.UUID(value.strip("{}")))
    except ValueError:
        return ""


def _differs(evidence: Evidence, field: ParityField, v1: dict, v2: dict) -> bool:
    """A value the evidence does not keep as the org sent it (redacted, or never kept) has a fingerprint; one that is
    kept has none. Both fingerprinted: they decide. One only: the values differ (the same value is redacted the same
    way). Neither (or evidence from before fingerprints): the kept values in their normal form decide."""
    old = _fingerprint(evidence, V1_TABLE, v1, "msdyn_ciproviderid", field.v1)
    new = _fingerprint(evidence, V2_TABLE, v2, "msdyn_channelproviderid", field.v2)
    if old is not None or new is not None:
        if evidence.dataverse and evidence.dataverse.fingerprints and (old is None or new is None):
            return True
        return old != new
    return canonical(field.kind, v1.get(field.v1)) != canonical(field.kind, v2.get(field.v2))


class _Counterparts:
    """The CIF 2.0 providers indexed by channel URL and by name, so that thousands of pairs are found in linear time."""

    def __init__(self, evidence: Evidence, v2s: list[dict]) -> None:
        self._evidence = evidence
        self.by_url: dict[str, list[dict]] = {}
        self.by_name: dict[str, list[dict]] = {}
        for v2 in v2s:
            url = self.url_key(V2_TABLE, v2, "msdyn_channelproviderid", PARITY_FIELDS[0].v2)
            if url:
                self.by_url.setdefault(url, []).append(v2)
            for column in ("msdyn_name", "msdyn_label", "msdyn_uniquename"):
                name = text(v2.get(column)).strip().casefold()
                if name and v2 not in self.by_name.get(name, []):
                    self.by_name.setdefault(name, []).append(v2)

    def url_key(self, table: str, record: dict, id_field: str, column: str) -> str:
        found = _fingerprint(self._evidence, table, record, id_field, column)
        if found is not None:
            return "#" + found
        return canonical("url", record.get(column)) if record.get(column) else ""

    def of(self, v1: dict) -> dict | None:
        url = self.url_key(V1_TABLE, v1, "msdyn_ciproviderid", PARITY_FIELDS[0].v1)
        by_url = self.by_url.get(url, []) if url else []
        named: list[dict] = []
        for column in ("msdyn_name", "msdyn_label"):
            named += self.by_name.get(text(v1.get(column)).strip().casefold(), [])
        both = [v2 for v2 in by_url if any(v2 is n for n in named)]
        found = both or by_url or named
        # A deactivated copy left beside the active one is not the counterpart: the active one is.
        return next((v2 for v2 in found if is_active(v2)), next(iter(found), None))


def _is_version_2(value: object) -> bool:
    written = text(value).strip()
    try:
        return float(written) in API_VERSION_2
    except ValueError:
        return bool(LABEL_2.match(written))


def _name(record: dict) -> str:
    return text(record.get("msdyn_label")) or text(record.get("msdyn_name")) or "(unnamed)"


def _shown(record: dict, column: str) -> str:
    return text(record.get(column)) or "(empty)"


@check(
    id="records.provider_parity",
    title="CIF 2.0 providers copied from CIF 1.0",
    failure_title="A CIF 1.0 provider was not copied to CIF 2.0 as it is",
    remediation="Open the CIF 2.0 channel provider named below and set the values the table shows from its CIF 1.0 "
    "provider (channel URL, label, sort order, trusted domain, custom parameters, enable analytics), with API "
    f"version 2.0; create it where none exists. CIF 2.0 providers: {V2_PATH}. CIF 1.0 providers: {V1_PATH}.",
    checked="Reads the CIF 1.0 (msdyn_ciproviders) and CIF 2.0 (msdyn_channelproviders) provider records with "
    "cifcheck's own Web API GETs, pairs each active CIF 1.0 provider with its CIF 2.0 counterpart by channel URL, "
    "then by name or label, and compares the values the migration copies.",
    doc_step="Step 2: copy the channel URL and the other attribute values from the CIF 1.0 provider",
    requires=("dataverse",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    refused = unread(evidence, "records.provider_parity", V1_TABLE, V2_TABLE)
    if refused is not None:
        return refused
    assert evidence.dataverse is not None
    v1s = evidence.dataverse.v1_providers or []
    v2s = evidence.dataverse.v2_providers or []
    active = [record for record in v1s if is_active(record)]
    if not v1s:
        return Verdict("skip", "No CIF 1.0 provider (msdyn_ciprovider) exists in this org: nothing to compare.")
    if not active:
        return Verdict(
            "skip",
            f"No CIF 1.0 provider is active ({len(v1s):,} deactivated): nothing to compare; a deactivated provider "
            "is retired, as the migration ends.",
        )
    missing: list[dict] = []
    deactivated: list[dict] = []
    differences: list[dict] = []
    counterparts = _Counterparts(evidence, v2s)
    for v1 in active:
        v2 = counterparts.of(v1)
        if v2 is None:
            missing.append(v1)
            continue
        if not is_active(v2):
            deactivated.append(v2)
            differences.append(_row(evidence, v1, v2, "State", "active", "deactivated"))
        for field in PARITY_FIELDS:
            if _differs(evidence, field, v1, v2):
                old, new = _shown(v1, field.v1), _shown(v2, field.v2)
                if old == new:
                    old = new = f"{old} (they differ in a part cifcheck does not show)"
                differences.append(_row(evidence, v1, v2, field.label, old, new))
        if not _is_version_2(v2.get("msdyn_apiversion")):
            differences.append(_row(evidence, v1, v2, "API version", "(CIF 1.0)", _shown(v2, "msdyn_apiversion")))
    details = []
    if differences:
        details.append(
            Detail(
                kind="table",
                title="Differences, field by field (CIF 1.0 provider beside its CIF 2.0 provider)",
                headings=[
                    {"key": "provider", "label": "CIF 2.0 provider", "type": "text"},
                    {"key": "field", "label": "Field", "type": "text"},
                    {"key": "v1", "label": "CIF 1.0 value", "type": "code"},
                    {"key": "v2", "label": "CIF 2.0 value", "type": "code"},
                    {"key": "id", "label": "Record id", "type": "code"},
                    link_heading(),
                ],
                rows=differences,
            )
        )
    if missing:
        details.append(
            Detail(
                kind="table",
                title="CIF 1.0 providers with no CIF 2.0 counterpart",
                headings=[
                    {"key": "name", "label": "CIF 1.0 provider", "type": "text"},
                    {"key": "url", "label": "Channel URL", "type": "url"},
                    {"key": "id", "label": "Record id", "type": "code"},
                    link_heading(),
                ],
                rows=[
                    {
                        "name": _name(v1),
                        "url": text(v1.get("msdyn_landingurl")),
                        "id": text(v1.get("msdyn_ciproviderid")),
                        "link": record_link(evidence, V1_TABLE, v1.get("msdyn_ciproviderid")),
                    }
                    for v1 in missing
                ],
            )
        )
    if not missing and not differences:
        return Verdict(
            "pass",
            (
                "The 1 active CIF 1.0 provider has"
                if len(active) == 1
                else f"All {len(active):,} active CIF 1.0 providers have"
            )
            + " a CIF 2.0 counterpart "
            "with the same channel URL, label, sort order, trusted domain, custom parameters and analytics setting, "
            "at API version 2.0.",
            details,
        )
    found = []
    if deactivated:
        names = ", ".join(f"{_name(v2)} ({text(v2.get('msdyn_channelproviderid'))})" for v2 in deactivated[:MAX_NAMED])
        names += f" and {len(deactivated) - MAX_NAMED:,} more" if len(deactivated) > MAX_NAMED else ""
        verb = "is" if len(deactivated) == 1 else "are"
        found.append(f"{counted(len(deactivated), 'CIF 2.0 counterpart')} {verb} deactivated: {names}")
    if missing:
        names = ", ".join(f"{_name(v1)} ({text(v1.get('msdyn_ciproviderid'))})" for v1 in missing[:MAX_NAMED])
        more = f" and {len(missing) - MAX_NAMED:,} more" if len(missing) > MAX_NAMED else ""
        verb = "has" if len(missing) == 1 else "have"
        found.append(f"{counted(len(missing), 'active CIF 1.0 provider')} {verb} no CIF 2.0 counterpart: {names}{more}")
    values = [row for row in differences if row["field"] != "State"]  # a deactivated counterpart is said above
    if values:
        fields: dict[str, list[str]] = {}  # each provider once, with the fields that differ
        for row in values:
            fields.setdefault(f"{row['name']} ({row['id']})", []).append(row["field"].lower())
        pairs = sorted(f"{provider}: {', '.join(named)}" for provider, named in fields.items())
        more = f" and {len(pairs) - MAX_NAMED:,} more" if len(pairs) > MAX_NAMED else ""
        said = "; ".join(pairs[:MAX_NAMED]) + more
        if len(values) == 1:
            found.append(
                f"{values[0]['name']} ({values[0]['id']}) was copied with a different {values[0]['field'].lower()}"
            )
        else:
            found.append(f"{len(values):,} values differ from the CIF 1.0 providers they were copied from ({said})")
    remediation = None
    if missing and not differences:
        remediation = (
            "Create a CIF 2.0 channel provider for each CIF 1.0 provider named, with its channel URL and attribute "
            f"values and API version 2.0, and attach it to the agent experience profile ({V2_PATH}); or deactivate "
            f"the CIF 1.0 provider if it is no longer used ({V1_PATH})."
        )
    reason = "; ".join(found) + "."
    return Verdict("fail", reason[:1].upper() + reason[1:], details, remediation=remediation)


def _row(evidence: Evidence, v1: dict, v2: dict, label: str, old: str, new: str) -> dict:
    return {
        "provider": f"{_name(v2)} (from {_name(v1)})" if _name(v1) != _name(v2) else _name(v2),
        "name": _name(v2),
        "field": label,
        "v1": old,
        "v2": new,
        "id": text(v2.get("msdyn_channelproviderid")),
        "link": record_link(evidence, V2_TABLE, v2.get("msdyn_channelproviderid")),
    }
