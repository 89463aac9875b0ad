from cifcheck.checks import REGISTRY
from cifcheck.checks.registry import evaluate
from tests.evidence_factory import healthy_evidence

CHECK = REGISTRY["session.signed_in"]


def test_passes_naming_the_user_when_the_app_is_ready():
    result = evaluate(CHECK, healthy_evidence(), {})
    assert result.status == "pass"
    assert "agent@contoso.com" in result.reason


def _on_sign_in_page(config_file: str = "playwright.config.json"):
    evidence = healthy_evidence()
    evidence.settings.config_file = config_file
    evidence.navigation.app_ready = False
    evidence.navigation.sign_in_page = True
    evidence.navigation.final_url = "https://login.microsoftonline.com/common/oauth2/authorize?client_id=x"
    return evidence


def test_a_sign_in_page_is_an_error_naming_the_sign_in_host():
    result = evaluate(CHECK, _on_sign_in_page(), {})
    assert (result.status, result.title) == ("error", "Not signed in: the app did not open in a logged-in session")
    assert "login.microsoftonline.com" in result.reason


def test_a_sign_in_page_with_the_default_config_tells_the_exact_login_command():
    result = evaluate(CHECK, _on_sign_in_page(), {})
    assert "`cifcheck login --target contoso`" in result.remediation


def test_a_sign_in_page_with_another_config_tells_the_login_command_with_that_config():
    result = evaluate(CHECK, _on_sign_in_page("cfg/prod.json"), {})
    assert "`cifcheck login --target contoso --config cfg/prod.json`" in result.remediation


def test_a_sandbox_target_on_a_sign_in_page_is_not_told_to_sign_in():
    evidence = _on_sign_in_page()
    evidence.target.url = "sandbox://healthy-csw"
    result = evaluate(CHECK, evidence, {})
    assert "cifcheck login" not in result.reason + result.remediation
    assert "storage_state" in result.remediation and "admin@contoso.sandbox" in result.remediation


def test_the_signed_out_sandbox_scenario_says_what_it_demonstrates():
    evidence = _on_sign_in_page()
    evidence.target.url = "sandbox://signed-out"
    remediation = evaluate(CHECK, evidence, {}).remediation
    assert remediation.startswith("Nothing to fix: the sandbox scenario signed-out demonstrates an expired session")


def test_an_unreachable_org_is_an_error_not_a_failure():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.error = "net::ERR_NAME_NOT_RESOLVED at https://contoso.crm.dynamics.com/main.aspx"
    result = evaluate(CHECK, evidence, {})
    assert result.status == "error"
    assert "ERR_NAME_NOT_RESOLVED" in result.reason


def test_an_app_that_never_became_ready_is_an_error():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    result = evaluate(CHECK, evidence, {})
    assert result.status == "error"
    assert "never became ready" in result.reason


def _browser_gone(error: str):
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.error = error
    return evidence


def test_a_browser_that_closed_under_a_page_load_is_not_blamed_on_the_org_url_or_network():
    result = evaluate(CHECK, _browser_gone("Page.goto: Target page, context or browser has been closed"), {})
    assert result.status == "error" and "browser closed during the run" in result.remediation
    assert "org URL" not in result.remediation


def test_a_browser_that_closed_before_a_target_is_not_blamed_on_its_saved_session():
    from cifcheck.runner import BROWSER_CLOSED

    result = evaluate(CHECK, _browser_gone(f"{BROWSER_CLOSED} (Browser.new_context: Target closed)"), {})
    assert result.status == "error" and "browser closed during the run" in result.remediation
    assert "session" not in result.remediation
