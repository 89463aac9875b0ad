"""cif.v1_absent: warn when CIF 1.0 host pieces are still active beside CIF 2.0."""

from __future__ import annotations

from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import file_name, succeeded
from cifcheck.evidence import Evidence
from cifcheck.results import Detail

V1_FILES = ("msdyn_internal_ci_library.js", "msdyn_core_ci_library.js")


@check(
    id="cif.v1_absent",
    title="No CIF 1.0 leftovers",
    failure_title="CIF 1.0 is still active beside CIF 2.0",
    remediation="Once the CIF 2.0 provider works, deactivate the CIF 1.0 provider record (Channel Integration "
    "Framework v1.0 Provider, msdyn_ciprovider) for this app, so agents do not get two communication panels.",
    checked="Looks for CIF 1.0 host libraries among the page's requests and for active CIF 1.0 provider records "
    "(Web API GET).",
    doc_step="After migrating: retire the CIF 1.0 provider",
    requires=("resources",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    loaded = sorted(
        {file_name(r.url) for r in evidence.resources or [] if file_name(r.url) in V1_FILES and succeeded(r)}
    )
    dataverse = evidence.dataverse
    records = dataverse.v1_providers if dataverse else None
    active = [r for r in records or [] if r.get("statecode") == 0]
    details = []
    if records is not None:
        details.append(
            Detail(
                kind="table",
                title="CIF 1.0 provider records (msdyn_ciproviders)",
                headings=[
                    {"key": "msdyn_label", "label": "Label", "type": "text"},
                    {"key": "msdyn_landingurl", "label": "Landing URL", "type": "url"},
                    {"key": "statecode", "label": "State (0 active)", "type": "text"},
                ],
                rows=[{k: r.get(k) for k in ("msdyn_label", "msdyn_landingurl", "statecode")} for r in records],
            )
        )
    found = [f"{name} loaded" for name in loaded]
    found += [f"CIF 1.0 provider {r.get('msdyn_label') or r.get('msdyn_name')} is active" for r in active]
    if found:
        return Verdict("warn", "CIF 1.0 is still active beside 2.0: " + "; ".join(found) + ".", details)
    unread = ""
    if records is None:
        why = (dataverse.errors.get("msdyn_ciproviders") if dataverse else None) or "not read"
        unread = f" (CIF 1.0 provider records could not be checked: {why})"
    return Verdict("pass", f"No CIF 1.0 host library was loaded and no CIF 1.0 provider is active{unread}.", details)
