"""The sandbox org itself, driven in real Chromium as a person would: its fidelity is cifcheck's credibility."""

from __future__ import annotations

import json
import urllib.request

import pyotp
import pytest
from playwright.sync_api import Page, expect

from cifcheck.sandbox.app import SESSION_COOKIE
from cifcheck.sandbox.scenarios import SCENARIOS
from cifcheck.sandbox.server import REQUEST_LOG, SandboxServer
from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_TOTP_SECRET, SANDBOX_USER

pytestmark = pytest.mark.browser


def enter_account_and_password(page: Page, account: str, password: str = SANDBOX_PASSWORD) -> None:
    expect(page).to_have_title("Sign in to your account")
    page.get_by_label("Email").fill(account)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, sandbox, scenario: str) -> None:
    page.goto(sandbox.urls.app_url(SCENARIOS[scenario]))
    enter_account_and_password(page, SANDBOX_USER)
    page.get_by_role("button", name="No").click()  # "Stay signed in?"
    page.wait_for_url("**/main.aspx?appid=*")


def panel_mode(page: Page) -> int:
    return page.evaluate("Xrm.Panel.state")


def test_without_a_session_the_org_redirects_to_the_sign_in_origin(page: Page, sandbox):
    page.goto(sandbox.urls.app_url(SCENARIOS["healthy-csw"]))
    assert page.url.startswith(sandbox.urls.login + "/common/oauth2/authorize?")


def test_a_wrong_password_is_refused_on_the_sign_in_page(page: Page, sandbox):
    page.goto(sandbox.urls.app_url(SCENARIOS["healthy-csw"]))
    enter_account_and_password(page, SANDBOX_USER, "wrong")
    expect(page.get_by_role("alert")).to_contain_text("Your account or password is incorrect.")


def test_an_mfa_account_signs_in_with_the_authenticator_code(page: Page, sandbox):
    page.goto(sandbox.urls.app_url(SCENARIOS["healthy-csw"]))
    enter_account_and_password(page, "mfa@contoso.sandbox")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("expected verification code")
    page.get_by_label("Code").fill(pyotp.TOTP(SANDBOX_TOTP_SECRET).now())
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("button", name="Yes").click()  # "Stay signed in?"
    page.wait_for_url("**/main.aspx?appid=*")
    expect(page.locator("#userName")).to_have_text("mfa@contoso.sandbox")


def test_a_push_account_waits_for_an_approval_that_never_comes(page: Page, sandbox):
    page.goto(sandbox.urls.app_url(SCENARIOS["healthy-csw"]))
    enter_account_and_password(page, "push@contoso.sandbox")
    expect(page.get_by_role("heading")).to_have_text("Approve sign in request")


def test_healthy_csw_docks_the_panel_with_the_widget_inside_and_writes_both_keys(page: Page, sandbox):
    sign_in(page, sandbox, "healthy-csw")
    widget = page.frame_locator("#SidePanelIFrame").frame_locator("iframe[title='Contoso Phone']")
    expect(widget.get_by_role("status")).to_have_text("Ready")
    assert panel_mode(page) == 1
    box = page.locator("#SidePanelIFrame").bounding_box()
    assert box is not None and box["width"] >= 370 and box["height"] > 600
    providers = json.loads(page.evaluate("sessionStorage.getItem('channelProviders')"))
    assert [p["uniqueName"] for p in providers] == ["contoso_softphone"]
    extensions = json.loads(page.evaluate("sessionStorage.getItem('applicationExtensions')"))
    loader = next(e for e in extensions if e["uniqueName"] == "msdyn_CIFV2Loader")
    assert loader["webResourceUrl"] == "WebResources/msdyn_channelintegrationframework.js"


def test_the_app_id_replaces_the_app_name_in_the_url_once_loaded(page: Page, sandbox):
    sign_in(page, sandbox, "healthy-omnichannel")
    assert "appid=4c2a6b0e-1f3d-ee11-9cb7-000d3a1b2c3d" in page.url
    assert page.evaluate("Xrm.Utility.getGlobalContext().getCurrentAppProperties()")["uniqueName"] == (
        "OmniChannelEngagementHub"
    )


@pytest.mark.parametrize(("scenario", "mode"), [("panel-minimized", 0), ("panel-hidden", 2), ("panel-collapsed", 3)])
def test_the_provider_sets_the_panel_mode_it_asks_for(page: Page, sandbox, scenario: str, mode: int):
    sign_in(page, sandbox, scenario)
    page.wait_for_function(f"Xrm.Panel.state === {mode}")
    assert page.locator("#panelHost").get_attribute("data-mode") == str(mode)


def test_the_collapse_and_expand_buttons_change_the_mode(page: Page, sandbox):
    sign_in(page, sandbox, "healthy-csw")
    page.frame_locator("#SidePanelIFrame").frame_locator("iframe").get_by_text("Ready").wait_for()
    page.get_by_role("button", name="Collapse Communication Panel").click()
    assert panel_mode(page) == 3
    page.get_by_role("button", name="Expand Communication Panel").click()
    assert panel_mode(page) == 1


def test_a_sender_outside_the_channel_and_trusted_domains_is_refused(page: Page, sandbox):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in(page, sandbox, "trusted-domain-mismatch")
    widget = page.frame_locator("#SidePanelIFrame").frame_locator("iframe")
    expect(widget.get_by_role("status")).to_contain_text("Sender domain is not a recognised or is invalid")
    assert any("Sender domain is not a recognised" in text for text in messages)


def test_prefixed_keys_and_the_pascal_case_variant_are_written_as_declared(page: Page, sandbox):
    sign_in(page, sandbox, "storage-keys-prefixed")
    page.wait_for_function("Object.keys(sessionStorage).length >= 2")
    assert sorted(page.evaluate("Object.keys(sessionStorage)")) == [
        "CIF.4f1c9a2e.applicationExtensions",
        "CIF.4f1c9a2e.channelProviders",
    ]
    page.goto(sandbox.urls.app_url(SCENARIOS["storage-json-variant"]))  # signed in already: single sign-on
    page.wait_for_url("**/main.aspx?appid=*")
    page.wait_for_function("sessionStorage.getItem('channelProviders') !== null")
    stored = json.loads(page.evaluate("sessionStorage.getItem('channelProviders')"))
    assert stored["Providers"]["contoso_softphone"]["ChannelUrl"].startswith("http://widget.localhost")


def test_the_web_api_answers_gets_with_the_session_cookie(sandbox):
    token = sandbox.app.state.issue_session()
    request = urllib.request.Request(
        f"http://127.0.0.1:{sandbox.port}/api/data/v9.2/msdyn_channelproviders",
        headers={"Host": f"healthy-csw.crm.localhost:{sandbox.port}", "Cookie": f"{SESSION_COOKIE}={token}"},
    )
    with urllib.request.urlopen(request) as response:
        body = json.load(response)
    assert body["value"][0]["msdyn_apiversion"] == 162450000


def test_the_web_api_refuses_writes_and_records_them(sandbox):
    request = urllib.request.Request(
        f"http://127.0.0.1:{sandbox.port}/api/data/v9.2/msdyn_channelproviders",
        method="POST",
        data=b"{}",
        headers={"Host": f"healthy-csw.crm.localhost:{sandbox.port}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 405
    assert any(attempt.startswith("POST ") for attempt in sandbox.app.state.write_attempts)
    sandbox.app.state.write_attempts.clear()
    sandbox.app.state.outside_page_requests.clear()  # this test's own POST, not cifcheck's


def test_single_sign_on_takes_a_signed_in_browser_back_to_the_org_without_a_page(page: Page, sandbox):
    sign_in(page, sandbox, "healthy-csw")
    page.context.clear_cookies(domain="healthy-csw.crm.localhost")
    page.goto(sandbox.urls.app_url(SCENARIOS["healthy-csw"]))
    page.wait_for_url("**/main.aspx?appid=*")
    expect(page.locator("#userName")).to_have_text(SANDBOX_USER)


def test_a_sandbox_logs_the_requests_no_page_made_when_it_stops(tmp_path, monkeypatch):
    """What the suite-wide GET-only guard (tests/conftest.py) reads: a request other than GET is caught."""
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv(REQUEST_LOG, str(log))
    with SandboxServer() as server:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/data/v9.2/msdyn_channelproviders",
            method="PATCH",
            data=b"{}",
            headers={"Host": f"healthy-csw.crm.localhost:{server.port}"},
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request)
    assert json.loads(log.read_text()) == {"PATCH": 1}
