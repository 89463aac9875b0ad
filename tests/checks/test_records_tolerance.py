"""The records checks on odd but plausible records: shapes an org written independently of the sandbox may give."""

from __future__ import annotations

import pytest

from cifcheck.evidence import Evidence
from tests.checks.test_records import (
    evidence,
    view,
)
from tests.evidence_factory import v1_provider

RECORDS_CHECKS = (
    "records.provider_parity",
    "records.profile_providers",
    "records.user_assigned",
    "records.loader_extension",
    "records.active_providers_view",
    "records.session_providers",
)


def omnichannel_evidence(**dataverse: object) -> Evidence:
    built = evidence(**({"app_unique_name": "OmniChannelEngagementHub", "views": [view()]} | dataverse))
    built.target.app = "OmniChannelEngagementHub"
    return built


# --- old evidence: a table None without an error recorded ---------------------------------------------------------
@pytest.mark.parametrize("column", ["v1_providers", "v2_providers", "profiles", "user", "role_mappings", "views"])
@pytest.mark.parametrize("check_id", RECORDS_CHECKS)
def test_a_table_not_recorded_without_an_error_never_passes_fails_or_crashes(judge, check_id: str, column: str):
    checked = omnichannel_evidence(**{column: None})
    checked.dataverse.v1_providers = [v1_provider(statecode=0)] if column != "v1_providers" else None
    result = judge(check_id, checked)
    assert "crashed" not in result.reason
    healthy = omnichannel_evidence()
    healthy.dataverse.v1_providers = [v1_provider(statecode=0)]
    if result.status != judge(check_id, healthy).status:
        assert result.status == "error", result.reason
        assert "not recorded" in result.reason
