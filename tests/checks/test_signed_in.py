from cifcheck.checks import REGISTRY
from cifcheck.checks.registry import evaluate
from tests.evidence_factory import healthy_evidence

CHECK = REGISTRY["session.signed_in"]


def test_passes_naming_the_user_when_the_app_is_ready():
    result = evaluate(CHECK, healthy_evidence(), {})
    assert result.status == "pass"
    assert "agent@contoso.com" in result.reason


def test_a_sign_in_page_is_an_error_telling_to_run_cifcheck_login():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.sign_in_page = True
    evidence.navigation.final_url = "https://login.microsoftonline.com/common/oauth2/authorize?client_id=x"
    result = evaluate(CHECK, evidence, {})
    assert result.status == "error"
    assert "login.microsoftonline.com" in result.reason
    assert "cifcheck login" in result.reason


def test_an_unreachable_org_is_an_error_not_a_failure():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.error = "net::ERR_NAME_NOT_RESOLVED at https://contoso.crm.dynamics.com/main.aspx"
    result = evaluate(CHECK, evidence, {})
    assert result.status == "error"
    assert "ERR_NAME_NOT_RESOLVED" in result.reason
    assert "cifcheck login" in result.remediation


def test_an_app_that_never_became_ready_is_an_error():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    result = evaluate(CHECK, evidence, {})
    assert result.status == "error"
    assert "never became ready" in result.reason
