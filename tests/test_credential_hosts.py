"""Credentials go only where they belong: unattended sign-in types the account, password and code only into pages
served over https from a host `sign_in.credential_hosts` names (plain http only for a sandbox org on this machine),
and says where it refused to."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, Playwright, Route

from cifcheck.browser import find_browser, launch_options
from cifcheck.checks import judge_target
from cifcheck.config import Config, Credentials, SignIn, Target, Timeouts
from cifcheck.evidence import BrowserInfo
from cifcheck.runner import open_target, run
from cifcheck.session import gather_on_page
from cifcheck.signin import CredentialHosts

from .local_site import serving

ACCOUNT = "victim@contoso.example"
PASSWORD = "correct-horse-battery-staple"
TOTP_SECRET = pyotp.random_base32()
# A name like a B2C tenant's, which the browser resolves to the test's own server: the default sign_in.hosts
# (`*.b2clogin.com`) take it for a sign-in page, as they would take an attacker's tenant.
EVIL = "evil.b2clogin.com"
ORG = "contoso.crm.example"  # an org that is not on this machine, as far as cifcheck can tell from its name
GOOD = "login-eu.contoso.localhost"  # a sandbox-like identity provider on this machine
FEDERATED = "sts.contoso.example"  # a host in neither sign_in list, as a federated domain's own provider would be


@pytest.mark.parametrize(
    ("url", "patterns", "loopback", "refused"),
    [
        ("https://login.microsoftonline.com/common/login", ("login.microsoftonline.com",), False, None),
        ("https://LOGIN.microsoftonline.com/x", ("login.microsoftonline.com",), False, None),
        (
            "http://login.microsoftonline.com/x",
            ("login.microsoftonline.com",),
            False,
            "http://login.microsoftonline.com",
        ),
        (
            "https://login.microsoftonline.com.evil.example/",
            ("login.microsoftonline.com",),
            False,
            "https://login.microsoftonline.com.evil.example",
        ),
        ("https://sts.contoso.com:8443/adfs", ("sts.contoso.com",), False, None),  # a host named exactly: any port
        ("https://login.contoso.com/", ("*.contoso.com",), False, None),
        ("https://login.contoso.com:8443/", ("*.contoso.com",), False, "https://login.contoso.com:8443"),
        ("http://evil.b2clogin.com:8080/login", ("*.b2clogin.com",), True, "http://evil.b2clogin.com:8080"),
        ("http://login.localhost:8400/", ("login.localhost",), False, "http://login.localhost:8400"),
        ("http://login.localhost:8400/", ("login.localhost",), True, None),
        ("http://127.0.0.1:8400/", ("127.0.0.1",), True, None),
        ("http://127.0.0.1:8400/", ("login.localhost",), True, "http://127.0.0.1:8400"),
        ("https://user:pw@evil.example/", ("login.microsoftonline.com",), False, "https://evil.example"),
        ("ftp://login.microsoftonline.com/", ("login.microsoftonline.com",), True, "ftp://login.microsoftonline.com"),
    ],
)
def test_credentials_may_be_typed_only_over_https_into_named_hosts_or_into_a_sandbox_on_this_machine(
    url: str, patterns: tuple[str, ...], loopback: bool, refused: str | None
):
    assert CredentialHosts(patterns, http_on_loopback=loopback).withheld_from(url) == refused


def test_no_wildcard_is_among_the_default_credential_hosts():
    assert SignIn().credential_hosts and not any("*" in host or "?" in host for host in SignIn().credential_hosts)


# The rest drive a browser against a site on this machine that records every request it receives.


@dataclass
class Seen:
    host: str
    path: str  # with its query
    body: str


@dataclass
class Flow:
    """The sign-in the site runs: which host asks for which step, in order (`frame`: a page on that host whose form
    lives in a frame from the next step's host); after the last step, back to the org, signed in."""

    org: str
    steps: list[tuple[str, str]]
    seen: list[Seen] = field(default_factory=list)

    def sent_to(self, host: str) -> str:
        """Everything that reached `host`: paths, query strings and bodies."""
        return "\n".join(f"{seen.path}\n{seen.body}" for seen in self.seen if seen.host == host)


FIELDS = {"account": ("loginfmt", "email"), "password": ("passwd", "password"), "code": ("otc", "text")}
APP = "<title>Dynamics 365</title><script>window.Xrm = { Utility: { getGlobalContext: () => ({}) } };</script>"


def _form(step: str, index: int) -> str:
    """A step as Entra's page shows it: the field and a submit button cifcheck's default selectors find."""
    name, kind = FIELDS[step]
    return (
        f"<title>Sign in</title><form method='post' action='/login?i={index}'><label>{step} "
        f"<input name='{name}' type='{kind}'></label><input type='submit' id='idSIButton9' value='Next'></form>"
    )


def _site(flow: Flow) -> type[BaseHTTPRequestHandler]:
    class Site(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            host = (self.headers.get("host") or "").rsplit(":", 1)[0]
            length = int(self.headers.get("content-length") or 0)
            flow.seen.append(Seen(host, self.path, self.rfile.read(length).decode(errors="replace")))
            port = self.server.server_address[1]
            path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
            index = int(query.get("i", ["0"])[0])
            if host == flow.org and path == "/main.aspx":
                first = flow.steps[0][0]
                if "signed" in query:
                    return self._send(200, APP)
                return self._send(302, f"http://{first}:{port}/authorize?client_id=crm&response_type=code&i=0")
            if self.command == "POST" and path == "/login":
                if index + 1 == len(flow.steps):
                    return self._send(302, f"http://{flow.org}:{port}/main.aspx?appname=a&signed=1")
                return self._send(302, f"http://{flow.steps[index + 1][0]}:{port}/step?i={index + 1}")
            if path in ("/authorize", "/step") and index < len(flow.steps):
                step = flow.steps[index][1]
                if step == "frame":
                    source = f"http://{flow.steps[index + 1][0]}:{port}/step?i={index + 1}"
                    return self._send(200, f"<title>Sign in</title><iframe src='{source}' width=400 height=300>")
                return self._send(200, _form(step, index))
            return self._send(404, "not here")

        def _send(self, status: int, body_or_location: str) -> None:
            content = b"" if status == 302 else body_or_location.encode()
            self.send_response(status)
            if status == 302:
                self.send_header("location", body_or_location)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    return Site


@pytest.fixture(scope="module")
def resolving_browser(playwright: Playwright) -> Iterator[Browser]:
    """A browser that resolves the evil host and the remote-looking org to this machine, as DNS would elsewhere."""
    options = launch_options(find_browser())
    rules = f"--host-resolver-rules=MAP {EVIL} 127.0.0.1, MAP {ORG} 127.0.0.1, MAP {FEDERATED} 127.0.0.1"
    browser = playwright.chromium.launch(**{**options, "args": [*options["args"], rules]})
    yield browser
    browser.close()


@pytest.fixture
def signing_in(monkeypatch) -> Credentials:
    monkeypatch.setenv("VICTIM_USER", ACCOUNT)
    monkeypatch.setenv("VICTIM_PASSWORD", PASSWORD)
    monkeypatch.setenv("VICTIM_TOTP", TOTP_SECRET)
    return Credentials(username_env="VICTIM_USER", password_env="VICTIM_PASSWORD", totp_secret_env="VICTIM_TOTP")


def _config(tmp_path: Path, org_url: str, credentials: Credentials, **sign_in: object) -> Config:
    return Config(
        targets=[Target(name="org", url=org_url, credentials=credentials, checks=["session.signed_in"])],
        sign_in=SignIn(**sign_in),
        timeouts=Timeouts(ready_ms=15_000, observe_ms=0, absence_ms=0, settle_max_ms=1_000),
        output_dir=str(tmp_path / "reports"),
    )


def _signed_in(config: Config, browser: Browser) -> tuple[str, str]:
    check = run(config, browser=browser).result.targets[0].checks[0]
    assert check.id == "session.signed_in"
    return check.status, check.reason


def _codes_around(started: float) -> set[str]:
    totp = pyotp.TOTP(TOTP_SECRET)
    return {totp.at(at) for at in range(int(started) - 30, int(time.time()) + 60, 30)}


@pytest.mark.browser
def test_an_org_redirecting_to_an_http_look_alike_gets_an_error_and_no_credentials(
    tmp_path, resolving_browser, signing_in
):
    flow = Flow(org=ORG, steps=[(EVIL, "account"), (EVIL, "password"), (EVIL, "code")])
    with serving(_site(flow)) as port:
        status, reason = _signed_in(_config(tmp_path, f"http://{ORG}:{port}", signing_in), resolving_browser)
    assert status == "error"
    assert f"sign-in page on an unexpected host http://{EVIL}:{port}; cifcheck did not type your credentials" in reason
    assert "served over https" in reason
    assert any(seen.host == EVIL for seen in flow.seen), "the browser did reach the look-alike"
    sent = flow.sent_to(EVIL)
    assert ACCOUNT not in sent and ACCOUNT.replace("@", "%40") not in sent and PASSWORD not in sent
    assert not any(seen.body for seen in flow.seen), "nothing was submitted anywhere"


@pytest.mark.browser
def test_an_https_sign_in_host_that_credential_hosts_do_not_name_gets_no_credentials(
    tmp_path, resolving_browser, signing_in
):
    """contoso.b2clogin.com is a sign-in page by the default sign_in.hosts, but no credential host: anyone can
    create a B2C tenant and put their own scripts on its pages."""
    tenant = "https://contoso.b2clogin.com"
    posted: list[str] = []

    def b2c(route: Route) -> None:
        posted.append(f"{route.request.url}\n{route.request.post_data or ''}")
        route.fulfill(status=200, content_type="text/html", body=_form("account", 0))

    def org(route: Route) -> None:
        # By script, not a 302: Chromium does not intercept the request that a redirect fulfilled by a route leads to.
        authorize = f"{tenant}/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=crm&response_type=code"
        route.fulfill(status=200, content_type="text/html", body=f"<script>location.replace('{authorize}')</script>")

    config = _config(tmp_path, f"https://{ORG}", signing_in)
    opened, _ = open_target(config.targets[0], config, None)
    context = resolving_browser.new_context()
    try:
        page = context.new_page()
        page.route(f"{tenant}/**", b2c)
        page.route(f"https://{ORG}/**", org)
        evidence = gather_on_page(page, opened, config, BrowserInfo(name="chromium", version="", source="test"))
    finally:
        context.close()
    check = judge_target(evidence).checks[0]
    assert check.status == "error"
    assert f"sign-in page on an unexpected host {tenant}; cifcheck did not type your credentials" in check.reason
    assert "add contoso.b2clogin.com to sign_in.credential_hosts" in check.reason
    assert posted and not any(ACCOUNT in sent or PASSWORD in sent for sent in posted)


@pytest.mark.browser
def test_a_wildcard_the_user_wrote_admits_a_sandbox_like_identity_provider_on_this_machine(
    tmp_path, resolving_browser, signing_in
):
    started = time.time()
    flow = Flow(org="contoso.crm.localhost", steps=[(GOOD, "account"), (GOOD, "password"), (GOOD, "code")])
    with serving(_site(flow)) as port:
        org_url = f"http://contoso.crm.localhost:{port}"
        config = _config(tmp_path, org_url, signing_in, credential_hosts=["login-*.contoso.localhost"])
        status, reason = _signed_in(config, resolving_browser)
    assert (status, reason) == ("pass", "The app opened signed in as an unnamed user (signed in unattended).")
    account, password, code = (parse_qs(seen.body) for seen in flow.seen if seen.body)
    assert (account, password) == ({"loginfmt": [ACCOUNT]}, {"passwd": [PASSWORD]})
    assert code["otc"][0] in _codes_around(started)


@pytest.mark.browser
@pytest.mark.parametrize(("asked_there", "host"), [("password", EVIL), ("code", EVIL), ("password", FEDERATED)])
def test_a_sign_in_that_moves_to_an_unexpected_host_between_steps_sends_it_nothing_more(
    tmp_path, resolving_browser, signing_in, asked_there: str, host: str
):
    started = time.time()
    steps = [(GOOD, "account"), (GOOD, "password"), (GOOD, "code")]
    at = [step for _, step in steps].index(asked_there)
    flow = Flow(org="contoso.crm.localhost", steps=[*steps[:at], (host, asked_there)])
    with serving(_site(flow)) as port:
        config = _config(tmp_path, f"http://contoso.crm.localhost:{port}", signing_in, credential_hosts=[GOOD])
        status, reason = _signed_in(config, resolving_browser)
    assert status == "error"
    assert f"stopped at the {asked_there} step: sign-in page on an unexpected host http://{host}:{port}" in reason
    assert ACCOUNT.replace("@", "%40") in flow.sent_to(GOOD), "the account went to the identity provider"
    sent = flow.sent_to(host)
    assert PASSWORD not in sent and not any(code in sent for code in _codes_around(started))
    assert not any(seen.body for seen in flow.seen if seen.host == host)


@pytest.mark.browser
def test_a_sign_in_form_in_a_frame_from_another_origin_gets_no_credentials(tmp_path, resolving_browser, signing_in):
    flow = Flow(org="contoso.crm.localhost", steps=[(GOOD, "frame"), (EVIL, "account")])
    with serving(_site(flow)) as port:
        config = _config(tmp_path, f"http://contoso.crm.localhost:{port}", signing_in, credential_hosts=[GOOD])
        config.timeouts.ready_ms = 4_000
        status, _ = _signed_in(config, resolving_browser)
    assert status == "error"
    assert any(seen.host == EVIL for seen in flow.seen), "the frame was loaded"
    assert not any(seen.body for seen in flow.seen)
