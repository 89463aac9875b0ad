"""What a run tells its progress while it goes: each target's start and end, and the phases of its gathering."""

from __future__ import annotations

import pytest

from cifcheck.results import TargetResult
from cifcheck.runner import run
from cifcheck.sandbox.signin import SANDBOX_PASSWORD

from .signing_in import config_for

pytestmark = pytest.mark.browser


class Recorder:
    def __init__(self) -> None:
        self.told: list[tuple] = []

    def target_started(self, number: int, total: int, name: str) -> None:
        self.told.append(("started", number, total, name))

    def phase(self, name: str) -> None:
        if self.told[-1] != ("phase", name):  # a phase told again (after a sign-in step) is the same phase
            self.told.append(("phase", name))

    def target_finished(self, number: int, total: int, result: TargetResult) -> None:
        self.told.append(("finished", number, total, result.target))


def test_a_run_tells_each_phase_of_the_target_in_order(tmp_path, sandbox, browser):
    recorder = Recorder()
    run(config_for(tmp_path), progress=recorder, sandbox=sandbox, browser=browser)
    assert recorder.told == [
        ("started", 1, 1, "csw"),
        ("phase", "opening the app"),
        ("phase", "waiting for the app"),
        ("phase", "watching the CIF state"),
        ("phase", "reading the page"),
        ("phase", "reading records"),
        ("finished", 1, 1, "csw"),
    ]


def test_an_unattended_sign_in_is_a_phase_of_its_own(tmp_path, monkeypatch, sandbox, browser):
    from cifcheck.config import Credentials

    monkeypatch.setenv("TEST_USER", "admin@contoso.sandbox")
    monkeypatch.setenv("TEST_PASSWORD", SANDBOX_PASSWORD)
    config = config_for(tmp_path, credentials=Credentials(username_env="TEST_USER", password_env="TEST_PASSWORD"))
    recorder = Recorder()
    run(config, progress=recorder, sandbox=sandbox, browser=browser)
    phases = [name for kind, name, *_ in recorder.told if kind == "phase"]
    assert phases[:4] == ["opening the app", "waiting for the app", "signing in", "waiting for the app"]
