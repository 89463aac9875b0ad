"""cif.v1_absent: warn when CIF 1.0 host pieces are still active beside CIF 2.0."""

from __future__ import annotations

from cifcheck.checks.fixes import is_sandbox, sign_in_again
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import file_name, succeeded
from cifcheck.evidence import Evidence
from cifcheck.results import Detail

V1_FILES = ("msdyn_internal_ci_library.js", "msdyn_core_ci_library.js")
V1_TABLE = "msdyn_ciproviders"
MAX_NAMED = 5  # active providers named in the reason; the table lists them all


@check(
    id="cif.v1_absent",
    title="No CIF 1.0 leftovers",
    failure_title="CIF 1.0 is still active beside CIF 2.0",
    remediation="Once the CIF 2.0 provider works, deactivate the CIF 1.0 provider record (Channel Integration "
    "Framework v1.0 Provider, msdyn_ciprovider) for this app, so agents do not get two communication panels.",
    checked="Looks for CIF 1.0 host libraries among the page's requests and for active CIF 1.0 provider records "
    "(a Web API GET cifcheck makes itself, outside the page).",
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
    unread = None if records is not None else _why_unread(evidence)
    if unread is not None:
        details += _requests_detail(evidence)
    found = [f"{name} loaded" for name in loaded]
    found += [f"CIF 1.0 provider {r.get('msdyn_label') or r.get('msdyn_name')} is active" for r in active[:MAX_NAMED]]
    if len(active) > MAX_NAMED:
        found.append(f"{len(active) - MAX_NAMED:,} more CIF 1.0 providers are active")
    if found:
        also = f" (CIF 1.0 provider records could not be checked: {unread})" if unread else ""
        return Verdict("warn", "CIF 1.0 is still active beside 2.0: " + "; ".join(found) + f".{also}", details)
    if unread is not None:
        # An unread table is no evidence that no CIF 1.0 provider is active: never a pass.
        return Verdict(
            "error",
            f"No CIF 1.0 host library was loaded, but the CIF 1.0 provider records ({V1_TABLE}) could not be read, "
            f"so this could not be decided: {unread}.",
            details,
            remediation=_unread_fix(evidence, unread),
        )
    return Verdict("pass", "No CIF 1.0 host library was loaded and no CIF 1.0 provider is active.", details)


def _why_unread(evidence: Evidence) -> str:
    if evidence.dataverse is not None and evidence.dataverse.errors.get(V1_TABLE):
        return evidence.dataverse.errors[V1_TABLE]
    if "dataverse" in evidence.probe_errors:
        return f"the Web API probe failed: {evidence.probe_errors['dataverse']}"
    return "they were not read"


def _requests_detail(evidence: Evidence) -> list[Detail]:
    """The Web API requests cifcheck made for the CIF 1.0 records, to show how the read went."""
    requests = [r for r in (evidence.dataverse.requests if evidence.dataverse else []) if f"/{V1_TABLE}" in r.url]
    if not requests:
        return []
    return [
        Detail(
            kind="table",
            title=f"cifcheck's Web API requests for {V1_TABLE}",
            headings=[
                {"key": "method", "label": "Method", "type": "text"},
                {"key": "url", "label": "URL", "type": "url"},
                {"key": "status", "label": "Status", "type": "text"},
                {"key": "duration_ms", "label": "Duration", "type": "ms"},
                {"key": "error", "label": "Error", "type": "text"},
            ],
            rows=[r.model_dump(include={"method", "url", "status", "duration_ms", "error"}) for r in requests],
        )
    ]


# webapi.py's words for an answer that refuses the user (401/403) or sends the read to a sign-in page (3xx).
_REFUSED_TO_THE_USER = ("was refused", "was redirected")


def _unread_fix(evidence: Evidence, unread: str) -> str:
    if not any(words in unread for words in _REFUSED_TO_THE_USER):
        # A 5xx, a timeout, a cut connection: the Web API did not answer, which no role or other user changes.
        return (
            "The org's Web API did not answer this read; that says nothing about access. Retry the run; if it keeps "
            "failing, check the Channel Integration Framework v1.0 Provider records by hand in the app's settings."
        )
    fix = (
        f"Give the signed-in user read access to Channel Integration Framework v1.0 Provider records ({V1_TABLE}: "
        "organization-owned, readable by admin roles only unless granted), or check those records by hand in the "
        "app's settings."
    )
    if is_sandbox(evidence):
        return fix
    return f"{fix} To run as a user who may read them: {sign_in_again(evidence)}."
