"""records.active_providers_view: Omnichannel's "Active Channel Providers" view exists and is active."""

from __future__ import annotations

from cifcheck.checks.records import (
    TABLES,
    is_active,
    is_omnichannel,
    link_heading,
    quoted,
    record_link,
    same,
    text,
    unread,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.probes.dataverse import V1_TABLE, V2_TABLE, VIEWS
from cifcheck.results import Detail

VIEW_PATH = "Power Apps > Tables > Channel Provider (msdyn_channelprovider) > Views"


@check(
    id="records.active_providers_view",
    title="Active Channel Providers view enabled (Omnichannel)",
    failure_title="The Active Channel Providers view is not enabled",
    remediation=f"Open {VIEW_PATH}, select the view named below and activate it (Activate); create it again from the "
    "solution that brought it if it was deleted.",
    checked="Reads the views (savedqueries) with the configured name (records.view_name) with cifcheck's own Web API "
    "GETs and checks that the one on the CIF 2.0 provider table (returnedtypecode msdyn_channelprovider) is active.",
    doc_step="Step 5 (Omnichannel): make sure that the Active Channel Providers view is enabled",
    requires=("dataverse",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    if not is_omnichannel(evidence):
        return Verdict("skip", "Only Omnichannel for Customer Service needs the Active Channel Providers view.")
    refused = unread(evidence, "records.active_providers_view", VIEWS)
    if refused is not None:
        return refused
    assert evidence.dataverse is not None
    name = evidence.settings.records.view_name
    views = [v for v in evidence.dataverse.views or [] if same(name, v.get("name"))]
    details = [
        Detail(
            kind="table",
            title=f"Views named {name}",
            headings=[
                {"key": "name", "label": "View", "type": "text"},
                {"key": "table", "label": "Table", "type": "code"},
                {"key": "state", "label": "State", "type": "text"},
                {"key": "id", "label": "View id", "type": "code"},
                link_heading(),
            ],
            rows=[
                {
                    "name": text(v.get("name")),
                    "table": text(v.get("returnedtypecode")),
                    "state": "active" if is_active(v) else "inactive",
                    "id": text(v.get("savedqueryid")),
                    "link": record_link(evidence, VIEWS, v.get("savedqueryid")),
                }
                for v in views
            ],
        )
    ]
    on_table = [v for v in views if same(TABLES[V2_TABLE][0], v.get("returnedtypecode"))]
    # Only a public view (querytype 0) is the list the admin enables; a quick find or lookup view of the same name
    # is not. A view without the column is taken as public.
    on_v2 = [v for v in on_table if _is_public(v)]
    if not on_v2 and on_table:
        kinds = ", ".join(sorted({text(v.get("querytype")) for v in on_table}))
        return Verdict(
            "fail",
            f"No public view named {quoted(name)} exists on the CIF 2.0 provider table (msdyn_channelprovider): only "
            f"views of another type (querytype {kinds}).",
            details,
            remediation=f"Restore the public {quoted(name)} view on the Channel Provider table ({VIEW_PATH}).",
        )
    if not on_v2:
        on_v1 = [v for v in views if same(TABLES[V1_TABLE][0], v.get("returnedtypecode"))]
        also = " (only the CIF 1.0 provider table's view of that name exists)" if on_v1 else ""
        return Verdict(
            "fail",
            f"No view named {quoted(name)} exists on the CIF 2.0 provider table (msdyn_channelprovider){also}.",
            details,
            remediation=f"Restore the {quoted(name)} view on the Channel Provider table ({VIEW_PATH}); on a localized "
            "org, set records.view_name to the view's name there.",
        )
    active = [v for v in on_v2 if is_active(v)]
    if not active:
        view = on_v2[0]
        return Verdict(
            "fail",
            f"The view {quoted(view.get('name'))} ({text(view.get('savedqueryid'))}) on msdyn_channelprovider is "
            "deactivated.",
            details,
        )
    view = active[0]
    return Verdict(
        "pass",
        f"The view {quoted(view.get('name'))} on msdyn_channelprovider is active ({text(view.get('savedqueryid'))}).",
        details,
    )


def _is_public(view: dict) -> bool:
    kind = text(view.get("querytype")).strip()
    try:
        return not kind or float(kind) == 0
    except ValueError:
        return kind.casefold() in ("public", "main application view")  # a formatted label
