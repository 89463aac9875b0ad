"""Telling a sign-in page from the app: host patterns, a form drawn late by script, and single sign-on."""

from __future__ import annotations

import fnmatch
import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route

from cifcheck.config import Config, SignIn, Target, Timeouts
from cifcheck.evidence import Navigation
from cifcheck.login import login
from cifcheck.runner import run
from cifcheck.session import OpenedTarget, open_app
from cifcheck.signin import host_regex, is_sign_in_host

from .test_sessions import as_a_person, config_for, verdicts


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        ("login.microsoftonline.com", "login.microsoftonline.com"),
        ("login.microsoftonline.com", "LOGIN.microsoftonline.com"),
        ("login.microsoftonline.com", "loginxmicrosoftonline.com"),
        ("login.microsoftonline.com", "login.microsoftonline.com.evil.example"),
        ("*.b2clogin.com", "contoso.b2clogin.com"),
        ("*.b2clogin.com", "b2clogin.com"),
        ("login?.localhost", "login1.localhost"),
        ("login?.localhost", "login.localhost"),
    ],
)
def test_host_patterns_match_as_shell_wildcards_do(pattern, host):
    assert is_sign_in_host(f"https://{host}/path", (pattern,)) == fnmatch.fnmatchcase(host.lower(), pattern.lower())


def test_host_patterns_read_the_same_in_the_browser(page: Page):
    patterns = ["login.microsoftonline.com", "*.b2clogin.com", "login?.localhost", "a+b.example"]
    hosts = ["login.microsoftonline.com", "x.b2clogin.com", "b2clogin.com", "loginz.localhost", "a+b.example", "ab.x"]
    in_browser = page.evaluate(
        "([regexes, hosts]) => hosts.map((h) => regexes.some((r) => new RegExp(r, 'i').test(h)))",
        [[host_regex(p) for p in patterns], hosts],
    )
    assert in_browser == [is_sign_in_host(f"https://{host}/", tuple(patterns)) for host in hosts]


ORG = "https://contoso.crm.dynamics.com"
SIGN_IN = "https://login.microsoftonline.com"

# Like Microsoft Entra ID's page: the document arrives empty and its script draws the form later.
FORM_DRAWN_LATE = """<!doctype html><title>Sign in to your account</title><body><script>
setTimeout(() => { document.body.innerHTML = '<input name="loginfmt" type="email">'; }, 300);
</script></body>"""


def _patient(ready_ms: int = 30_000) -> Config:
    """Waits so long for a page without a form that only the page's own report can end the wait in time."""
    return Config(
        targets=[Target(name="org", url=ORG)],
        sign_in=SignIn(settle_ms=60_000),
        timeouts=Timeouts(ready_ms=ready_ms, navigation_ms=30_000),
    )


def _open(page: Page, config: Config, sign_in_page: str) -> Navigation:
    def answer(route: Route) -> None:
        if not route.request.url.startswith(ORG):
            route.fulfill(status=200, content_type="text/html", body=sign_in_page)
        elif route.request.method == "POST":  # the identity provider's answer: the app opens
            route.fulfill(status=200, content_type="text/html", body=APP)
        else:  # a script, not a 302: Chromium does not intercept the request a fulfilled redirect leads to
            route.fulfill(status=200, content_type="text/html", body=TO_SIGN_IN)

    page.route("**/*", answer)
    opened = OpenedTarget(config.targets[0], ORG, tuple(config.sign_in.hosts))
    return open_app(page, opened, config, Navigation(), time.monotonic())


TO_SIGN_IN = f"<script>location.replace('{SIGN_IN}/common/oauth2/authorize')</script>"
APP = "<title>Dynamics 365</title><script>window.Xrm = { Utility: { getGlobalContext: () => ({}) } };</script>"
# Single sign-on with response_mode=form_post: a page on the sign-in host that posts straight back.
FORM_POST_BOUNCE = f"""<!doctype html><title>Working...</title><body>
<form method="post" action="{ORG}/"><input type="hidden" name="code" value="abc"></form>
<script>setTimeout(() => document.forms[0].submit(), 200);</script></body>"""


def test_a_sign_in_form_drawn_by_script_after_the_page_loads_is_recognised_at_once(page: Page):
    started = time.monotonic()
    navigation = _open(page, _patient(), FORM_DRAWN_LATE)
    assert navigation.sign_in_page and not navigation.app_ready
    assert navigation.title == "Sign in to your account"
    assert time.monotonic() - started < 20  # far below the 60 s a page without a form must stay


def test_a_page_that_posts_straight_back_is_single_sign_on_not_a_sign_in_page(page: Page):
    navigation = _open(page, _patient(), FORM_POST_BOUNCE)
    assert navigation.app_ready and not navigation.sign_in_page


def test_a_page_claiming_an_unknown_step_is_not_taken_for_a_sign_in_form(page: Page):
    claim = "<title>x</title><script>onload = () => __cifcheckSignInLook({step: 'evil', title: 'x'})</script>"
    navigation = _open(page, _patient(ready_ms=1_500), claim)
    assert not navigation.sign_in_page  # the ready wait ran out instead: neither the app nor a form was seen


def test_single_sign_on_through_the_sign_in_host_is_not_a_sign_in_page(tmp_path: Path, sandbox, browser):
    state = tmp_path / "state.json"
    config = config_for(tmp_path, storage_state=str(state))
    login(config, config.targets[0], person=as_a_person("admin@contoso.sandbox"), sandbox=sandbox, browser=browser)
    for cookie in json.loads(state.read_text())["cookies"]:  # the org's session ends; the identity provider's stays
        sandbox.app.state.sessions.pop(cookie["value"], None)
    output = run(config, sandbox=sandbox, browser=browser)
    assert verdicts(output)["session.signed_in"] == "pass"
    evidence = output.evidence[0]
    assert any("login.localhost" in url for url in evidence.navigation.redirects)
