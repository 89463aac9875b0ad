"""The records checks, judged on hand-written records (evidence_factory.healthy_dataverse is a finished migration)."""

from __future__ import annotations

import json

import pytest

from cifcheck.evidence import Evidence, StorageEvidence
from tests.evidence_factory import (
    ORG,
    PROFILE_ID,
    USER_ID,
    V1_ID,
    V2_ID,
    healthy_dataverse,
    healthy_evidence,
    profile,
    v1_provider,
    v2_provider,
)

AGENT_ROLE = "a0000000-0000-4000-8000-000000000001"
AGENT_ROLE_IN_UNIT = "a0000000-0000-4000-8000-000000000002"
SUPERVISOR_ROLE = "b0000000-0000-4000-8000-000000000001"
SUPERVISORS_ID = "5e5e5e5e-0000-4000-8000-000000000002"
DEFAULT_ID = "5e5e5e5e-0000-4000-8000-000000000003"


def evidence(**dataverse: object) -> Evidence:
    built = healthy_evidence()
    built.dataverse = healthy_dataverse(**dataverse)
    return built


def migrating(**changes: object) -> Evidence:
    """The CIF 1.0 provider still active beside its CIF 2.0 copy: parity is judged."""
    return evidence(v1_providers=[v1_provider(statecode=0, **changes)])


def user(profiles: list[str] = (), roles: list[dict] = ()) -> dict:  # type: ignore[assignment]
    return {
        "systemuserid": USER_ID,
        "fullname": "Agent Smith",
        "msdyn_appconfiguration_systemuser": [{"msdyn_appconfigurationid": p} for p in profiles],
        "systemuserroles_association": list(roles),
    }


def role(role_id: str, name: str, root: str | None = None) -> dict:
    return {"roleid": role_id, "name": name, "_parentrootroleid_value": root or role_id}


def mapping(profile_id: str, role_id: str, lookup: bool = True) -> dict:
    if lookup:
        return {"_msdyn_appprofileid_value": profile_id, "_msdyn_securityroleid_value": role_id}
    return {"msdyn_appprofileid": profile_id, "msdyn_securityroleid": role_id}


SUPERVISORS = profile(
    msdyn_appconfigurationid=SUPERVISORS_ID,
    msdyn_name="Contoso supervisors",
    msdyn_profileorder=1,
    msdyn_appconfig_msdyn_channelprovider=[],
    msdyn_appconfiguration_applicationextension=[],
)
OUT_OF_BOX = profile(
    msdyn_appconfigurationid=DEFAULT_ID,
    msdyn_name="Customer Service workspace - default profile",
    msdyn_profileorder=None,
    msdyn_appconfig_msdyn_channelprovider=[],
    msdyn_appconfiguration_applicationextension=[],
)


# --- records.provider_parity -------------------------------------------------------------------------------------
def test_parity_is_a_skip_when_the_org_never_had_a_cif1_provider(judge):
    result = judge("records.provider_parity", evidence(v1_providers=[]))
    assert (result.status, result.reason) == ("skip", result.reason)
    assert "No CIF 1.0 provider (msdyn_ciprovider) exists" in result.reason


def test_parity_is_a_skip_when_every_cif1_provider_is_deactivated(judge):
    result = judge("records.provider_parity", healthy_evidence())
    assert result.status == "skip"
    assert "1 deactivated" in result.reason


def test_an_active_cif1_provider_copied_as_it_is_passes(judge):
    result = judge("records.provider_parity", migrating())
    assert result.status == "pass", result.reason


def test_a_channel_url_that_means_the_same_is_the_same(judge):
    same_url = "HTTPS://Phone.Contoso.com:443/widget/index.html/?uci=true"
    result = judge("records.provider_parity", migrating(msdyn_landingurl=same_url))
    assert result.status == "pass", result.reason


def test_a_counterpart_with_another_channel_url_is_found_by_name_and_the_url_shown_side_by_side(judge):
    old = "https://phone.contoso.com/cif1/index.html?uci=true"
    result = judge("records.provider_parity", migrating(msdyn_landingurl=old))
    assert result.status == "fail"
    (table,) = result.details
    (row,) = table.rows
    assert (row["field"], row["v1"], row["v2"]) == ("Channel URL", old, v2_provider()["msdyn_channelurl"])
    assert row["id"] == V2_ID
    assert row["link"] == f"{ORG}/main.aspx?pagetype=entityrecord&etn=msdyn_channelprovider&id={V2_ID}"


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("msdyn_label", "Contoso Phone (old)", "Label"),
        ("msdyn_sortorder", 3, "Sort order"),
        ("msdyn_trusteddomain", "https://phone.contoso.com", "Trusted domain"),
        ("msdyn_enableanalytics", True, "Enable analytics"),
    ],
)
def test_each_value_not_copied_is_named_field_by_field(judge, column: str, value: object, field: str):
    result = judge("records.provider_parity", migrating(**{column: value}))
    assert result.status == "fail"
    assert [row["field"] for row in result.details[0].rows] == [field]
    assert field.lower() in result.reason.lower()


@pytest.mark.parametrize(
    ("column", "v1", "v2"),
    [
        ("msdyn_sortorder", "1", 1),
        ("msdyn_enableanalytics", None, False),
        ("msdyn_trusteddomain", "Phone.Contoso.com; fabrikam.com", "https://fabrikam.com/,phone.contoso.com"),
    ],
)
def test_values_that_mean_the_same_are_equal(judge, column: str, v1: object, v2: object):
    checked = evidence(
        v1_providers=[v1_provider(statecode=0, **{column: v1})], v2_providers=[v2_provider(**{column: v2})]
    )
    assert judge("records.provider_parity", checked).status == "pass"


def test_values_redaction_hides_are_compared_by_their_fingerprints(judge):
    checked = migrating()
    checked.dataverse.fingerprints = {
        f"msdyn_ciproviders/{V1_ID}/msdyn_customparams": "0000000000000001",
        f"msdyn_channelproviders/{V2_ID}/msdyn_customparams": "0000000000000002",
    }
    result = judge("records.provider_parity", checked)
    assert result.status == "fail"
    (row,) = result.details[0].rows
    assert row["field"] == "Custom parameters"
    assert "differ in a part cifcheck does not show" in row["v1"]


def test_equal_fingerprints_make_equal_values(judge):
    checked = migrating()
    checked.dataverse.fingerprints = {
        f"msdyn_ciproviders/{V1_ID}/msdyn_customparams": "00000000000000ab",
        f"msdyn_channelproviders/{V2_ID}/msdyn_customparams": "00000000000000ab",
    }
    assert judge("records.provider_parity", checked).status == "pass"


def test_a_cif2_provider_at_another_api_version_fails(judge):
    checked = evidence(v1_providers=[v1_provider(statecode=0)], v2_providers=[v2_provider(msdyn_apiversion=1)])
    result = judge("records.provider_parity", checked)
    assert result.status == "fail"
    assert result.details[0].rows[0]["field"] == "API version"


def test_a_cif1_provider_without_a_counterpart_fails_naming_its_record(judge):
    legacy = v1_provider(
        msdyn_ciproviderid="1e1e1e1e-0000-4000-8000-000000000009",
        msdyn_name="Legacy Dialer",
        msdyn_label="Legacy Dialer",
        msdyn_landingurl="https://dialer.example/index.html",
        statecode=0,
    )
    result = judge("records.provider_parity", evidence(v1_providers=[legacy]))
    assert result.status == "fail"
    assert "Legacy Dialer (1e1e1e1e-0000-4000-8000-000000000009)" in result.reason
    assert result.details[0].rows[0]["link"].endswith("etn=msdyn_ciprovider&id=1e1e1e1e-0000-4000-8000-000000000009")


def test_thousands_of_providers_are_paired_without_comparing_each_with_each(judge):
    count = 5_000
    v1s = [
        v1_provider(
            msdyn_ciproviderid=f"1e1e1e1e-0000-4000-8000-{n:012}",
            msdyn_label=f"Line {n}",
            msdyn_name=f"Line {n}",
            msdyn_landingurl=f"https://phone.example/{n}",
            statecode=0,
        )
        for n in range(count)
    ]
    v2s = [
        v2_provider(
            msdyn_channelproviderid=f"2e2e2e2e-0000-4000-8000-{n:012}",
            msdyn_label=f"Line {n}",
            msdyn_name=f"Line {n}",
            msdyn_channelurl=f"https://phone.example/{n}",
        )
        for n in reversed(range(count))
    ]
    result = judge("records.provider_parity", evidence(v1_providers=v1s, v2_providers=v2s))
    assert result.status == "pass"
    assert "All 5,000 active" in result.reason


def test_a_refused_provider_table_is_an_error_naming_the_read_privilege(judge):
    error = "HTTP 403: msdyn_ciproviders was refused (signed out, or the user may not read msdyn_ciproviders)"
    result = judge("records.provider_parity", evidence(v1_providers=None, errors={"msdyn_ciproviders": error}))
    assert result.status == "error"
    assert "prvReadmsdyn_ciprovider" in result.reason
    assert "prvReadmsdyn_ciprovider" in result.remediation


def test_a_throttled_read_is_an_error_that_says_nothing_about_privileges(judge):
    error = "HTTP 429: the org throttled the reads of msdyn_ciproviders (Retry-After 300; cifcheck waits at most 10 s)"
    result = judge("records.provider_parity", evidence(v1_providers=None, errors={"msdyn_ciproviders": error}))
    assert result.status == "error"
    assert "prvRead" not in result.reason
    assert "re-run" in result.remediation


# --- records.profile_providers -----------------------------------------------------------------------------------
def test_a_profile_with_the_cif2_provider_attached_passes_naming_it(judge):
    result = judge("records.profile_providers", healthy_evidence())
    assert result.status == "pass"
    assert "Contoso agents has Contoso Phone" in result.reason


def test_no_profile_for_the_app_fails(judge):
    result = judge("records.profile_providers", evidence(profiles=[]))
    assert result.status == "fail"
    assert "No agent experience profile exists for the app msdyn_CustomerServiceWorkspace" in result.reason


def test_a_profile_without_providers_fails_naming_the_profile(judge):
    result = judge("records.profile_providers", evidence(profiles=[profile(msdyn_appconfig_msdyn_channelprovider=[])]))
    assert result.status == "fail"
    assert f"Contoso agents ({PROFILE_ID})" in result.reason
    assert f"etn=msdyn_appconfiguration&id={PROFILE_ID}" in result.remediation


def test_only_out_of_box_profiles_fail_as_they_cannot_be_modified(judge):
    result = judge("records.profile_providers", evidence(profiles=[OUT_OF_BOX]))
    assert result.status == "fail"
    assert "cannot be modified" in result.reason


def test_a_deactivated_provider_attached_is_no_provider(judge):
    result = judge("records.profile_providers", evidence(v2_providers=[v2_provider(statecode=1)]))
    assert result.status == "fail"
    assert "is deactivated" in result.reason


def test_a_configured_profile_is_the_one_judged(judge):
    checked = evidence(profiles=[profile(), SUPERVISORS])
    checked.settings.records.profile = "Contoso supervisors"
    result = judge("records.profile_providers", checked)
    assert result.status == "fail"
    assert "Contoso supervisors" in result.reason


def test_a_configured_profile_that_does_not_exist_fails_listing_the_apps_profiles(judge):
    checked = healthy_evidence()
    checked.settings.records.profile = "no such profile"
    result = judge("records.profile_providers", checked)
    assert result.status == "fail"
    assert "is named 'no such profile'" in result.reason and "Contoso agents" in result.reason


@pytest.mark.parametrize(
    ("name", "said"),
    [("Omnichannel upgraded app profile", "It is the 'Omnichannel upgraded app profile'"), ("Agents", "a new profile")],
)
def test_omnichannel_says_whether_it_is_the_upgraded_profile_or_a_new_one(judge, name: str, said: str):
    checked = evidence(app_unique_name="OmniChannelEngagementHub", profiles=[profile(msdyn_name=name)])
    result = judge("records.profile_providers", checked)
    assert result.status == "pass"
    assert said in result.reason


# --- records.user_assigned ---------------------------------------------------------------------------------------
def test_a_user_assigned_directly_passes(judge):
    result = judge("records.user_assigned", healthy_evidence())
    assert result.status == "pass"
    assert result.reason.startswith("Agent Smith gets Contoso agents directly")


@pytest.mark.parametrize("lookup", [True, False], ids=["lookup-columns", "text-columns"])
def test_a_user_with_a_mapped_role_gets_the_profile_through_it(judge, lookup: bool):
    checked = evidence(
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent")]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE, lookup)],
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "pass"
    assert "through the security role Omnichannel agent (rank 2)" in result.reason


def test_a_business_units_copy_of_a_mapped_role_counts_as_the_role(judge):
    checked = evidence(
        user=user(roles=[role(AGENT_ROLE_IN_UNIT, "Omnichannel agent", root=AGENT_ROLE)]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE)],
    )
    assert judge("records.user_assigned", checked).status == "pass"


def test_a_better_ranked_profile_of_another_role_wins_and_is_named(judge):
    checked = evidence(
        profiles=[profile(), SUPERVISORS],
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent"), role(SUPERVISOR_ROLE, "Omnichannel supervisor")]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE), mapping(SUPERVISORS_ID, SUPERVISOR_ROLE)],
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "fail"
    assert "gets Contoso supervisors through the security role Omnichannel supervisor (rank 1), not Contoso agents" in (
        result.reason
    )
    assert "ranked after Contoso supervisors" in result.reason


def test_a_direct_assignment_is_taken_over_a_role_and_the_report_says_so(judge):
    checked = evidence(
        profiles=[profile(), SUPERVISORS],
        user=user(profiles=[PROFILE_ID], roles=[role(SUPERVISOR_ROLE, "Omnichannel supervisor")]),
        role_mappings=[mapping(SUPERVISORS_ID, SUPERVISOR_ROLE)],
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "pass"
    assert "the documentation does not say" in result.reason


def test_a_user_assigned_nowhere_gets_the_out_of_box_profile_and_fails(judge):
    checked = evidence(profiles=[profile(), OUT_OF_BOX], user=user())
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": "[]"})
    result = judge("records.user_assigned", checked)
    assert result.status == "fail"
    assert "Customer Service workspace - default profile as the out-of-box default profile" in result.reason


def test_a_configured_custom_default_profile_is_the_users_profile(judge):
    checked = evidence(profiles=[profile(), OUT_OF_BOX], user=user())
    checked.settings.records.default_profile = "contoso_agents"
    result = judge("records.user_assigned", checked)
    assert result.status == "pass"
    assert "as the custom default profile" in result.reason


def test_a_session_with_the_profiles_providers_but_no_assignment_is_probably_the_custom_default(judge):
    checked = evidence(profiles=[profile(), OUT_OF_BOX], user=user())  # the healthy storage holds Contoso Phone
    result = judge("records.user_assigned", checked)
    assert result.status == "warn"
    assert "records.default_profile" in result.reason


def test_an_unreadable_user_is_an_error_naming_the_privilege(judge):
    error = "HTTP 403: systemusers was refused (signed out, or the user may not read systemusers)"
    result = judge("records.user_assigned", evidence(user=None, errors={"systemusers": error}))
    assert result.status == "error"
    assert "prvReadsystemuser" in result.reason


# --- records.loader_extension ------------------------------------------------------------------------------------
def test_the_loader_extension_on_the_profile_passes(judge):
    assert judge("records.loader_extension", healthy_evidence()).status == "pass"


def test_a_profile_without_the_loader_extension_fails_listing_what_it_has(judge):
    productivity = {"msdyn_uniquename": "msdyn_ProductivityToolsLoader", "msdyn_webresource_url": "WebResources/p.js"}
    checked = evidence(profiles=[profile(msdyn_appconfiguration_applicationextension=[productivity])])
    result = judge("records.loader_extension", checked)
    assert result.status == "fail"
    assert "has no msdyn_CIFV2Loader extension (it has msdyn_ProductivityToolsLoader)" in result.reason


def test_a_loader_pointing_at_another_web_resource_fails_naming_it(judge):
    other = {"msdyn_uniquename": "msdyn_CIFV2Loader", "msdyn_webresource_url": "WebResources/custom_loader.js"}
    result = judge(
        "records.loader_extension", evidence(profiles=[profile(msdyn_appconfiguration_applicationextension=[other])])
    )
    assert result.status == "fail"
    assert "points at WebResources/custom_loader.js" in result.reason


# --- records.active_providers_view -------------------------------------------------------------------------------
def view(table: str = "msdyn_channelprovider", state: int = 0, name: str = "Active Channel Providers") -> dict:
    return {
        "savedqueryid": "7e7e7e7e-0000-4000-8000-000000000001",
        "name": name,
        "returnedtypecode": table,
        "statecode": state,
        "querytype": 0,
    }


def omnichannel(views: list[dict]) -> Evidence:
    return evidence(app_unique_name="OmniChannelEngagementHub", views=views)


def test_the_view_is_not_judged_outside_omnichannel(judge):
    assert judge("records.active_providers_view", healthy_evidence()).status == "skip"


def test_an_active_view_on_the_cif2_table_passes(judge):
    assert judge("records.active_providers_view", omnichannel([view("msdyn_ciprovider"), view()])).status == "pass"


def test_a_deactivated_view_fails(judge):
    result = judge("records.active_providers_view", omnichannel([view(state=1)]))
    assert (result.status, "deactivated" in result.reason) == ("fail", True)


def test_a_view_only_on_the_cif1_table_fails_saying_so(judge):
    result = judge("records.active_providers_view", omnichannel([view("msdyn_ciprovider")]))
    assert result.status == "fail"
    assert "only the CIF 1.0 provider table" in result.reason


def test_a_localized_view_name_is_configurable(judge):
    checked = omnichannel([view(name="Aktive Kanalanbieter")])
    checked.settings.records.view_name = "Aktive Kanalanbieter"
    assert judge("records.active_providers_view", checked).status == "pass"


# --- records.session_providers -----------------------------------------------------------------------------------
def test_a_session_holding_the_profiles_providers_passes(judge):
    assert judge("records.session_providers", healthy_evidence()).status == "pass"


def test_a_provider_attached_but_absent_from_the_session_is_named(judge):
    checked = healthy_evidence()
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": "[]"})
    result = judge("records.session_providers", checked)
    assert result.status == "warn"
    assert f"not in this session's channelProviders: Contoso Phone ({V2_ID})" in result.reason


def test_a_provider_in_the_session_but_not_attached_is_named(judge):
    extra = [
        {"uniqueName": "contoso_softphone", "label": "Contoso Phone"},
        {"uniqueName": "retired", "label": "Retired"},
    ]
    checked = healthy_evidence()
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": json.dumps(extra)})
    result = judge("records.session_providers", checked)
    assert result.status == "warn"
    assert f"in channelProviders but not attached to Contoso agents ({PROFILE_ID}): Retired" in result.reason


def test_a_session_without_readable_providers_is_left_to_the_storage_check(judge):
    checked = healthy_evidence()
    checked.storage = StorageEvidence(keys=[], values={})
    assert judge("records.session_providers", checked).status == "skip"


# --- evidence ----------------------------------------------------------------------------------------------------
def test_records_evidence_survives_a_round_trip_through_json():
    built = migrating()
    built.dataverse.fingerprints = {f"msdyn_ciproviders/{V1_ID}/msdyn_landingurl": "0123456789abcdef"}
    again = Evidence.model_validate_json(built.model_dump_json())
    assert again.dataverse == built.dataverse


@pytest.mark.parametrize(
    "key", ["msdyn_ciproviders/not-a-guid/msdyn_landingurl", f"msdyn_ciproviders/{V1_ID}/<script>", "a secret"]
)
def test_a_fingerprint_key_of_any_other_shape_is_refused(key: str):
    from pydantic import ValidationError

    data = json.loads(healthy_evidence().model_dump_json())
    data["dataverse"]["fingerprints"] = {key: "0123456789abcdef"}
    with pytest.raises(ValidationError):
        Evidence.model_validate(data)


def test_an_attached_provider_whose_table_was_not_read_is_a_warning_not_a_pass(judge):
    error = "HTTP 403: msdyn_channelproviders was refused (signed out, or the user may not read msdyn_channelproviders)"
    checked = evidence(v2_providers=None, errors={"msdyn_channelproviders": error})
    result = judge("records.profile_providers", checked)
    assert result.status == "warn"
    assert "whether it is active could not be told" in result.reason


def test_a_winning_profile_without_providers_is_said_to_have_none(judge):
    checked = evidence(
        profiles=[profile(), SUPERVISORS],
        user=user(roles=[role(AGENT_ROLE, "Omnichannel agent"), role(SUPERVISOR_ROLE, "Omnichannel supervisor")]),
        role_mappings=[mapping(PROFILE_ID, AGENT_ROLE), mapping(SUPERVISORS_ID, SUPERVISOR_ROLE)],
    )
    assert "Contoso supervisors wins, and it has no CIF 2.0 provider" in judge("records.user_assigned", checked).reason


def test_a_read_that_did_not_succeed_is_titled_as_such_not_as_a_failure(judge):
    error = "HTTP 403: msdyn_ciproviders was refused (signed out, or the user may not read msdyn_ciproviders)"
    result = judge("records.provider_parity", evidence(v1_providers=None, errors={"msdyn_ciproviders": error}))
    assert result.title == "The Channel Integration Framework v1.0 Provider records could not be read"


@pytest.mark.parametrize(
    "check_id",
    [
        "records.profile_providers",
        "records.user_assigned",
        "records.loader_extension",
        "records.session_providers",
    ],
)
def test_evidence_from_before_the_records_checks_is_re_judged_to_a_skip_saying_so(judge, check_id: str):
    from cifcheck.evidence import DataverseEvidence

    older = healthy_evidence()
    older.dataverse = DataverseEvidence(user_id="u", v1_providers=[], v2_providers=[])  # what cifcheck read before
    result = judge(check_id, older)
    assert result.status == "skip"
    assert "did not read the migration's records yet" in result.reason
