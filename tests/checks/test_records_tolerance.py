"""The records checks on odd but plausible records: shapes an org written independently of the sandbox may give."""

from __future__ import annotations

import json

import pytest

from cifcheck.checks import ORDER
from cifcheck.evidence import Evidence, StorageEvidence
from tests.checks.test_records import (
    AGENT_ROLE,
    SUPERVISOR_ROLE,
    SUPERVISORS,
    SUPERVISORS_ID,
    evidence,
    mapping,
    migrating,
    omnichannel,
    role,
    user,
    view,
)
from tests.evidence_factory import PROFILE_ID, V2_ID, healthy_evidence, profile, v1_provider, v2_provider

RECORDS_CHECKS = tuple(check_id for check_id in ORDER if check_id.startswith("records."))


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


# --- values: statecode as the org may write it -------------------------------------------------------------------
@pytest.mark.parametrize("state", [0, "0", "Active", 0.0])
def test_an_active_cif1_provider_is_active_whatever_form_its_statecode_takes(judge, state: object):
    checked = evidence(v1_providers=[v1_provider(statecode=state)], v2_providers=[])
    assert judge("records.provider_parity", checked).status == "fail"


@pytest.mark.parametrize("state", [1, "1", "Inactive"])
def test_a_deactivated_cif1_provider_is_deactivated_whatever_form_its_statecode_takes(judge, state: object):
    checked = evidence(v1_providers=[v1_provider(statecode=state)], v2_providers=[])
    assert judge("records.provider_parity", checked).status == "skip"


@pytest.mark.parametrize("state", ["0", "Active"])
def test_an_active_view_passes_whatever_form_its_statecode_takes(judge, state: object):
    checked = omnichannel([view() | {"statecode": state}])
    assert judge("records.active_providers_view", checked).status == "pass"


def test_an_active_view_of_another_query_type_does_not_stand_for_the_deactivated_public_view(judge):
    quick_find = view() | {"savedqueryid": "7e7e7e7e-0000-4000-8000-000000000009", "querytype": 4}
    checked = omnichannel([quick_find, view(state=1)])
    result = judge("records.active_providers_view", checked)
    assert result.status == "fail"
    assert "deactivated" in result.reason


# --- values: ids in upper case or braces -------------------------------------------------------------------------
def braced(guid: str) -> str:
    return "{" + guid.upper() + "}"


def test_a_direct_assignment_whose_id_is_braced_and_upper_case_is_the_profile(judge):
    checked = evidence(user=user(profiles=[braced(PROFILE_ID)]))
    assert judge("records.user_assigned", checked).status == "pass"


def test_a_profile_whose_own_id_is_braced_still_matches_its_role_mapping(judge):
    checked = evidence(
        profiles=[profile(msdyn_appconfigurationid=braced(PROFILE_ID))],
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent")]),
        role_mappings=[mapping(PROFILE_ID, braced(AGENT_ROLE))],
    )
    assert judge("records.user_assigned", checked).status == "pass"


def test_an_attachment_whose_id_is_braced_is_the_deactivated_provider_it_names(judge):
    attached = [{"msdyn_channelproviderid": braced(V2_ID), "msdyn_label": "Contoso Phone"}]
    checked = evidence(
        profiles=[profile(msdyn_appconfig_msdyn_channelprovider=attached)], v2_providers=[v2_provider(statecode=1)]
    )
    result = judge("records.profile_providers", checked)
    assert result.status == "fail"
    assert "deactivated" in result.reason


def test_a_configured_profile_named_by_its_id_matches_a_braced_id(judge):
    checked = evidence(profiles=[profile(msdyn_appconfigurationid=braced(PROFILE_ID))])
    checked.settings.records.profile = PROFILE_ID
    assert judge("records.profile_providers", checked).status == "pass"


# --- role mappings -----------------------------------------------------------------------------------------------
def test_a_deactivated_role_mapping_gives_no_profile(judge):
    checked = evidence(
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent")]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE) | {"statecode": 1}],
    )
    checked.storage = None
    assert judge("records.user_assigned", checked).status == "fail"


def test_a_rank_on_the_mapping_outranks_the_profiles_own(judge):
    checked = evidence(
        profiles=[profile(), SUPERVISORS],
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent"), role(SUPERVISOR_ROLE, "Omnichannel supervisor")]),
        role_mappings=[
            mapping(PROFILE_ID, AGENT_ROLE) | {"msdyn_rank": "01"},
            mapping(SUPERVISORS_ID, SUPERVISOR_ROLE) | {"msdyn_rank": 3},
        ],
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "pass"
    assert "(rank 1)" in result.reason


def test_two_mapped_profiles_of_the_same_best_rank_are_no_pass_as_which_wins_is_not_documented(judge):
    tied = SUPERVISORS | {"msdyn_profileorder": 2, "msdyn_name": "A first by name"}
    checked = evidence(
        profiles=[profile(), tied],
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent"), role(SUPERVISOR_ROLE, "Omnichannel supervisor")]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE), mapping(SUPERVISORS_ID, SUPERVISOR_ROLE)],
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "warn"
    assert "A first by name" in result.reason and "Contoso agents" in result.reason


def test_several_direct_assignments_with_and_without_the_provider_are_no_pass(judge):
    profiles = [profile(msdyn_profileorder=None), SUPERVISORS]
    checked = evidence(profiles=profiles, user=user([PROFILE_ID, SUPERVISORS_ID]))
    result = judge("records.user_assigned", checked)
    assert result.status == "warn"
    assert "Contoso supervisors" in result.reason and "Contoso agents" in result.reason


# --- api version -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [162450000, "162450000", 162450000.0, "2", "2.0", 2, "CIF 2.0", "v2"])
def test_api_version_2_passes_in_any_form_it_may_come(judge, version: object):
    checked = migrating()
    checked.dataverse.v2_providers = [v2_provider(msdyn_apiversion=version)]
    result = judge("records.provider_parity", checked)
    assert result.status == "pass", result.reason


@pytest.mark.parametrize("version", [162450001, "1.0", "1", None])
def test_another_api_version_fails(judge, version: object):
    checked = migrating()
    checked.dataverse.v2_providers = [v2_provider(msdyn_apiversion=version)]
    assert judge("records.provider_parity", checked).status == "fail"


# --- structures: navigation lists missing or null ----------------------------------------------------------------
@pytest.mark.parametrize("missing", ["absent", "null"])
def test_a_profile_whose_provider_list_was_not_read_is_an_error_not_a_fail(judge, missing: str):
    record = profile(msdyn_appconfig_msdyn_channelprovider=None)
    if missing == "absent":
        del record["msdyn_appconfig_msdyn_channelprovider"]
    result = judge("records.profile_providers", evidence(profiles=[record]))
    assert result.status == "error"
    assert "Contoso agents" in result.reason


@pytest.mark.parametrize("missing", ["absent", "null"])
def test_a_profile_whose_extension_list_was_not_read_is_an_error_not_a_fail(judge, missing: str):
    record = profile(msdyn_appconfiguration_applicationextension=None)
    if missing == "absent":
        del record["msdyn_appconfiguration_applicationextension"]
    result = judge("records.loader_extension", evidence(profiles=[record]))
    assert result.status == "error"
    assert "Contoso agents" in result.reason


@pytest.mark.parametrize("column", ["msdyn_appconfiguration_systemuser", "systemuserroles_association"])
def test_a_user_whose_profiles_or_roles_were_not_read_is_an_error_not_a_verdict(judge, column: str):
    record = user()
    del record[column]
    checked = evidence(user=record)
    checked.storage = None
    result = judge("records.user_assigned", checked)
    assert result.status == "error"
    assert column in result.reason


def test_a_provider_attached_twice_is_one_provider(judge):
    attached = profile()["msdyn_appconfig_msdyn_channelprovider"] * 2
    checked = evidence(profiles=[profile(msdyn_appconfig_msdyn_channelprovider=attached), SUPERVISORS], user=user())
    # the session holds it once: a custom default profile is still recognised
    assert judge("records.user_assigned", checked).status == "warn"
    assert judge("records.profile_providers", checked).reason.count("Contoso Phone") == 1


# --- partial reads -----------------------------------------------------------------------------------------------
def test_a_failed_whoami_is_the_error_the_user_checks_name(judge):
    errors = {"WhoAmI": "HTTP 500: WhoAmI failed", "systemusers": "not read: WhoAmI failed"}
    for check_id in ("records.user_assigned", "records.session_providers"):
        result = judge(check_id, evidence(user=None, user_id=None, errors=errors))
        assert result.status == "error"
        assert "WhoAmI" in result.reason and "HTTP 500" in result.reason


# --- trusted domains: CIF compares host names only, the port ignored (cif-facts.md) --------------------------------
@pytest.mark.parametrize(
    ("v1", "v2"),
    [
        ("https://phone.contoso.com:8443", "phone.contoso.com"),
        ("phone.contoso.com/widget/", "https://PHONE.contoso.com"),
        ("a.contoso.com; b.contoso.com", "https://b.contoso.com,https://a.contoso.com/"),
    ],
)
def test_trusted_domains_that_name_the_same_hosts_are_equal(judge, v1: str, v2: str):
    checked = migrating(msdyn_trusteddomain=v1)
    checked.dataverse.v2_providers = [v2_provider(msdyn_trusteddomain=v2)]
    assert judge("records.provider_parity", checked).status == "pass"


def test_a_trusted_domain_list_missing_a_host_differs(judge):
    checked = migrating(msdyn_trusteddomain="a.contoso.com;b.contoso.com")
    checked.dataverse.v2_providers = [v2_provider(msdyn_trusteddomain="a.contoso.com")]
    assert judge("records.provider_parity", checked).status == "fail"


# --- counterparts ------------------------------------------------------------------------------------------------
def test_an_active_counterpart_is_taken_before_a_deactivated_copy_of_it(judge):
    retired_id = "7d0c4b1e-0000-4000-8000-000000000009"
    retired = v2_provider(msdyn_channelproviderid=retired_id, statecode=1, msdyn_sortorder=9)
    checked = migrating()
    checked.dataverse.v2_providers = [retired, v2_provider()]
    assert judge("records.provider_parity", checked).status == "pass"


def test_a_counterpart_found_only_deactivated_is_named_as_deactivated(judge):
    checked = migrating()
    checked.dataverse.v2_providers = [v2_provider(statecode=1)]
    result = judge("records.provider_parity", checked)
    assert result.status == "fail"
    assert "deactivated" in result.reason


# --- session entries: matched by id, and by the provider record's channel URL ------------------------------------
def session(entries: list[dict]) -> Evidence:
    checked = healthy_evidence()
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": json.dumps(entries)})
    return checked


def test_a_session_entry_with_only_the_providers_id_is_that_provider(judge):
    result = judge("records.session_providers", session([{"id": braced(V2_ID)}]))
    assert result.status == "pass", result.reason


def test_a_session_entry_with_only_the_channel_url_is_the_attached_provider(judge):
    url = v2_provider()["msdyn_channelurl"].replace("https://phone.contoso.com/", "HTTPS://Phone.Contoso.com:443/")
    result = judge("records.session_providers", session([{"channelUrl": url}]))
    assert result.status == "pass", result.reason
