"""`cifcheck doctor`: each problem a run would meet is found before the run, said plainly, with a one-line fix; exit
0 when nothing must be fixed, 1 when something must."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cifcheck import browser as discovery
from cifcheck.browser import BrowserNotFound, find_browser
from cifcheck.config import BrowserConfig
from cifcheck.doctor import diagnose
from tests.attacks.hostile_org import tls_context
from tests.local_site import serving


class _NotABrowser(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as bound:  # bound, never listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.fixture
def self_signed_https(tmp_path) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotABrowser)
    server.socket = tls_context(tmp_path).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_browser_env(monkeypatch):
    monkeypatch.delenv("CIFCHECK_BROWSER", raising=False)


def _doctor(tmp_path: Path, capsys, config: dict, *, launch: bool = False, cdp: str | None = None) -> tuple[int, str]:
    path = tmp_path / "doctor.json"
    path.write_text(json.dumps(config))
    code = diagnose(str(path), launch=launch, cdp=cdp)
    return code, capsys.readouterr().out


def _finding(output: str, start: str) -> tuple[str, str]:
    """The finding line that starts with `start`, and its fix line (or "")."""
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(start))
    after = lines[index + 1] if index + 1 < len(lines) else ""
    return lines[index], after.strip().removeprefix("fix: ") if after.startswith("     fix: ") else ""


def _org(name: str, url: str, **fields: object) -> dict:
    return {"targets": [{"name": name, "url": url}], **fields}


ROOT = Path(__file__).resolve().parent.parent
SANDBOX = {"targets": [{"name": "sb", "url": "sandbox://healthy-csw"}]}


# The browser


def test_a_configured_channel_that_is_not_installed_is_passed_over_saying_so(monkeypatch, no_browser_env):
    monkeypatch.setattr(discovery, "_installed_channel", lambda channel: None)
    monkeypatch.setattr(discovery, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(discovery, "_system_chromium", lambda: "/usr/bin/chromium")
    choice = find_browser(BrowserConfig(channel="msedge"))
    assert choice.executable_path == "/usr/bin/chromium"
    assert (
        choice.describe()
        == "/usr/bin/chromium (from system Chromium, as channel msedge: Microsoft Edge is not installed)"
    )


def test_doctor_says_the_channel_is_not_installed_and_what_it_uses_instead(
    tmp_path, capsys, monkeypatch, no_browser_env
):
    monkeypatch.setattr(discovery, "_installed_channel", lambda channel: None)
    code, output = _doctor(tmp_path, capsys, {**SANDBOX, "browser": {"channel": "msedge"}})
    line, fix = _finding(output, "NOTE browser:")
    assert "channel msedge: Microsoft Edge is not installed; using " in line and " instead" in line
    assert fix.startswith("to use it, install it: `python -m playwright install msedge`")
    assert code == 0, "a browser is there: nothing must be fixed"


def test_a_channel_that_is_not_installed_with_no_other_browser_gives_the_install_command(monkeypatch, no_browser_env):
    monkeypatch.setattr(discovery, "_installed_channel", lambda channel: None)
    monkeypatch.setattr(discovery, "_discovered", lambda args: None)
    with pytest.raises(BrowserNotFound) as raised:
        find_browser(BrowserConfig(channel="chrome"))
    assert str(raised.value) == (
        "channel chrome: Google Chrome is not installed; install it: `python -m playwright install chrome`"
    )


def test_a_browser_variable_naming_nothing_is_a_fix_saying_to_unset_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIFCHECK_BROWSER", "/nonexistent")
    code, output = _doctor(tmp_path, capsys, SANDBOX)
    line, fix = _finding(output, "FIX  browser:")
    assert line == "FIX  browser: CIFCHECK_BROWSER=/nonexistent does not exist"
    assert fix.startswith("point CIFCHECK_BROWSER at a Chromium-family browser (Chrome, Edge, Chromium), or unset it")
    assert code == 1


@pytest.mark.browser
def test_a_browser_variable_naming_a_program_that_is_no_browser_is_a_fix_not_reinstall_chromium(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("CIFCHECK_BROWSER", "/bin/true")
    code, output = _doctor(tmp_path, capsys, SANDBOX, launch=True)
    line, fix = _finding(output, "FIX  browser:")
    assert line.startswith("FIX  browser: /bin/true (from environment CIFCHECK_BROWSER) did not start as a browser")
    assert fix.startswith("point CIFCHECK_BROWSER at a Chromium-family browser")
    assert "reinstall" not in fix
    assert code == 1


def test_a_dead_cdp_port_is_a_fix_saying_how_to_start_the_browser(tmp_path, capsys, closed_port):
    code, output = _doctor(tmp_path, capsys, SANDBOX, cdp=f"http://127.0.0.1:{closed_port}")
    line, fix = _finding(output, "FIX  browser:")
    assert f"nothing answers at 127.0.0.1:{closed_port}" in line
    assert fix.startswith(f"start Chrome or Edge with --remote-debugging-port={closed_port}")
    assert "Browser discovery" not in output, "over CDP nothing is launched"
    assert code == 1


def test_a_dead_cdp_endpoint_in_the_config_is_found_too(tmp_path, capsys, closed_port):
    code, output = _doctor(
        tmp_path, capsys, {**SANDBOX, "browser": {"cdp_endpoint": f"http://127.0.0.1:{closed_port}"}}
    )
    assert f"nothing answers at 127.0.0.1:{closed_port}" in _finding(output, "FIX  browser:")[0]
    assert code == 1


def test_a_cdp_port_that_answers_but_is_no_browser_is_a_fix(tmp_path, capsys):
    with serving(_NotABrowser) as port:
        code, output = _doctor(tmp_path, capsys, SANDBOX, cdp=f"http://127.0.0.1:{port}")
    assert "answers, but not as a browser's DevTools endpoint" in _finding(output, "FIX  browser:")[0]
    assert code == 1


# The config


def test_a_valid_config_is_named_with_its_targets(tmp_path, capsys):
    code, output = _doctor(tmp_path, capsys, SANDBOX)
    assert f"OK   config: {tmp_path / 'doctor.json'} is valid: 1 target (sb)" in output
    assert "OK   session sb: not needed: the sandbox issues its own session" in output
    assert code == 0


def test_a_config_run_would_refuse_is_a_fix_naming_the_field(tmp_path, capsys):
    code, output = _doctor(tmp_path, capsys, {"targets": [{"name": "sb", "url": "sandbox://no-such-scenario"}]})
    line, fix = _finding(output, "FIX  config:")
    assert "targets[0].url: unknown sandbox scenario 'no-such-scenario'" in line
    assert fix.startswith(f"correct it in {tmp_path / 'doctor.json'}")
    assert code == 1


# Each org's reachability


def test_an_org_host_that_does_not_resolve_is_a_fix_about_its_spelling(tmp_path, capsys):
    code, output = _doctor(tmp_path, capsys, _org("typo", "https://contso.invalid"))
    line, fix = _finding(output, "FIX  org typo:")
    assert "contso.invalid does not resolve" in line
    assert fix.startswith(f"check the host name's spelling in targets[].url of {tmp_path / 'doctor.json'}")
    assert code == 1


def test_an_org_port_that_refuses_is_a_fix_about_the_port_and_the_network(tmp_path, capsys, closed_port):
    code, output = _doctor(tmp_path, capsys, _org("closed", f"https://127.0.0.1:{closed_port}"))
    line, fix = _finding(output, "FIX  org closed:")
    assert f"port {closed_port} of 127.0.0.1 does not answer (Connection refused)" in line
    assert "firewall, proxy or VPN" in fix
    assert code == 1


def test_an_org_with_a_self_signed_certificate_is_a_fix_about_the_certificate(tmp_path, capsys, self_signed_https):
    code, output = _doctor(tmp_path, capsys, _org("tls", f"https://localhost:{self_signed_https}"))
    line, fix = _finding(output, "FIX  org tls:")
    assert "its certificate is not trusted (self-signed certificate)" in line
    assert "root certificate" in fix
    assert code == 1


def test_a_test_org_whose_certificate_the_run_ignores_is_not_a_fix(tmp_path, capsys, self_signed_https):
    config = _org("tls", f"https://localhost:{self_signed_https}", browser={"ignore_https_errors": True})
    _, output = _doctor(tmp_path, capsys, config)
    assert "certificate not checked (browser.ignore_https_errors)" in _finding(output, "OK   org tls:")[0]


def test_a_local_http_org_that_answers_is_reachable(tmp_path, capsys):
    with serving(_NotABrowser) as port:
        _, output = _doctor(tmp_path, capsys, _org("local", f"http://127.0.0.1:{port}"))
    assert f"OK   org local: 127.0.0.1 and port {port} answers" in output


# Each target's saved session


def test_a_missing_saved_session_is_a_fix_with_the_login_command_for_this_config(tmp_path, capsys):
    state = tmp_path / "state.json"
    with serving(_NotABrowser) as port:
        config = _org("local", f"http://127.0.0.1:{port}", auth={"storage_state": str(state)})
        code, output = _doctor(tmp_path, capsys, config)
    line, fix = _finding(output, "FIX  session local:")
    assert line == f"FIX  session local: no saved session at {state}"
    assert fix == f"run `cifcheck login --target local --config {tmp_path / 'doctor.json'}`"
    assert code == 1


def test_a_saved_session_readable_by_others_is_a_fix(tmp_path, capsys):
    state = tmp_path / "state.json"
    state.write_text("{}")
    os.chmod(state, 0o644)
    with serving(_NotABrowser) as port:
        config = _org("local", f"http://127.0.0.1:{port}", auth={"storage_state": str(state)})
        code, output = _doctor(tmp_path, capsys, config)
    assert _finding(output, "FIX  session local:") == (
        f"FIX  session local: {state} is readable by others (it holds live cookies)",
        f"chmod 600 {state}",
    )
    assert f"OK   session local: {state} exists (saved 0 min ago); not opened" in output
    assert code == 1


@pytest.mark.browser
def test_a_saved_session_that_still_opens_the_app_is_ok_naming_the_user(tmp_path, capsys, sandbox, browser):
    from cifcheck.config import Config, SignIn, Target
    from cifcheck.login import login
    from tests.signing_in import as_a_person

    state = tmp_path / "state.json"
    url = sandbox.urls.org("healthy-csw")
    config = Config(targets=[Target(name="org", url=url, storage_state=str(state))])
    config.sign_in = SignIn(credential_hosts=["login.localhost"])
    login(config, config.targets[0], person=as_a_person("admin@contoso.sandbox"), sandbox=sandbox, browser=browser)
    path = tmp_path / "doctor.json"
    target = {"name": "org", "url": url, "storage_state": str(state)}
    path.write_text(json.dumps({"targets": [target], "sign_in": {"credential_hosts": ["login.localhost"]}}))
    done = subprocess.run(  # its own process: Playwright's sync API does not nest inside pytest-playwright's
        [sys.executable, "-m", "cifcheck", "doctor", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "CIFCHECK_BROWSER"} | {"PYTHONPATH": str(ROOT)},
    )
    line = _finding(done.stdout, "OK   session org:")[0]
    assert f"the saved session {state} is valid: signed in as admin@contoso.sandbox (saved 0 min ago)" in line
    assert done.returncode == 0, done.stdout


def test_a_browser_profile_is_not_opened_with_no_launch(tmp_path, capsys, monkeypatch):
    import cifcheck.login

    opened = []
    monkeypatch.setattr(cifcheck.login, "check_saved_session", lambda *args, **kw: opened.append(args) or (True, ""))
    profile = tmp_path / "profile"
    profile.mkdir()
    with serving(_NotABrowser) as port:
        config = _org("local", f"http://127.0.0.1:{port}", auth={"user_data_dir": str(profile)})
        _, output = _doctor(tmp_path, capsys, config, launch=False)
    assert opened == []
    assert f"OK   session local: the browser profile {profile} exists; not opened" in output


def test_a_browser_profile_is_not_opened_when_the_org_is_unreachable(tmp_path, capsys, monkeypatch, closed_port):
    import cifcheck.login

    opened = []
    monkeypatch.setattr(cifcheck.login, "check_saved_session", lambda *args, **kw: opened.append(args) or (True, ""))
    monkeypatch.setattr("cifcheck.doctor._browser", lambda *args: discovery.BrowserChoice("test"))
    profile = tmp_path / "profile"
    profile.mkdir()
    config = _org("local", f"http://127.0.0.1:{closed_port}", auth={"user_data_dir": str(profile)})
    code, _ = _doctor(tmp_path, capsys, config, launch=True)
    assert opened == [] and code == 1


@pytest.mark.browser
def test_doctor_tries_each_browser_server_and_names_the_one_that_is_down(tmp_path, closed_port, capsys):
    from cifcheck.remote import endpoint_label
    from tests.test_workers import BrowserServer

    server = BrowserServer()
    try:
        config = tmp_path / "servers.json"
        config.write_text(
            json.dumps(
                {
                    "targets": [{"name": "csw", "url": "sandbox://healthy-csw"}],
                    "browser": {
                        "executable_path": find_browser().executable_path,
                        "endpoints": [server.url, f"ws://127.0.0.1:{closed_port}/"],
                    },
                }
            )
        )
        # In a thread of its own, as in the command: this process's pytest-playwright session may hold the main
        # thread's event loop, where a second sync Playwright refuses to start.
        codes: list[int] = []
        doctor = threading.Thread(target=lambda: codes.append(diagnose(str(config), launch=True)))
        doctor.start()
        doctor.join(120)
    finally:
        server.kill()
    said = capsys.readouterr().out
    assert codes == [1], said
    assert f"OK   browser server: {endpoint_label(server.url)} gave a browser" in said
    assert f"FIX  browser server: nothing answers at ws://127.0.0.1:{closed_port}" in said
    assert "playwright run-server --port N" in said


def test_doctor_without_launching_only_says_whether_each_browser_server_listens(tmp_path, closed_port, capsys):
    config = tmp_path / "servers.json"
    config.write_text(
        json.dumps(
            {
                "targets": [{"name": "csw", "url": "sandbox://healthy-csw"}],
                "browser": {"endpoints": [f"ws://127.0.0.1:{closed_port}/"]},
            }
        )
    )
    assert diagnose(str(config), launch=False) == 1
    assert f"nothing answers at ws://127.0.0.1:{closed_port}" in capsys.readouterr().out
