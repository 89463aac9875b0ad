"""Running cifcheck as users do, as a separate process, against the hostile world."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.attacks.corpus import PASSWORD, TOTP_SECRET, USERNAME
from tests.attacks.hostile_org import APP_UNIQUE_NAME, HostileWorld

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    reports: Path

    def evidence(self, target: str) -> dict:
        return json.loads((self.reports / "latest" / "evidence" / f"{target}.json").read_text(encoding="utf-8"))


def run_cifcheck(world: HostileWorld, folder: Path, targets: list[str], *options: str) -> Run:
    """`cifcheck run` of `targets` with the configured credentials set, its reports in `folder`."""
    config = {
        "targets": [{"name": name, "url": world.targets[name], "app": APP_UNIQUE_NAME} for name in targets],
        "browser": {"headless": True, "ignore_https_errors": True},
        "auth": {"storage_state": str(folder / "no-saved-session.json")},
        "timeouts": {
            "navigation_ms": 20_000,
            "ready_ms": 30_000,
            "observe_ms": 500,
            "absence_ms": 1_000,
            "settle_max_ms": 30_000,
            "error_page_ms": 300,
        },
        "sign_in": {"credential_hosts": ["login.echo.localhost"], "settle_ms": 300},
        "output_dir": str(folder / "reports"),
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "CIFCHECK_USERNAME": USERNAME,
        "CIFCHECK_PASSWORD": PASSWORD,
        "CIFCHECK_TOTP_SECRET": TOTP_SECRET,
        "COLUMNS": "400",  # wide enough that the terminal table never folds a value across lines
    }
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", "--config", str(path), *options],
        cwd=folder,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
        folder / "reports",
    )
