from tests.evidence_factory import healthy_evidence

CHECK = "app.loaded"


def test_passes_when_the_requested_app_loaded_with_session_tabs(judge):
    result = judge(CHECK, healthy_evidence())
    assert result.status == "pass"
    assert "multisession" in result.reason


def test_an_app_id_is_compared_as_a_guid(judge):
    evidence = healthy_evidence()
    evidence.settings.expected_app = "{9BD9E1B1-5C8C-EE11-8179-000D3A7B6F3C}"
    assert judge(CHECK, evidence).status == "pass"


def test_another_app_fails_naming_both(judge):
    evidence = healthy_evidence()
    evidence.settings.expected_app = "OmniChannelEngagementHub"
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "instead of OmniChannelEngagementHub" in result.reason


def test_no_session_tabs_fails_as_not_multisession(judge):
    evidence = healthy_evidence()
    evidence.app.session_tabs = 0
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "not in multisession mode" in result.reason


def test_a_page_without_xrm_is_an_error(judge):
    evidence = healthy_evidence()
    evidence.app.xrm_present = False
    assert judge(CHECK, evidence).status == "error"


def test_the_url_app_name_serves_when_xrm_does_not_name_the_app(judge):
    evidence = healthy_evidence()
    evidence.app.app_unique_name = None
    evidence.app.url_app_name = "msdyn_CustomerServiceWorkspace"
    assert judge(CHECK, evidence).status == "pass"
