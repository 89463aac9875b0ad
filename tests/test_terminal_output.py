"""The terminal summary shows page text as written and never obeys it: no markup, no escape sequences."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cifcheck.checks import judge_target
from cifcheck.results import CheckResult, RunResult, TargetResult
from cifcheck.terminal import Terminal
from tests.hostile_text import HOSTILE, LONE_SURROGATE, MARKUP, REDACTED, hostile_evidence, unsafe_characters

ROOT = Path(__file__).resolve().parent.parent


def a_run(*reasons: str) -> RunResult:
    checks = [CheckResult(id=f"check.{n}", title="t", status="warn", reason=r) for n, r in enumerate(reasons)]
    targets = [TargetResult(target="contoso", url="https://contoso.crm.dynamics.com", app="a", checks=checks)]
    return RunResult(
        run_id="20261125-120000-000", cifcheck_version="0", started_at="now", duration_ms=1, targets=targets
    )


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """Wide enough that a reason is one line, so text shown verbatim can be found verbatim."""
    monkeypatch.setenv("COLUMNS", "2000")


def test_a_summary_of_hostile_page_text_prints_it_inert(capsys):
    run = RunResult(
        run_id="20261125-120000-000",
        cifcheck_version="0",
        started_at="now",
        duration_ms=1,
        targets=[judge_target(hostile_evidence(HOSTILE + LONE_SURROGATE))],
    )
    Terminal().summary(run, Path("reports[/]") / run.run_id)
    out, err = capsys.readouterr()
    assert unsafe_characters(out + err) == []
    assert "WARN" in out and "reports[/]" in out


@pytest.mark.parametrize("markup", MARKUP)
def test_rich_markup_in_page_text_is_shown_as_written(capsys, markup: str):
    Terminal().summary(a_run(f"label {markup} end"), Path("reports"))
    assert f"label {markup} end" in capsys.readouterr().out


def test_the_redaction_marker_survives_verbatim(capsys):
    Terminal().summary(a_run(f"token={REDACTED}; user [/] {REDACTED}"), Path("reports"))
    assert f"token={REDACTED}; user [/] {REDACTED}" in capsys.readouterr().out


def test_escapes_and_bidi_controls_are_shown_as_their_code_points(capsys):
    Terminal().summary(a_run("title \x1b]0;owned\x07 \x9b2J \u202eexe.txt"), Path("reports"))
    assert "title \\u001b]0;owned\\u0007 \\u009b2J \\u202eexe.txt" in capsys.readouterr().out


def test_a_10_mb_reason_is_capped_in_the_terminal(capsys):
    started = time.monotonic()
    Terminal().summary(a_run("[/]\x1b" * 3_500_000), Path("reports"))
    out = capsys.readouterr().out
    assert time.monotonic() - started < 10
    # The verdict caps its reason already (results.REASON_MAX); the terminal shows 300 characters of that.
    assert len(out) < 5_000 and "characters in all)" in out
    assert unsafe_characters(out) == []


@pytest.mark.parametrize("plain", [True, False])
def test_progress_lines_and_the_json_output_carry_no_control(capsys, plain: bool):
    terminal = Terminal(as_json=True, plain=plain)
    run = a_run(HOSTILE + LONE_SURROGATE)
    run.targets[0].target = HOSTILE + LONE_SURROGATE
    terminal.target_started(1, 1, run.targets[0].target)
    terminal.phase("waiting for the app")
    terminal.target_finished(1, 1, run.targets[0])
    terminal.summary(run, Path("reports"))
    out, err = capsys.readouterr()
    assert unsafe_characters(out + err) == []
    assert json.loads(out)["targets"][0]["checks"][0]["reason"] == HOSTILE + LONE_SURROGATE  # same value


def test_cifcheck_report_prints_hostile_evidence_inert_end_to_end(tmp_path: Path):
    evidence = tmp_path / "evidence.json"
    evidence.write_text(hostile_evidence().model_dump_json(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "report", str(evidence), "--output", str(tmp_path / "reports")],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "2000", "PYTHONIOENCODING": "utf-8"},
    )
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode == 0, err  # console.cif_errors warns; nothing crashed
    assert err == ""
    assert unsafe_characters(out) == []
    assert "CIF: Phone [/] [/link] [link=file:///etc/passwd]x[/link]" in out  # the warning quotes the label
    assert REDACTED in out


def test_a_bad_input_line_quotes_a_hostile_name_on_one_inert_line(tmp_path: Path):
    missing = tmp_path / "evil\x1b]0;owned\x07\n[/]cifcheck: all good\u202e.json"
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "report", str(missing), "--output", str(tmp_path / "reports")],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2
    assert err.count("\n") == 1 and unsafe_characters(err) == []
    assert "evidence file not found" in err
