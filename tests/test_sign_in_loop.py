"""The newcomer's sign-in loop, step by step: `login --check`, `login`, and the "no display" message each say what is
true for the target at hand. A sandbox target the sandbox issues a session to has nothing to sign in to; one that
asks for sign-in signs in with the sandbox's test account; the message without a display names exactly the
variables that target reads."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cifcheck.config import Config, Credentials, Target
from cifcheck.login import LoginError, NothingToSignIn, check_saved_session, login

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = "sandbox://healthy-csw"
ORG = "https://contoso.crm.dynamics.com"


def _cli(tmp_path: Path, targets: list[dict], *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"targets": targets}))
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("CIFCHECK_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", "login", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environment | {"PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for name in ("CIFCHECK_USERNAME", "CIFCHECK_PASSWORD", "CIFCHECK_TOTP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


def test_login_check_on_a_sandbox_target_says_there_is_nothing_to_sign_in_to(tmp_path):
    done = _cli(tmp_path, [{"name": "demo", "url": SANDBOX}], "--check")
    assert done.returncode == 0, done.stderr
    assert "demo is a sandbox target" in done.stdout and "nothing to sign in to" in done.stdout
    assert "cifcheck login" not in done.stdout


def test_login_on_a_sandbox_target_says_there_is_nothing_to_sign_in_to_and_saves_nothing(tmp_path):
    done = _cli(tmp_path, [{"name": "demo", "url": SANDBOX}])
    assert done.returncode == 0, done.stderr
    assert "nothing to sign in to and nothing to save" in done.stdout
    assert not (tmp_path / ".cifcheck").exists()


@pytest.mark.browser
def test_login_on_a_sandbox_target_with_its_own_storage_state_signs_in_with_the_sandbox_test_account(tmp_path):
    state = tmp_path / "auth" / "state.json"
    done = _cli(tmp_path, [{"name": "demo", "url": SANDBOX, "storage_state": str(state)}])
    assert done.returncode == 0, done.stderr
    assert "Signed in as admin@contoso.sandbox" in done.stdout, "no window, no variables needed"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert "lasts as long as the sandbox process" in done.stdout
    assert "cifcheck-sandbox" not in done.stdout + done.stderr, "the password in use is never printed"


def test_login_check_on_a_sandbox_target_with_its_own_storage_state_explains_why_it_never_carries_over(tmp_path):
    target = {"name": "demo", "url": SANDBOX, "storage_state": str(tmp_path / "state.json")}
    valid, message = check_saved_session(Config(targets=[Target(**target)]), Target(**target))
    assert not valid
    assert "never outlives the sandbox process" in message and "admin@contoso.sandbox" in message
    assert "cifcheck login" not in message


def test_login_api_on_a_sandbox_target_without_sign_in_raises_nothing_to_sign_in():
    config = Config(targets=[Target(name="demo", url=SANDBOX)])
    with pytest.raises(NothingToSignIn):
        login(config, config.targets[0])


def test_without_a_display_a_real_target_is_told_the_default_variables_and_where_they_come_from(no_display):
    config = Config(targets=[Target(name="contoso", url=ORG)])
    with pytest.raises(LoginError) as raised:
        login(config, config.targets[0])
    message = str(raised.value)
    assert message.startswith("no display to open a browser window on (DISPLAY and WAYLAND_DISPLAY are unset)")
    assert "for contoso, set CIFCHECK_USERNAME and CIFCHECK_PASSWORD" in message
    assert "(names from auth.credentials)" in message
    assert "copy the saved session to .cifcheck/auth/state.json" in message


def test_without_a_display_a_target_with_its_own_credentials_is_told_its_own_variables(no_display):
    own = Credentials(username_env="PROD_USER", password_env="PROD_PASSWORD", totp_secret_env="PROD_TOTP")
    config = Config(targets=[Target(name="prod", url=ORG, credentials=own)])
    with pytest.raises(LoginError) as raised:
        login(config, config.targets[0])
    message = str(raised.value)
    assert "for prod, set PROD_USER and PROD_PASSWORD, and PROD_TOTP" in message
    assert "CIFCHECK_USERNAME" not in message


def test_without_a_display_a_headed_sandbox_login_says_to_leave_out_headed(no_display):
    own = Credentials(username_env="DEMO_USER", password_env="DEMO_PASSWORD")
    config = Config(targets=[Target(name="demo", url=SANDBOX, credentials=own)])
    with pytest.raises(LoginError) as raised:
        login(config, config.targets[0], headless=False)
    message = str(raised.value)
    assert "set DEMO_USER and DEMO_PASSWORD (the sandbox's test account: admin@contoso.sandbox" in message
    assert "leave out --headed" in message


def test_without_a_display_a_headed_sandbox_login_without_credentials_says_to_name_some(no_display, tmp_path):
    config = Config(targets=[Target(name="demo", url=SANDBOX, storage_state=str(tmp_path / "state.json"))])
    with pytest.raises(LoginError) as raised:
        login(config, config.targets[0], headless=False)
    message = str(raised.value)
    assert "give demo a credentials field (a sandbox target uses only the credentials it names itself)" in message
    assert "leave out --headed" in message
