import json

from cifcheck.checks import REGISTRY
from cifcheck.checks.registry import evaluate
from tests.evidence_factory import EXTENSIONS, PROVIDERS, healthy_evidence, library_load, storage

CHECK = REGISTRY["cif.library_loaded"]


def judge(evidence):
    return evaluate(CHECK, evidence, {})


def test_passes_when_the_library_answered_200():
    result = judge(healthy_evidence())
    assert result.status == "pass"
    assert "HTTP 200" in result.reason


def test_passes_on_a_304_from_the_browser_cache():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=304)]
    assert judge(evidence).status == "pass"


def test_fails_naming_the_status_when_the_library_answered_404():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=404, failure="net::ERR_ABORTED")]
    result = judge(evidence)
    assert result.status == "fail"
    assert "HTTP 404" in result.reason


def test_a_404_says_the_web_resource_is_missing_and_the_profile_cannot_fix_it():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=404, failure="net::ERR_ABORTED")]
    remediation = judge(evidence).remediation
    assert "no web resource msdyn_channelintegrationframework.js" in remediation
    assert "solution is not installed" in remediation
    assert "remove the channel provider" not in remediation


def test_is_an_error_naming_the_network_error_when_the_org_did_not_answer():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=None, failure="net::ERR_CONNECTION_RESET")]
    result = judge(evidence)
    assert result.status == "error"
    assert "net::ERR_CONNECTION_RESET" in result.reason
    assert result.title == "Org unreachable: the connection was cut"
    assert "stopped answering during the run" in result.remediation


def test_is_an_error_when_the_org_answered_5xx():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=503)]
    result = judge(evidence)
    assert result.status == "error"
    assert "HTTP 503" in result.reason


def test_a_5xx_says_the_org_failed_and_to_retry_later_not_to_change_the_profile():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=500)]
    result = judge(evidence)
    assert result.title.startswith("Org unavailable")
    assert "Retry later" in result.remediation
    assert "channel provider" not in result.remediation


def test_is_an_error_when_the_request_never_got_an_answer():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=None, failure=None)]
    result = judge(evidence)
    assert result.status == "error"
    assert "no answer" in result.reason


def test_fails_as_never_requested_when_no_request_names_the_library():
    evidence = healthy_evidence()
    evidence.resources = evidence.resources[:1]
    result = judge(evidence)
    assert result.status == "fail"
    assert "never requested" in result.reason
    assert "remove the channel provider" in result.remediation, "the loader is right: the profile fix is here"


def test_never_requested_with_a_wrong_loader_points_to_the_loader_card_instead_of_repeating_its_fix():
    evidence = healthy_evidence()
    evidence.resources = evidence.resources[:1]
    evidence.storage = storage(channelProviders=json.dumps(PROVIDERS), applicationExtensions=json.dumps(EXTENSIONS[1:]))
    remediation = judge(evidence).remediation
    assert "profile.cif_v2_loader" in remediation
    assert "remove the channel provider" not in remediation


def test_a_later_successful_retry_passes():
    evidence = healthy_evidence()
    evidence.resources = [library_load(status=500), library_load(status=200)]
    assert judge(evidence).status == "pass"


def test_matches_the_file_name_case_insensitively_and_without_the_cache_token():
    evidence = healthy_evidence()
    evidence.resources = [
        library_load(url="https://contoso.crm.dynamics.com/WebResources/MSDYN_ChannelIntegrationFramework.js?v=2")
    ]
    assert judge(evidence).status == "pass"


def test_a_similarly_named_file_does_not_count():
    evidence = healthy_evidence()
    evidence.resources = [
        library_load(url="https://contoso.crm.dynamics.com/webresources/old_msdyn_channelintegrationframework.js")
    ]
    assert judge(evidence).status == "fail"


def test_uses_the_configured_library_file_name():
    evidence = healthy_evidence()
    evidence.settings.library_file = "contoso_cif_loader.js"
    evidence.resources = [library_load(url="https://contoso.crm.dynamics.com/webresources/contoso_cif_loader.js")]
    assert judge(evidence).status == "pass"


def test_is_an_error_not_a_failure_when_the_network_probe_failed():
    evidence = healthy_evidence()
    evidence.resources = None
    evidence.probe_errors["resources"] = "TargetClosedError: page closed"
    result = judge(evidence)
    assert result.status == "error"
    assert "page closed" in result.reason
