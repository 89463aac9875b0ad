"""Adversarial review of issue 14 (credential hosts, cifcheck's own Web API reads, bad input, message safety).

One failing test per problem found; each is named for the behaviour expected.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Playwright
from pydantic import ValidationError

from cifcheck.browser import find_browser, launch_options
from cifcheck.config import BrowserConfig, Config, Credentials, Target, Timeouts
from cifcheck.probes.dataverse import read_dataverse
from cifcheck.probes.webapi import ReadError, WebApi
from cifcheck.runner import open_target, run

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "victim@contoso.example"
PASSWORD = "correct-horse-battery-staple"


class _Recorder:
    """A local server whose handler is `answer(handler) -> (status, headers, body)`; records every request."""

    def __init__(self, answer, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode(errors="replace")
                recorder.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, content = answer(self, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _any

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]

    def __enter__(self) -> _Recorder:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()


def _json(status: int, value: object) -> tuple[int, dict, bytes]:
    return status, {"content-type": "application/json"}, json.dumps(value).encode()


# 1. Credentials go only where they belong.


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A TLS server context with a self-signed certificate no browser trusts."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
             "-out", str(cert), "-subj", "/CN=login.microsoftonline.com"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl is needed to make a self-signed certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture(scope="module")
def impostor_browser(playwright: Playwright) -> Iterator[Browser]:
    """A browser that resolves Entra's own sign-in host (and a remote-looking org) to this machine, as a hostile
    network (a captive portal, a poisoned resolver, an intercepting proxy) would."""
    options = launch_options(find_browser())
    rules = "--host-resolver-rules=MAP login.microsoftonline.com 127.0.0.1, MAP contoso.crm.example 127.0.0.1"
    browser = playwright.chromium.launch(**{**options, "args": [*options["args"], rules]})
    yield browser
    browser.close()


@pytest.mark.browser
def test_no_credentials_are_typed_into_a_sign_in_page_whose_certificate_is_not_trusted_even_with_ignore_https_errors(
    tmp_path, impostor_browser, self_signed, monkeypatch
):
    """withheld_from trusts https because "a certificate proves the host"; with browser.ignore_https_errors (meant
    for a test org's self-signed certificate) no certificate proves anything, and a man in the middle presenting
    any certificate for login.microsoftonline.com got the account and password."""
    monkeypatch.setenv("R2_USER", ACCOUNT)
    monkeypatch.setenv("R2_PASSWORD", PASSWORD)
    monkeypatch.setenv("R2_TOTP", "")
    port_box: list[int] = []

    def answer(handler: BaseHTTPRequestHandler, body: str) -> tuple[int, dict, bytes]:
        host = (handler.headers.get("host") or "").rsplit(":", 1)[0]
        port = port_box[0]
        path = urlsplit(handler.path).path
        if host == "contoso.crm.example":
            if "signed" in handler.path:
                app = "<title>Dynamics 365</title><script>window.Xrm={Utility:{getGlobalContext:()=>({})}}</script>"
                return 200, {"content-type": "text/html"}, app.encode()
            login = f"https://login.microsoftonline.com:{port}/common/oauth2/v2.0/authorize?client_id=crm&response_type=code"
            return 302, {"location": login}, b""
        if path == "/login":
            return 302, {"location": f"https://contoso.crm.example:{port}/main.aspx?signed=1"}, b""
        form = (
            "<title>Sign in</title><form method='post' action='/login'><input name='loginfmt' type='email'>"
            "<input name='passwd' type='password'><input type='submit' id='idSIButton9' value='Next'></form>"
        )
        return 200, {"content-type": "text/html"}, form.encode()

    with _Recorder(answer, tls=self_signed) as site:
        port_box.append(site.port)
        credentials = Credentials(username_env="R2_USER", password_env="R2_PASSWORD", totp_secret_env="R2_TOTP")
        config = Config(
            targets=[
                Target(
                    name="org",
                    url=f"https://contoso.crm.example:{site.port}",
                    credentials=credentials,
                    checks=["session.signed_in"],
                )
            ],
            browser=BrowserConfig(ignore_https_errors=True),
            timeouts=Timeouts(ready_ms=10_000, observe_ms=0, absence_ms=0, settle_max_ms=1_000),
            output_dir=str(tmp_path / "reports"),
        )
        run(config, browser=impostor_browser)
    assert any(seen["path"].startswith("/common/oauth2") for seen in site.seen), "the impostor's page was shown"
    posted = "\n".join(seen["body"] for seen in site.seen)
    assert PASSWORD not in posted, "the password went to the impostor"
    assert ACCOUNT.replace("@", "%40") not in posted and ACCOUNT not in posted


# 2. cifcheck's own Web API reads.


@pytest.mark.browser
def test_a_next_link_that_python_and_the_driver_read_as_different_hosts_is_not_followed(browser: Browser):
    """`http://localhost:P2\\@127.0.0.1:P1/api/data/v9.2/...`: urlsplit sees host 127.0.0.1:P1 (the org), so
    _on_org admits it; Playwright's driver (WHATWG URL, `\\` is a path separator) sends the GET to localhost:P2, and
    that other server's answer is taken as the org's records."""

    def other_answer(handler, body):
        return _json(200, {"value": [{"msdyn_name": "forged by another host"}]})

    with _Recorder(other_answer) as other:

        def org_answer(handler, body):
            if "page=2" in handler.path:
                return _json(200, {"value": []})
            link = f"http://localhost:{other.port}\\@127.0.0.1:{org.port}/api/data/v9.2/msdyn_ciproviders?page=2"
            return _json(200, {"value": [{"msdyn_name": "real"}], "@odata.nextLink": link})

        with _Recorder(org_answer) as org:
            context = browser.new_context()
            try:
                api = WebApi(context, f"http://127.0.0.1:{org.port}")
                try:
                    records = api.records("msdyn_ciproviders", ["msdyn_name"])
                except ReadError:
                    records = None
            finally:
                context.close()
    assert not other.seen, f"cifcheck's read went to another host: {other.seen[0]['path']}"
    assert records is None or {"msdyn_name": "forged by another host"} not in records


@pytest.mark.browser
def test_a_read_of_a_localhost_org_sends_no_cookie_that_belongs_to_127_0_0_1(browser: Browser):
    """_loopback connects to 127.0.0.1 and sets Cookie only when the org has cookies; with none, Playwright fills the
    Cookie header itself from the context's cookies for http://127.0.0.1:P: another local app's session goes to
    the org (and the org's Set-Cookie lands on 127.0.0.1)."""
    with _Recorder(lambda handler, body: _json(200, {"UserId": "u"})) as org:
        context = browser.new_context()
        try:
            context.add_cookies(
                [{"name": "other_app_session", "value": "s3cr3t-of-127", "url": f"http://127.0.0.1:{org.port}"}]
            )
            WebApi(context, f"http://contoso.crm.localhost:{org.port}").get("WhoAmI")
        finally:
            context.close()
    sent = {name.lower(): value for name, value in org.seen[0]["headers"].items()}
    assert "s3cr3t-of-127" not in sent.get("cookie", ""), "a cookie of 127.0.0.1 went to contoso.crm.localhost"


class _FakeRequest:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def get(self, url: str, **_: object):
        self.urls.append(url)
        raise ReadError("not reached")  # never gets this far in the expected behaviour


class _FakeContext:
    def __init__(self) -> None:
        self.request = _FakeRequest()

    def cookies(self, *_: object) -> list:
        return []


class _FakePage:
    def __init__(self, url: str) -> None:
        self.url = url
        self.context = _FakeContext()


def test_the_web_api_is_read_only_at_the_configured_org_origin_not_at_the_scheme_or_port_the_page_moved_to(
    tmp_path,
):
    """Only the page's host is compared with the org's: a page that moved to http://<org host>:8080 makes cifcheck
    read the Web API there, in plain http, with the context's (non-Secure) cookies for the org host."""
    config = Config(targets=[Target(name="org", url="https://contoso.crm.dynamics.com")], output_dir=str(tmp_path))
    opened, _ = open_target(config.targets[0], config, None)
    page = _FakePage("http://contoso.crm.dynamics.com:8080/main.aspx?appname=x")
    read_dataverse(page, opened.org_hosts)  # type: ignore[arg-type]  # catches every ReadError itself
    assert not page.context.request.urls, f"read from the page's origin: {page.context.request.urls[0]}"


# 3. Bad input.


def test_a_host_pattern_with_many_wildcards_is_refused_or_matched_in_linear_time():
    """`********.example.com` passes validation; host_regex makes `.*.*.*...` of it, and each check of a host that
    does not match backtracks exponentially (8 stars, a 50-character host: ~14 s per URL check, in Python and in the
    page's sign-in watch). The page chooses the host."""
    code = (
        "import sys\n"
        "from pydantic import ValidationError\n"
        "from cifcheck.config import SignIn\n"
        "from cifcheck.probes.sign_in_page import is_sign_in_host\n"
        "try:\n"
        "    s = SignIn(credential_hosts=['**********.example.com'])\n"
        "except ValidationError:\n"
        "    sys.exit(0)\n"
        "is_sign_in_host('https://' + 'a' * 60 + '.example.org/', s.all_hosts)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        subprocess.run([sys.executable, "-c", code], env=environment, timeout=10, check=True, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("one host check took more than 10 s")


@pytest.mark.parametrize("url", ["https://1.2.3.4.5", "https://[::1%25eth0]", "http://[fe80::1%eth0]"])
def test_an_org_url_chromium_refuses_as_invalid_is_bad_input_when_the_config_is_read(url: str):
    """check_url promises "checked when the config is read, not after a browser started"; these pass it (a dotted
    host whose last label is a number is an IPv4 address to a browser; a zone id is no part of a URL), and Chromium
    answers 'Cannot navigate to invalid URL'."""
    with pytest.raises(ValidationError):
        Target(name="a", url=url)


def _cifcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60
    )


def test_config_check_refuses_a_saved_session_that_run_refuses(tmp_path):
    """`config check` says the config is fine (exit 0) while `run` and `login` refuse the same file as bad input:
    `auth.storage_state: /dev/zero is a device, not a saved session file`."""
    config = {
        "targets": [{"name": "a", "url": "https://contoso.crm.dynamics.com"}],
        "auth": {"storage_state": "/dev/zero"},
    }
    (tmp_path / "c.json").write_text(json.dumps(config))
    checked = _cifcheck("config", "check", "--config", "c.json", cwd=tmp_path)
    assert checked.returncode == 2 and "/dev/zero is a device" in checked.stderr


# 4. Terminal safety.


def test_config_check_prints_a_target_app_as_inert_text(tmp_path):
    """`config check` echoes `app` as it is: ESC ] 0 ; ... BEL retitles the terminal window, U+202E reorders the line.
    Every other place that shows a value cifcheck did not write passes it through safe_text."""
    app = "\x1b]0;pwned\x07\u202eX"
    config = {"targets": [{"name": "a", "url": "https://contoso.crm.dynamics.com", "app": app}]}
    (tmp_path / "c.json").write_text(json.dumps(config))
    checked = _cifcheck("config", "check", "--config", "c.json", cwd=tmp_path)
    assert "\x1b" not in checked.stdout and "\u202e" not in checked.stdout


def test_an_app_name_cannot_add_parameters_to_the_app_url():
    """app_query is `appname=<app>` unencoded: app `Foo&appid=<guid>` opens main.aspx?appname=Foo&appid=<guid>
    (both, which app_query promises never to give), `#` cuts the query; such an app name is either refused or
    percent-encoded."""
    try:
        target = Target(
            name="a", url="https://contoso.crm.dynamics.com", app="Foo&appid=0d2c4e5e-0000-0000-0000-000000000000"
        )
    except ValidationError:
        return
    assert "&appid=" not in target.app_query
