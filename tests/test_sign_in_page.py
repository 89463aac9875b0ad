"""Telling a sign-in page from the app: host patterns, the page's own report of its step, and single sign-on."""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route

from cifcheck.config import Config, SignIn, Target, Timeouts
from cifcheck.evidence import Navigation
from cifcheck.login import login
from cifcheck.probes.sign_in_page import PageLook, SignInWatch, is_sign_in_host
from cifcheck.runner import run
from cifcheck.session import OpenedTarget, open_app

from .local_site import serving
from .signing_in import as_a_person, config_for, verdicts


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        ("login.microsoftonline.com", "login.microsoftonline.com"),
        ("login.microsoftonline.com", "LOGIN.microsoftonline.com"),
        ("login.microsoftonline.com", "loginxmicrosoftonline.com"),
        ("login.microsoftonline.com", "login.microsoftonline.com.evil.example"),
        ("*.b2clogin.com", "contoso.b2clogin.com"),
        ("*.b2clogin.com", "b2clogin.com"),
        ("login-?.example.com", "login-1.example.com"),
        ("login-?.example.com", "login-.example.com"),
    ],
)
def test_host_patterns_match_as_shell_wildcards_do(pattern, host):
    assert is_sign_in_host(f"https://{host}/path", (pattern,)) == fnmatch.fnmatchcase(host.lower(), pattern.lower())


# The rest drive a browser.

ORG = "https://contoso.crm.dynamics.com"
SIGN_IN = "https://login.microsoftonline.com"
FORM = "<title>Sign in to your account</title><input name='loginfmt' type='email'>"
# Like Microsoft Entra ID's page: the document arrives empty and its script draws the form later.
FORM_DRAWN_LATE = """<title>Sign in to your account</title><body><script>
setTimeout(() => { document.body.innerHTML = '<input name="loginfmt" type="email">'; }, 300);
</script></body>"""
NO_FORM = "<title>Working...</title><p>One moment"


def _serve(page: Page, pages: dict[str, str]) -> None:
    """Answers each URL in `pages` with its HTML, without a network."""

    def answer(route: Route) -> None:
        body = pages.get(route.request.url)
        route.fulfill(status=200 if body else 404, content_type="text/html", body=body or "not here")

    page.route("**/*", answer)


def _look_for(page: Page, watch: SignInWatch, step: str | None) -> PageLook | None:
    """The watch's look once it reports `step` (or after 10 s); it only listens, it never asks the page."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (watch.latest is None or watch.latest.step != step):
        page.wait_for_timeout(10)
    return watch.latest


@pytest.mark.browser
def test_a_sign_in_page_reports_its_step_and_title_without_being_asked(page: Page):
    _serve(page, {f"{SIGN_IN}/a": FORM})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/a")
    assert _look_for(page, watch, "account") == PageLook(step="account", title="Sign in to your account")


@pytest.mark.browser
def test_a_form_a_script_draws_later_is_reported_when_it_appears(page: Page):
    _serve(page, {f"{SIGN_IN}/a": FORM_DRAWN_LATE})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/a")
    assert _look_for(page, watch, None) is not None  # drawn first without a form
    assert _look_for(page, watch, "account") == PageLook(step="account", title="Sign in to your account")


@pytest.mark.browser
def test_fields_off_screen_or_hidden_from_readers_are_not_the_step_shown(page: Page):
    hidden_fields = (
        "<input name='passwd' type='password' style='position: absolute; left: -10000px'>"
        "<div aria-hidden='true'><input name='otc'></div>"
    )
    _serve(page, {f"{SIGN_IN}/a": FORM + hidden_fields})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/a")
    assert _look_for(page, watch, "account") == PageLook(step="account", title="Sign in to your account")


@pytest.mark.browser
def test_host_wildcards_work_in_the_page_as_in_python(page: Page):
    _serve(page, {"https://login-eu.example.com/a": FORM})
    hosts = ["login-*.example.com"]
    watch = SignInWatch(page, SignIn(hosts=hosts), hosts)
    page.goto("https://login-eu.example.com/a")
    assert _look_for(page, watch, "account") is not None


def _call_binding(claim: str) -> str:
    """A script that calls cifcheck's binding itself once the page has settled, and notes when it was answered
    (in a variable: a change to the page would make the watch report again)."""
    call = f"setTimeout(async () => {{ await __cifcheckSignInLook({claim}); window.answered = true; }}, 200)"
    return f"<script>onload = () => {call}</script>"


ANSWERED = "window.answered === true"


@pytest.mark.browser
def test_looks_claimed_by_another_host_or_by_a_frame_are_ignored(page: Page):
    claim = "{step: 'account', title: 'x', url: location.href, origin: performance.timeOrigin}"
    _serve(
        page,
        {
            f"{ORG}/app": _call_binding(claim),  # the app itself claiming a sign-in step
            f"{SIGN_IN}/top": f"<title>top</title><iframe src='{SIGN_IN}/frame'></iframe>",
            f"{SIGN_IN}/frame": _call_binding(claim),  # a frame on a sign-in host claiming a step
        },
    )
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{ORG}/app")
    page.wait_for_function(ANSWERED)
    assert watch.latest is None
    page.goto(f"{SIGN_IN}/top")
    page.frames[1].wait_for_function(ANSWERED)
    assert watch.latest == PageLook(step=None, title="top")


@pytest.mark.browser
@pytest.mark.parametrize(
    "claim",
    [
        "{step: 'evil', title: 'x', url: location.href, origin: performance.timeOrigin}",
        "{step: 'account', title: 5, url: location.href, origin: performance.timeOrigin}",
        "{step: 'account', title: 'x', url: location.href, origin: 0}",  # as if from an earlier document
        "'account'",
    ],
)
def test_malformed_looks_are_ignored(page: Page, claim: str):
    _serve(page, {f"{SIGN_IN}/a": NO_FORM + _call_binding(claim)})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/a")
    page.wait_for_function(ANSWERED)
    assert watch.latest == PageLook(step=None, title="Working...")


@pytest.mark.browser
def test_a_new_url_in_the_same_document_is_reported_again(page: Page):
    # The page reusing the global's name must not matter: the watch took the Navigation API before it ran.
    later = "<script>var navigation = 5; setTimeout(() => history.replaceState(null, '', '?step=2'), 300)</script>"
    _serve(page, {f"{SIGN_IN}/a": FORM + later})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/a")
    page.wait_for_url("**/a?step=2")
    assert _look_for(page, watch, "account") is not None


@pytest.mark.browser
def test_the_look_of_the_previous_page_is_forgotten_when_the_tab_moves_on(page: Page):
    _serve(page, {f"{SIGN_IN}/form": FORM, f"{SIGN_IN}/bounce": NO_FORM})
    watch = SignInWatch(page, SignIn(), SignIn().hosts)
    page.goto(f"{SIGN_IN}/form")
    assert _look_for(page, watch, "account") is not None
    page.goto(f"{SIGN_IN}/bounce", wait_until="commit")
    assert watch.latest is None or watch.latest.step is None
    # Closing a context whose page is still loading hung once in about fifteen runs of this file (Chromium 156).
    page.wait_for_load_state()


def _patient(ready_ms: int = 30_000) -> Config:
    """Waits so long for a page without a form that only the page's own report can end the wait in time."""
    return Config(
        targets=[Target(name="org", url=ORG)],
        sign_in=SignIn(settle_ms=60_000),
        timeouts=Timeouts(ready_ms=ready_ms, navigation_ms=30_000),
    )


# The org sends the browser on with a script, not a 302: Chromium does not intercept the request that a redirect
# fulfilled by a route leads to.
TO_SIGN_IN = f"<script>location.replace('{SIGN_IN}/common/oauth2/authorize')</script>"
APP = "<title>Dynamics 365</title><script>window.Xrm = { Utility: { getGlobalContext: () => ({}) } };</script>"
# Single sign-on with response_mode=form_post: a page on the sign-in host that posts straight back.
FORM_POST_BOUNCE = f"""<title>Working...</title><body>
<form method="post" action="{ORG}/"><input type="hidden" name="code" value="abc"></form>
<script>setTimeout(() => document.forms[0].submit(), 200);</script></body>"""


def _open(page: Page, config: Config, sign_in_page: str) -> Navigation:
    def answer(route: Route) -> None:
        if not route.request.url.startswith(ORG):
            route.fulfill(status=200, content_type="text/html", body=sign_in_page)
        elif route.request.method == "POST":  # the identity provider's answer: the app opens
            route.fulfill(status=200, content_type="text/html", body=APP)
        else:
            route.fulfill(status=200, content_type="text/html", body=TO_SIGN_IN)

    page.route("**/*", answer)
    opened = OpenedTarget(config.targets[0], ORG, tuple(config.sign_in.hosts))
    return open_app(page, opened, config, Navigation(), time.monotonic())


@pytest.mark.browser
def test_a_sign_in_form_drawn_by_script_is_recognised_without_waiting_out_the_settle_window(page: Page):
    started = time.monotonic()
    navigation = _open(page, _patient(), FORM_DRAWN_LATE)
    assert navigation.sign_in_page and not navigation.app_ready
    assert navigation.title == "Sign in to your account"
    assert time.monotonic() - started < 20  # far below the 60 s a page without a form must stay


@pytest.mark.browser
def test_a_page_that_posts_straight_back_is_single_sign_on_not_a_sign_in_page(page: Page):
    navigation = _open(page, _patient(), FORM_POST_BOUNCE)
    assert navigation.app_ready and not navigation.sign_in_page


class _SlowStyleSheetSite(BaseHTTPRequestHandler):
    """An org on `localhost` and a sign-in host on `127.0.0.1`, whose page holds a field that its style sheet,
    arriving after the page is parsed, hides; once loaded it posts back, as single sign-on does."""

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path.startswith("/main.aspx") and "signed" in self.path:
            body = APP
        elif self.path.startswith("/main.aspx"):
            body = f"<script>location.replace('http://127.0.0.1:{port}/authorize')</script>"
        elif self.path == "/authorize":
            back = f"http://localhost:{port}/main.aspx?signed"
            body = (
                f"<script>addEventListener('load', () => location.replace('{back}'))</script>"
                "<link rel='stylesheet' href='/late.css'><input name='loginfmt' type='email'>"
            )
        else:
            time.sleep(0.5)
            body = "input { display: none }"
        content = body.encode()
        self.send_response(200)
        self.send_header("content-type", "text/css" if self.path.endswith(".css") else "text/html")
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def slow_style_sheet_site() -> Iterator[int]:
    with serving(_SlowStyleSheetSite) as port:
        yield port


@pytest.mark.browser
def test_a_field_that_a_late_style_sheet_hides_is_not_a_sign_in_step(page: Page, slow_style_sheet_site: int):
    org = f"http://localhost:{slow_style_sheet_site}"
    config = Config(
        targets=[Target(name="org", url=org)],
        sign_in=SignIn(hosts=["127.0.0.1"], settle_ms=60_000),
        timeouts=Timeouts(ready_ms=30_000),
    )
    navigation = open_app(page, OpenedTarget(config.targets[0], org, ("127.0.0.1",)), config, Navigation(), 0)
    assert navigation.app_ready and not navigation.sign_in_page


@pytest.mark.browser
def test_single_sign_on_through_the_sandbox_sign_in_host_is_not_a_sign_in_page(tmp_path: Path, sandbox, browser):
    """The sandbox's single sign-on answers with a redirect, as Entra does for response_mode=query."""
    state = tmp_path / "state.json"
    config = config_for(tmp_path, storage_state=str(state))
    login(config, config.targets[0], person=as_a_person("admin@contoso.sandbox"), sandbox=sandbox, browser=browser)
    for cookie in json.loads(state.read_text())["cookies"]:  # the org's session ends; the identity provider's stays
        sandbox.app.state.sessions.pop(cookie["value"], None)
    output = run(config, sandbox=sandbox, browser=browser)
    assert verdicts(output)["session.signed_in"] == "pass"
    assert any("login.localhost" in url for url in output.evidence[0].navigation.redirects)
