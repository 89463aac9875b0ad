"""`cifcheck run` as a CI log and a script see it: a failing scenario named with its fix in a few plain lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cifcheck.terminal import first_sentence
from tests.short_waits import short_config

ROOT = Path(__file__).resolve().parent.parent


def cifcheck_run(tmp_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    """`cifcheck run` with short windows: what it prints is the subject, not how long it waits."""
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "NO_COLOR", "TERM")}
    options = ["--config", str(short_config(tmp_path / "short.json")), "--output", str(tmp_path / "reports")]
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", *options, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**env, **environment},
    )


def latest_result(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "reports" / "latest" / "result.json").read_text())


def test_in_ci_a_hidden_panel_is_named_with_its_fix_in_at_most_five_lines(tmp_path):
    done = cifcheck_run(tmp_path, "--scenario", "panel-hidden", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) <= 5, lines
    panel = next(c for c in latest_result(tmp_path)["targets"][0]["checks"] if c["id"] == "panel.docked")
    finding = next(line for line in lines if "panel.docked" in line)
    assert finding.startswith("FAIL  panel-hidden panel.docked: ")
    assert f"Fix: {first_sentence(panel['remediation'])}" in finding
    assert "\x1b" not in done.stdout and done.stderr == ""


def test_quiet_prints_one_line_naming_the_failed_check(tmp_path):
    done = cifcheck_run(tmp_path, "--scenario", "panel-hidden", "--quiet")
    assert done.returncode == 1
    report = tmp_path / "reports" / latest_result(tmp_path)["run_id"] / "index.html"
    assert done.stdout.splitlines() == [f"FAIL panel-hidden: panel.docked — report: {report}"]


def test_json_puts_result_json_on_stdout_and_the_progress_on_stderr(tmp_path):
    done = cifcheck_run(tmp_path, "--scenario", "healthy-csw", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == "pass"
    assert "[1/1] healthy-csw: started" in done.stderr and "[1/1] healthy-csw: PASS in" in done.stderr


def test_fail_on_warn_makes_a_cif_1_leftover_exit_1_and_says_so_in_result_json(tmp_path):
    done = cifcheck_run(tmp_path, "--scenario", "cif1-still-active", "--fail-on", "warn")
    assert latest_result(tmp_path)["status"] == "warn", done.stdout
    assert done.returncode == 1 and latest_result(tmp_path)["fail_on"] == "warn"
