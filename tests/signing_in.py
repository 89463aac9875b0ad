"""Helpers for tests that sign in to the sandbox org."""

from __future__ import annotations

from pathlib import Path

import pyotp
from playwright.sync_api import Page

from cifcheck.config import Config, Target
from cifcheck.sandbox.signin import SANDBOX_PASSWORD
from tests.short_waits import SHORT_WAITS


def config_for(tmp_path: Path, **target: object) -> Config:
    """The sandbox's healthy org as one target, with short windows: signing in is the subject, not waiting."""
    return Config(
        targets=[Target(name="csw", url="sandbox://healthy-csw", **target)],
        output_dir=str(tmp_path / "reports"),
        timeouts=SHORT_WAITS,
    )


def as_a_person(account: str, password: str = SANDBOX_PASSWORD, code_secret: str | None = None):
    """Fills the sandbox sign-in form the way a person would."""

    def sign_in(page: Page) -> None:
        page.get_by_label("Email").fill(account)
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        if code_secret:
            page.get_by_label("Code").fill(pyotp.TOTP(code_secret).now())
            page.get_by_role("button", name="Verify").click()
        page.get_by_role("button", name="Yes").click()  # "Stay signed in?"

    return sign_in


def verdicts(output) -> dict[str, str]:
    return {check.id: check.status for check in output.result.targets[0].checks}
