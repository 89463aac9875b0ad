"""A sign-in page of another identity provider (ADFS, Okta, Ping, B2C) is known by what it is, not by its host: by
its URL's shape, or, off the org's hosts, by the sign-in form it shows."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Page, Route
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from cifcheck.config import SignIn
from cifcheck.probes.sign_in_page import PageLook, SignInWatch, identity_provider_url
from cifcheck.sandbox.idp import MAINTENANCE_PATH, SHAPES, IdentityProviders, sign_in_url

ORG = "http://contoso.crm.localhost"
RETURN_TO = f"{ORG}/main.aspx?appname=msdyn_CustomerServiceWorkspace"
OAUTH, SAML, WS_FED = "OAuth 2.0 authorize", "SAML", "WS-Federation"
B2C = "https://login.contoso.com/contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("url", "protocol"),
    [
        ("https://sts.contoso.com/adfs/ls/?wa=wsignin1.0&wtrealm=https%3a%2f%2fcontoso.crm.dynamics.com%2f", WS_FED),
        ("https://sts.contoso.com/adfs/ls/IdpInitiatedSignOn.aspx", WS_FED),
        ("https://sts.contoso.com/ADFS/LS/?client-request-id=1", WS_FED),
        ("https://wsfed.example.com/sign-in?WA=WSIGNIN1.0&wtrealm=urn:contoso", WS_FED),
        ("https://sts.contoso.com/adfs/ls/?SAMLRequest=fZJNT4Qw", SAML),
        ("https://contoso.okta.com/app/dynamics/exk1a2b3/sso/saml", SAML),
        ("https://sso.contoso.com/idp/SSO.saml2", SAML),
        ("https://idp.contoso.edu/idp/profile/SAML2/Redirect/SSO?SAMLRequest=x", SAML),
        ("https://contoso.okta.com/oauth2/default/v1/authorize?client_id=0oa1&response_type=code", OAUTH),
        ("https://contoso.okta.com/oauth2/v1/authorize/?response_type=code", OAUTH),
        ("https://sso.contoso.com/as/authorization.oauth2?client_id=dynamics&response_type=code", OAUTH),
        (f"{B2C}/B2C_1_signin/oauth2/v2.0/authorize?client_id=1&response_type=id_token", OAUTH),
        (f"{B2C}/B2C_1_signin/api/CombinedSigninAndSignup/unified?tx=StateProperties=x&p=B2C_1_signin", OAUTH),
        (f"{B2C}/oauth2/v2.0/authorize?p=B2C_1A_custom", OAUTH),
        ("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=1&response_type=code", OAUTH),
        ("https://sts.contoso.com/adfs/oauth2/authorize?client_id=1", OAUTH),
        ("https://auth.contoso.com/realms/staff/protocol/openid-connect/auth?client_id=crm", OAUTH),
        ("https://accounts.google.com/o/oauth2/v2/auth?client_id=1&response_type=code", OAUTH),
    ],
)
def test_a_sign_in_request_names_its_protocol(url: str, protocol: str):
    assert identity_provider_url(url) == protocol


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.crm.dynamics.com/main.aspx?appname=msdyn_CustomerServiceWorkspace&pagetype=dashboard",
        "https://widget.contoso.com/chat/index.html?client_id=abc&ucilib=https://contoso.crm.dynamics.com/x.js",
        "https://contoso.okta.com/oauth2/default/v1/authorize",  # an authorize path that asks for nothing
        "https://docs.contoso.com/how-to-authorize?topic=client_id",
        "https://contoso.com/status/maintenance",
        "",
        "not a url at all",
        "http://[::1",
        "https://%zz%/adfs",
        "::::?&&==&=?",
    ],
)
def test_anything_else_is_no_sign_in_request(url: str):
    assert identity_provider_url(url) is None


def test_the_sandbox_identity_providers_send_sign_in_requests():
    for shape in SHAPES:
        assert identity_provider_url(sign_in_url(shape, "http://idp.localhost:1", RETURN_TO)) is not None, shape


# The rest drive a browser against the sandbox's identity providers, on idp.localhost.


class _Served:
    """`IdentityProviders` on 127.0.0.1, served by uvicorn from a background thread."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.base = f"http://idp.localhost:{self._socket.getsockname()[1]}"
        providers = IdentityProviders()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await providers.handle(Request(scope, receive))
            await response(scope, receive, send)

        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> _Served:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    with _Served() as served:
        yield served.base


def _watch(page: Page, org_hosts: tuple[str, ...] = ("contoso.crm.localhost",), **settings: object) -> SignInWatch:
    return SignInWatch(page, SignIn(**settings), SignIn(**settings).hosts, org_hosts=org_hosts)


def _look_for(page: Page, watch: SignInWatch, step: str | None, seconds: float = 1.5) -> PageLook | None:
    """The watch's look once it reports `step` (or after `seconds`); it only listens, it never asks the page."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (watch.latest is None or watch.latest.step != step):
        page.wait_for_timeout(10)
    return watch.latest


def _drawn(page: Page) -> None:
    """Until the page has drawn twice more: by then a watched page would have reported what it shows."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_timeout(100)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("shape", "step", "title", "protocol"),
    [
        ("adfs", "password", "Sign In", WS_FED),
        ("ping", "password", "Sign On", OAUTH),
        ("b2c", "password", "Sign up or sign in", OAUTH),
    ],
)
def test_another_identity_providers_form_reports_its_step(page: Page, idp: str, shape, step, title, protocol):
    watch = _watch(page)
    page.goto(sign_in_url(shape, idp, RETURN_TO))
    expected = PageLook(step=step, title=title, on_sign_in_host=False, identity_provider=protocol)
    assert _look_for(page, watch, step) == expected


@pytest.mark.browser
def test_oktas_form_is_reported_once_its_widget_draws_it(page: Page, idp: str):
    watch = _watch(page)
    page.goto(sign_in_url("okta", idp, RETURN_TO))
    first = _look_for(page, watch, None)
    assert first is not None and first.identity_provider == OAUTH  # drawn first without a form
    look = _look_for(page, watch, "account")
    assert look is not None and look.step == "account" and look.title == "Contoso - Sign In"


@pytest.mark.browser
def test_a_foreign_page_without_a_form_reports_no_step(page: Page, idp: str):
    watch = _watch(page)
    page.goto(f"{idp}{MAINTENANCE_PATH}")
    _drawn(page)
    assert watch.latest == PageLook(step=None, title="Down for maintenance", on_sign_in_host=False)


@pytest.mark.browser
def test_a_form_on_the_orgs_own_host_is_not_watched(page: Page, idp: str):
    watch = _watch(page, org_hosts=("idp.localhost",))  # as if the org itself served this page
    page.goto(sign_in_url("adfs", idp, RETURN_TO))
    _drawn(page)
    assert watch.latest is None


@pytest.mark.browser
def test_without_org_hosts_only_sign_in_hosts_are_watched(page: Page, idp: str):
    watch = _watch(page, org_hosts=())
    page.goto(sign_in_url("adfs", idp, RETURN_TO))
    _drawn(page)
    assert watch.latest is None


@pytest.mark.browser
def test_b2c_on_a_configured_sign_in_host_reports_its_form_without_org_hosts(page: Page, idp: str):
    """The Entra selectors miss B2C's fields; any provider's form still counts on a sign-in host."""
    loopback = idp.replace("idp.localhost", "127.0.0.1")  # Python, unlike Chromium, asks DNS for *.localhost
    with urllib.request.urlopen(sign_in_url("b2c", loopback, RETURN_TO)) as response:
        body = response.read()
    page.route("https://contoso.b2clogin.com/**", lambda route: route.fulfill(content_type="text/html", body=body))
    watch = _watch(page, org_hosts=())
    page.goto(sign_in_url("b2c", "https://contoso.b2clogin.com", RETURN_TO))
    look = _look_for(page, watch, "password")
    assert look is not None and look.step == "password" and look.on_sign_in_host


def _serve(page: Page, url: str, html: str) -> None:
    def answer(route: Route) -> None:
        found = route.request.url == url
        route.fulfill(status=200 if found else 404, content_type="text/html", body=html if found else "not here")

    page.route("**/*", answer)


@pytest.mark.browser
def test_a_user_name_field_next_to_a_hidden_password_field_is_the_account_step(page: Page):
    url = "https://id.contoso.example/sign-in"
    # Identifier first, as many providers ask: the password field waits, hidden, beside the user name.
    _serve(page, url, "<div><input name='username'><input type='password' style='display: none'></div>")
    watch = _watch(page)
    page.goto(url)
    look = _look_for(page, watch, "account")
    assert look is not None and look.step == "account"


@pytest.mark.browser
@pytest.mark.parametrize(
    "html",
    [
        "<input type='email' name='email' placeholder='Your email for our newsletter'>",  # in no form, no password
        "<form><input name='q' type='search'><input name='username' type='hidden'></form>",  # search, hidden
        "<form><input name='remember-username' type='checkbox'></form>",  # no text field
        "<form><input name='username' style='visibility: hidden'></form>",  # not visible
    ],
)
def test_fields_that_ask_no_one_to_sign_in_are_no_step(page: Page, html: str):
    url = "https://news.contoso.example/"
    _serve(page, url, f"<title>News</title>{html}")
    watch = _watch(page)
    page.goto(url)
    _drawn(page)
    assert watch.latest == PageLook(step=None, title="News", on_sign_in_host=False)
