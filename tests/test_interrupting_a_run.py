"""Ctrl-C (SIGINT) or SIGTERM during a run: it stops at once, closes the browser quietly, writes a complete report of
the finished targets with the others marked not run, says so, and exits 130."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.short_waits import SHORT_WAITS

ROOT = Path(__file__).resolve().parent.parent
# The second target would keep the run busy for a minute (its widget never answers: judged at settle_max_ms);
# the others take seconds each under the slow network.
SCENARIOS = ["healthy-csw", "widget-never-answers", "healthy-csw", "panel-hidden", "healthy-omnichannel"]
NOISE = ("Traceback", "Future exception was never retrieved", "has been closed", "Aborted", "Exception ignored")


@pytest.fixture
def five_targets(tmp_path: Path) -> Path:
    from cifcheck.sandbox.scenarios import get_scenario

    targets = [
        {"name": f"t{n}", "url": f"sandbox://{scenario}", "app": get_scenario(scenario).app}
        for n, scenario in enumerate(SCENARIOS, start=1)
    ]
    # Short windows: the healthy targets pass seconds sooner; the second still waits for its settle_max_ms.
    config = {
        "targets": targets,
        "browser": {"headless": True},
        "sandbox": {"timing": "slow-network"},
        "timeouts": SHORT_WAITS,
    }
    path = tmp_path / "five.json"
    path.write_text(json.dumps(config))
    return path


def start(config: Path, reports: Path, own_group: bool = False, workers: int = 1) -> subprocess.Popen:
    """`own_group`: the run leads a process group of its own, which a terminal's Ctrl-C reaches as a whole (the
    Playwright driver and its browser too), as `killpg` does here. One worker unless told: which targets had
    finished is then known from the progress alone."""
    command = [sys.executable, "-m", "cifcheck", "run", "--config", str(config), "--output", str(reports)]
    return subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},
        # A shell's background job ignores SIGINT, and a child inherits that: this one gets Ctrl-C as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=own_group,
    )


def interrupt_after(
    process: subprocess.Popen, line_start: str, how: signal.Signals, to_group: bool = False
) -> tuple[list[str], str, float]:
    """Reads the progress until a line starts with `line_start`, then sends `how`; the lines, stderr and how many
    seconds the run took to exit after the signal."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(line_start):
            break
    else:
        pytest.fail(f"the run ended before {line_start!r}: {lines} {process.stderr.read() if process.stderr else ''}")
    time.sleep(0.5)  # into the next target's load
    if to_group:
        os.killpg(process.pid, how)
    else:
        process.send_signal(how)
    sent = time.monotonic()
    rest, err = process.communicate(timeout=90)
    return lines + rest.splitlines(), err, time.monotonic() - sent


def written(reports: Path) -> dict:
    return json.loads((reports / "latest" / "result.json").read_text())


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_after_the_first_target_reports_it_and_marks_the_others_not_run(five_targets, tmp_path, how):
    reports = tmp_path / "reports"
    process = start(five_targets, reports)
    lines, err, took = interrupt_after(process, "[1/5] t1: PASS", how)
    assert process.returncode == 130, (lines, err)
    assert took < 20, took  # not the minute the second target's watch would have taken
    assert not [noise for noise in NOISE if noise in err], err
    result = written(reports)
    assert result["interrupted"] is True and result["exit_code"] == 130
    assert [(t["target"], t["not_run"], t["status"]) for t in result["targets"]] == [
        ("t1", False, "pass"),
        *[(f"t{n}", True, "skip") for n in range(2, 6)],
    ]
    latest = reports / "latest"
    assert sorted(path.name for path in (latest / "evidence").iterdir()) == ["t1.json"]
    assert "Not run: the run was interrupted" in (latest / "junit.xml").read_text()
    assert "Interrupted: 4 of 5 targets not run" in (latest / "index.html").read_text()
    assert (reports / "index.html").is_file()  # the history lists it
    assert any(re.match(r"INTERRUPTED \d+ pass(, \d+ skip)?; 1 of 5 targets", line) for line in lines), lines


def test_an_interrupt_before_any_target_finished_writes_a_report_of_none_run(five_targets, tmp_path):
    reports = tmp_path / "reports"
    process = start(five_targets, reports)
    lines, err, _ = interrupt_after(process, "[1/5] t1: started", signal.SIGINT)
    assert process.returncode == 130, (lines, err)
    assert not [noise for noise in NOISE if noise in err], err
    result = written(reports)
    assert [t["not_run"] for t in result["targets"]] == [True] * 5
    assert any("0 of 5 targets finished" in line for line in lines), lines


@pytest.mark.parametrize("line_start", ["[1/5] t1: started", "[1/5] t1: PASS"], ids=["first target", "second target"])
def test_ctrl_c_in_a_terminal_reaches_the_browser_driver_too_and_the_run_still_ends_quietly(
    five_targets, tmp_path, line_start
):
    # A terminal's Ctrl-C signals the whole foreground process group: Playwright's driver, left to handle SIGINT,
    # closed the browser and exited under the run ("Future exception was never retrieved ... Connection closed").
    reports = tmp_path / "reports"
    process = start(five_targets, reports, own_group=True)
    lines, err, _ = interrupt_after(process, line_start, signal.SIGINT, to_group=True)
    assert process.returncode == 130, (lines, err)
    assert not [noise for noise in NOISE if noise in err] and "driver" not in err, err
    assert written(reports)["interrupted"] is True


def test_an_interrupt_with_workers_reports_every_finished_target_and_exits_at_once(five_targets, tmp_path):
    # Three workers: the second target holds its worker for a minute while the others finish theirs.
    reports = tmp_path / "reports"
    process = start(five_targets, reports, workers=3)
    lines, err, took = interrupt_after(process, "[1/5] t1: PASS", signal.SIGINT)
    assert process.returncode == 130, (lines, err)
    assert took < 20, took  # not the minute the second target's worker is still in
    assert not [noise for noise in NOISE if noise in err], err
    targets = written(reports)["targets"]
    assert targets[0]["not_run"] is False and targets[1]["not_run"] is True, "t2 was still loading"
    finished = [t["target"] for t in targets if not t["not_run"]]
    evidence = sorted(path.stem for path in (reports / "latest" / "evidence").iterdir())
    assert evidence == sorted(finished), "every finished target keeps its evidence, no other does"
