"""Every fail and warn of a records check names the record to fix: its name and id, a link that opens it in the org
(a details table column of type "link"), the admin-center path in the fix, and the document's step; and it reads
as plain words."""

from __future__ import annotations

import itertools

import pytest

from cifcheck.checks import REGISTRY
from cifcheck.checks.records import PROFILES_PATH, V2_PATH
from cifcheck.evidence import Evidence, StorageEvidence
from cifcheck.results import CheckResult
from tests.checks.test_records import OUT_OF_BOX, SUPERVISORS, SUPERVISORS_ID, evidence, migrating, user
from tests.evidence_factory import ORG, PROFILE_ID, V2_ID, healthy_evidence, profile, v2_provider

PROFILE_LINK = f"{ORG}/main.aspx?pagetype=entityrecord&etn=msdyn_appconfiguration&id={PROFILE_ID}"
V2_LINK = f"{ORG}/main.aspx?pagetype=entityrecord&etn=msdyn_channelprovider&id={V2_ID}"


def links(result: CheckResult) -> list[str]:
    """The links of the result's details tables, from their columns of type "link"."""
    found = []
    for detail in result.details:
        for heading in detail.headings or []:
            if heading.get("type") == "link":
                found += [row.get(heading["key"], "") for row in detail.rows or []]
    return [link for link in found if link]


def shown(result: CheckResult, column_key: str) -> list[str]:
    """The values of a column the details tables show (a row's key without a heading is not shown)."""
    return [
        str(row.get(heading["key"], ""))
        for detail in result.details
        for heading in detail.headings or []
        if heading.get("key") == column_key
        for row in detail.rows or []
    ]


def reads_plainly(text: str) -> None:
    assert "(s)" not in text, text
    words = text.lower().split()
    assert not [a for a, b in itertools.pairwise(words) if a == b and a.isalpha()], text


# --- records.provider_parity -------------------------------------------------------------------------------------
def test_a_value_not_copied_names_the_cif2_provider_by_name_and_id_and_shows_the_id(judge):
    result = judge("records.provider_parity", migrating(msdyn_sortorder=3))
    assert result.status == "fail"
    assert f"Contoso Phone ({V2_ID})" in result.reason
    assert V2_ID in shown(result, "id")
    assert links(result) == [V2_LINK]
    assert V2_PATH in result.remediation


def test_one_deactivated_counterpart_reads_in_the_singular(judge):
    checked = evidence(v1_providers=[migrating().dataverse.v1_providers[0]], v2_providers=[v2_provider(statecode=1)])
    result = judge("records.provider_parity", checked)
    assert result.status == "fail"
    assert f"1 CIF 2.0 counterpart is deactivated: Contoso Phone ({V2_ID})" in result.reason
    reads_plainly(result.reason)


def test_one_provider_without_a_counterpart_reads_in_the_singular(judge):
    checked = migrating(msdyn_name="Legacy", msdyn_label="Legacy", msdyn_landingurl="https://dialer.example/")
    result = judge("records.provider_parity", checked)
    assert "1 active CIF 1.0 provider has no CIF 2.0 counterpart" in result.reason
    reads_plainly(result.reason)


# --- records.profile_providers -----------------------------------------------------------------------------------
def test_a_deactivated_attached_provider_is_linked_in_a_table_and_the_fix_gives_the_admin_center_path(judge):
    result = judge("records.profile_providers", evidence(v2_providers=[v2_provider(statecode=1)]))
    assert result.status == "fail"
    assert f"Contoso Phone ({V2_ID})" in result.reason and f"Contoso agents ({PROFILE_ID})" in result.reason
    assert V2_LINK in links(result)
    assert V2_PATH in result.remediation


def test_only_out_of_box_profiles_read_plainly(judge):
    result = judge("records.profile_providers", evidence(profiles=[OUT_OF_BOX]))
    assert result.status == "fail"
    reads_plainly(result.reason)


# --- records.user_assigned ---------------------------------------------------------------------------------------
def test_a_user_assigned_nowhere_links_the_profile_to_add_them_to(judge):
    checked = evidence(user=user())
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": "[]"})
    result = judge("records.user_assigned", checked)
    assert result.status == "fail"
    assert PROFILE_LINK in links(result)
    assert PROFILE_ID in shown(result, "id")
    assert PROFILES_PATH in result.remediation


def test_a_probable_custom_default_names_and_links_the_profile_and_gives_the_admin_center_path(judge):
    checked = evidence(profiles=[profile(), OUT_OF_BOX], user=user())
    result = judge("records.user_assigned", checked)
    assert result.status == "warn"
    assert f"Contoso agents ({PROFILE_ID})" in result.reason
    assert PROFILE_LINK in links(result)
    assert PROFILES_PATH in result.remediation


def test_a_tie_links_every_profile_it_names(judge):
    third = "5e5e5e5e-0000-4000-8000-000000000004"
    others = profile(
        msdyn_appconfigurationid=third,
        msdyn_name="Contoso others",
        msdyn_profileorder=3,
        msdyn_appconfig_msdyn_channelprovider=[],
    )
    checked = evidence(
        profiles=[profile(), SUPERVISORS, others], user=user(profiles=[PROFILE_ID, SUPERVISORS_ID, third])
    )
    result = judge("records.user_assigned", checked)
    assert result.status == "warn"
    assert {PROFILE_ID, SUPERVISORS_ID, third} <= set(shown(result, "id"))


# --- records.loader_extension ------------------------------------------------------------------------------------
def test_a_profile_without_any_extension_is_still_linked(judge):
    checked = evidence(profiles=[profile(msdyn_appconfiguration_applicationextension=[])])
    result = judge("records.loader_extension", checked)
    assert result.status == "fail"
    assert f"Contoso agents ({PROFILE_ID})" in result.reason
    assert links(result) == [PROFILE_LINK]
    assert PROFILES_PATH in result.remediation


def test_the_loader_and_session_checks_name_the_documents_verify_step_as_the_browser_checks_do():
    assert REGISTRY["profile.cif_v2_loader"].doc_step.startswith("Verify step 2")
    assert REGISTRY["records.loader_extension"].doc_step.startswith("Verify step 2")
    assert REGISTRY["records.session_providers"].doc_step.startswith("Verify step 2")


# --- records.session_providers -----------------------------------------------------------------------------------
def session(entries: str) -> Evidence:
    checked = healthy_evidence()
    checked.storage = StorageEvidence(keys=["channelProviders"], values={"channelProviders": entries})
    return checked


def test_a_provider_absent_from_the_session_is_linked_and_the_profile_named_by_id(judge):
    result = judge("records.session_providers", session("[]"))
    assert result.status == "warn"
    assert f"Contoso agents ({PROFILE_ID})" in result.reason
    assert V2_LINK in links(result)
    assert PROFILE_LINK in links(result)
    assert PROFILES_PATH in result.remediation


@pytest.mark.parametrize("count", [1, 2])
def test_the_session_pass_counts_in_plain_words(judge, count: int):
    attached = [
        {"msdyn_channelproviderid": V2_ID, "msdyn_uniquename": "contoso_softphone", "msdyn_label": "Contoso Phone"}
    ]
    entries = '[{"uniqueName": "contoso_softphone", "label": "Contoso Phone"}]'
    if count == 2:
        other = "7d0c4b1e-0000-4000-8000-000000000002"
        attached.append({"msdyn_channelproviderid": other, "msdyn_uniquename": "chat", "msdyn_label": "Chat"})
        entries = entries[:-1] + ', {"uniqueName": "chat", "label": "Chat"}]'
    checked = session(entries)
    checked.dataverse = evidence(profiles=[profile(msdyn_appconfig_msdyn_channelprovider=attached)]).dataverse
    result = judge("records.session_providers", checked)
    assert result.status == "pass", result.reason
    reads_plainly(result.reason)


# --- names quoted alike, counts read aloud -----------------------------------------------------------------------
def test_a_view_name_with_an_apostrophe_is_quoted_as_every_other_name(judge):
    from tests.checks.test_records import omnichannel, view

    checked = omnichannel([view(name="Agent's Active Channel Providers", state=1)])
    checked.settings.records.view_name = "Agent's Active Channel Providers"
    result = judge("records.active_providers_view", checked)
    assert result.status == "fail"
    assert "The view 'Agent's Active Channel Providers' (" in result.reason
    assert '"' not in result.reason


def test_a_configured_profile_name_with_an_apostrophe_is_quoted_as_every_other_name(judge):
    checked = healthy_evidence()
    checked.settings.records.profile = "Agent's profile"
    result = judge("records.profile_providers", checked)
    assert result.status == "fail"
    assert "is named 'Agent's profile'" in result.reason
    assert '"' not in result.reason


def test_one_provider_copied_as_it_is_reads_in_the_singular(judge):
    result = judge("records.provider_parity", migrating())
    assert result.status == "pass"
    assert result.reason.startswith("The 1 active CIF 1.0 provider has a CIF 2.0 counterpart")


def test_an_attached_provider_whose_table_was_not_read_names_the_profile_by_id(judge):
    error = "HTTP 403: msdyn_channelproviders was refused (signed out, or the user may not read msdyn_channelproviders)"
    result = judge("records.profile_providers", evidence(v2_providers=None, errors={"msdyn_channelproviders": error}))
    assert result.status == "warn"
    assert f"Contoso agents ({PROFILE_ID}) has Contoso Phone" in result.reason
    assert PROFILE_LINK in links(result)


def test_the_user_assigned_facts_read_plainly(judge):
    result = judge("records.user_assigned", healthy_evidence())
    for label in result.details[0].facts:
        reads_plainly(label)
