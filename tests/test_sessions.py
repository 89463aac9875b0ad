"""Signed-in sessions: sign in once and reuse it, recognise expiry, sign in unattended, attach over CDP."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest

from cifcheck.browser import find_browser
from cifcheck.config import Config, Credentials, Target
from cifcheck.login import check_saved_session, login
from cifcheck.report import write_run
from cifcheck.runner import run
from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_TOTP_SECRET

from .short_waits import SHORT_WAITS
from .signing_in import as_a_person, config_for, verdicts

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent


def test_login_saves_an_owner_only_session_that_a_headless_run_reuses(tmp_path, sandbox, browser):
    state = tmp_path / "auth" / "state.json"
    config = config_for(tmp_path, storage_state=str(state))
    outcome = login(
        config,
        config.targets[0],
        person=as_a_person("mfa@contoso.sandbox", code_secret=SANDBOX_TOTP_SECRET),
        sandbox=sandbox,
        browser=browser,
    )
    assert outcome.saved_to == state
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    output = run(config, sandbox=sandbox, browser=browser)
    assert set(verdicts(output).values()) <= {"pass", "skip"}
    assert output.evidence[0].app.user_name == "mfa@contoso.sandbox", "the run used the saved session"
    assert check_saved_session(config, config.targets[0], sandbox=sandbox, browser=browser)[0] is True


def test_a_tampered_saved_session_is_an_error_with_the_refresh_hint_not_a_failure(tmp_path, sandbox, browser):
    state = tmp_path / "state.json"
    config = config_for(tmp_path, storage_state=str(state))
    login(config, config.targets[0], person=as_a_person("admin@contoso.sandbox"), sandbox=sandbox, browser=browser)
    saved = json.loads(state.read_text())
    for cookie in saved["cookies"]:
        cookie["value"] = "tampered-" + cookie["value"][::-1]
    state.write_text(json.dumps(saved))
    output = run(config, sandbox=sandbox, browser=browser)
    signed_in = output.result.targets[0].checks[0]
    assert (signed_in.id, signed_in.status) == ("session.signed_in", "error")
    assert "absent or expired" in signed_in.reason
    assert "storage_state" in signed_in.remediation and "cifcheck login" not in signed_in.remediation, (
        "a sandbox target"
    )
    assert set(list(verdicts(output).values())[1:]) == {"skip"}
    assert output.result.exit_code == 2
    valid, message = check_saved_session(config, config.targets[0], sandbox=sandbox, browser=browser)
    assert not valid and "has expired" in message


def test_an_expired_session_is_recognised(tmp_path, sandbox, browser):
    state = tmp_path / "state.json"
    config = config_for(tmp_path, storage_state=str(state))
    login(config, config.targets[0], person=as_a_person("admin@contoso.sandbox"), sandbox=sandbox, browser=browser)
    for cookie in json.loads(state.read_text())["cookies"]:  # the org's and the identity provider's sessions end
        sandbox.app.state.sessions.pop(cookie["value"], None)
        sandbox.app.signin.sso.pop(cookie["value"], None)
    output = run(config, sandbox=sandbox, browser=browser)
    assert verdicts(output)["session.signed_in"] == "error"
    assert output.result.exit_code == 2


def test_an_unreadable_saved_session_is_an_error_naming_the_file(tmp_path, sandbox, browser):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    output = run(config_for(tmp_path, storage_state=str(state)), sandbox=sandbox, browser=browser)
    signed_in = output.result.targets[0].checks[0]
    assert signed_in.status == "error"
    assert str(state) in signed_in.reason and "storage_state" in signed_in.remediation


def unattended(tmp_path: Path, monkeypatch, account: str, password: str = SANDBOX_PASSWORD, secret: str | None = None):
    monkeypatch.setenv("TEST_USER", account)
    monkeypatch.setenv("TEST_PASSWORD", password)
    if secret:
        monkeypatch.setenv("TEST_TOTP", secret)
    credentials = Credentials(username_env="TEST_USER", password_env="TEST_PASSWORD", totp_secret_env="TEST_TOTP")
    return config_for(tmp_path, credentials=credentials)


def test_unattended_sign_in_with_the_right_totp_secret_passes(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "mfa@contoso.sandbox", secret=SANDBOX_TOTP_SECRET)
    output = run(config, sandbox=sandbox, browser=browser)
    assert set(verdicts(output).values()) <= {"pass", "skip"}
    assert "signed in unattended" in output.result.targets[0].checks[0].reason


def test_unattended_sign_in_with_a_wrong_totp_secret_fails_clearly(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "mfa@contoso.sandbox", secret=pyotp.random_base32())
    signed_in = run(config, sandbox=sandbox, browser=browser).result.targets[0].checks[0]
    assert signed_in.status == "error"
    assert "stopped at the code step" in signed_in.reason
    assert "expected verification code" in signed_in.reason


def test_unattended_sign_in_without_a_totp_secret_says_so(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "mfa@contoso.sandbox")
    signed_in = run(config, sandbox=sandbox, browser=browser).result.targets[0].checks[0]
    assert "no TOTP secret is configured" in signed_in.reason


def test_unattended_sign_in_stops_at_a_push_approval(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "push@contoso.sandbox")
    signed_in = run(config, sandbox=sandbox, browser=browser).result.targets[0].checks[0]
    assert signed_in.status == "error"
    assert "push approval" in signed_in.reason and "cannot be automated" in signed_in.reason


def test_unattended_sign_in_with_a_wrong_password_is_an_error(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "admin@contoso.sandbox", password="not-the-password")
    signed_in = run(config, sandbox=sandbox, browser=browser).result.targets[0].checks[0]
    assert signed_in.status == "error"
    assert "password was refused" in signed_in.reason


def test_no_file_a_run_writes_holds_the_password_totp_secret_or_session_cookie(tmp_path, monkeypatch, sandbox, browser):
    config = unattended(tmp_path, monkeypatch, "mfa@contoso.sandbox", secret=SANDBOX_TOTP_SECRET)
    before = set(sandbox.app.state.sessions)
    output = run(config, sandbox=sandbox, browser=browser)
    cookies = set(sandbox.app.state.sessions) - before
    assert cookies, "the run signed in and got a session cookie"
    run_dir = write_run(output.result, output.evidence, tmp_path / "reports")
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for secret in (SANDBOX_PASSWORD, SANDBOX_TOTP_SECRET, *cookies):
                assert secret not in text, f"secret found in {path.relative_to(run_dir.parent)}"


def test_a_credentials_file_readable_by_others_is_refused(tmp_path):
    from cifcheck.config import ConfigError
    from cifcheck.credentials import load_secrets

    secrets_file = tmp_path / "credentials.json"
    secrets_file.write_text(json.dumps({"username": "a", "password": "b"}))
    secrets_file.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others; run: chmod 600"):
        load_secrets(Credentials(file=str(secrets_file)))
    secrets_file.chmod(0o600)
    assert load_secrets(Credentials(file=str(secrets_file))).username == "a"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chromium_with_debugging_port(tmp_path):
    """A Chromium the test starts itself, as a support engineer's own browser would be."""
    port = _free_port()
    choice = find_browser()
    process = subprocess.Popen(
        [
            choice.executable_path,
            "--headless=new",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={tmp_path / 'profile'}",
            *choice.args,
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{endpoint}/json/version", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def open_pages(endpoint: str) -> list[str]:
    with urllib.request.urlopen(f"{endpoint}/json/list") as answer:
        return [page["url"] for page in json.load(answer) if page["type"] == "page"]


def test_cdp_attach_validates_in_the_users_browser_and_leaves_its_tabs_open(
    tmp_path, sandbox, playwright, chromium_with_debugging_port
):
    endpoint = chromium_with_debugging_port
    org = sandbox.urls.org("healthy-csw")
    attached = playwright.chromium.connect_over_cdp(endpoint)
    users_tab = attached.contexts[0].new_page()
    users_tab.goto(f"{org}/main.aspx?appname=msdyn_CustomerServiceWorkspace")
    as_a_person("admin@contoso.sandbox")(users_tab)
    users_tab.wait_for_url("**/main.aspx?appid=*")
    attached.close()  # the test lets go of the browser, as the user's own would not be ours

    config = {
        "targets": [{"name": "customer", "url": org}],
        "sign_in": {"hosts": ["login.localhost"]},
        "output_dir": str(tmp_path / "reports"),
        "timeouts": SHORT_WAITS,
    }
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", "--config", str(config_file), "--cdp", endpoint, "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=os.environ | {"NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "reports" / "latest" / "result.json").read_text())
    assert result["status"] == "pass"
    assert any("main.aspx?appid=" in url for url in open_pages(endpoint)), "the user's tab is still open"


def _login_cli(tmp_path: Path, *options: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    config = tmp_path / "config.json"
    credentials = {"username_env": "DEMO_USER", "password_env": "DEMO_PASSWORD"}
    target = {"name": "demo", "url": "sandbox://healthy-csw", "storage_state": str(tmp_path / "auth" / "state.json")}
    config.write_text(json.dumps({"targets": [target | {"credentials": credentials}]}))
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")} | env
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", "login", "--config", str(config), *options],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environment,
    )


def test_cifcheck_login_signs_in_unattended_and_saves_an_owner_only_session(tmp_path):
    done = _login_cli(tmp_path, env={"DEMO_USER": "admin@contoso.sandbox", "DEMO_PASSWORD": SANDBOX_PASSWORD})
    assert done.returncode == 0, done.stderr
    assert "Signed in as admin@contoso.sandbox" in done.stdout
    state = tmp_path / "auth" / "state.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert SANDBOX_PASSWORD not in done.stdout + done.stderr


def test_cifcheck_login_without_a_display_says_how_to_sign_in_instead(tmp_path):
    done = _login_cli(tmp_path, "--headed", env={})
    assert done.returncode == 2
    assert done.stderr.startswith("cifcheck: no display to open a browser window on")
    assert "Traceback" not in done.stderr


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIFCHECK_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environment,
    )


def test_a_persistent_profile_stays_signed_in_between_runs(tmp_path, sandbox):
    """Sign in once into a profile (unattended, answering "Stay signed in?" with Yes); later runs need nothing."""
    credentials = {"username_env": "DEMO_USER", "password_env": "DEMO_PASSWORD"}
    base = {
        "targets": [{"name": "org", "url": sandbox.urls.org("healthy-csw")}],
        "sign_in": {"credential_hosts": ["login.localhost"]},
        "output_dir": str(tmp_path / "reports"),
        "timeouts": SHORT_WAITS,
    }
    profile = str(tmp_path / "profile")
    with_credentials = tmp_path / "login.json"
    with_credentials.write_text(json.dumps(base | {"auth": {"user_data_dir": profile, "credentials": credentials}}))
    signed_in = _cli(
        "login",
        "--config",
        str(with_credentials),
        env={"DEMO_USER": "admin@contoso.sandbox", "DEMO_PASSWORD": SANDBOX_PASSWORD},
    )
    assert signed_in.returncode == 0, signed_in.stderr
    assert "profile signed in" in signed_in.stdout
    without = tmp_path / "run.json"
    without.write_text(json.dumps(base | {"auth": {"user_data_dir": profile}}))
    checked = _cli("login", "--config", str(without), "--check")
    assert checked.returncode == 0 and "is valid" in checked.stdout, checked.stdout + checked.stderr
    ran = _cli("run", "--config", str(without), "--quiet")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_reports_may_not_be_written_where_the_saved_session_is(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "targets": [
                    {"name": "a", "url": "sandbox://healthy-csw", "storage_state": str(tmp_path / "out" / "state.json")}
                ]
            }
        )
    )
    done = _cli("run", "--config", str(config), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "holds the saved session of a" in done.stderr


def test_login_headless_without_credentials_refuses_at_once(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "targets": [
                    {"name": "a", "url": "https://contoso.crm.dynamics.com", "storage_state": str(tmp_path / "s")}
                ]
            }
        )
    )  # a sandbox target would sign in with the sandbox's test account
    done = _cli("login", "--config", str(config), "--headless")
    assert done.returncode == 2
    assert "--headless needs credentials" in done.stderr


def test_over_cdp_the_default_credentials_are_not_used(monkeypatch):
    from cifcheck.runner import credentials_for

    config = Config(targets=[Target(name="a", url="https://contoso.crm.dynamics.com")])
    assert credentials_for(config.targets[0], config) is not None
    config.browser.cdp_endpoint = "http://127.0.0.1:9222"
    assert credentials_for(config.targets[0], config) is None
