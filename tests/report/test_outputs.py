"""result.json, junit.xml, the run history and atomic writes, on results built without a browser."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from cifcheck.checks import judge_target
from cifcheck.report import write_run
from cifcheck.results import RunResult
from cifcheck.schemas import SCHEMAS
from tests.evidence_factory import healthy_evidence

ROOT = Path(__file__).resolve().parents[2]


def a_run(run_id: str = "20261125-120000-000") -> tuple[RunResult, list]:
    healthy = healthy_evidence()
    broken = healthy_evidence()
    broken.target.name = "broken"
    broken.panel.xrm_state = 2
    signed_out = healthy_evidence()
    signed_out.target.name = "signed-out"
    signed_out.navigation.app_ready = False
    signed_out.navigation.sign_in_page = True
    evidence = [healthy, broken, signed_out]
    result = RunResult(
        run_id=run_id,
        cifcheck_version="0.1.0",
        started_at="2026-11-25T12:00:00+00:00",
        duration_ms=4200,
        browser="chromium 156",
        targets=[judge_target(e) for e in evidence],
    )
    return result, evidence


def test_the_shipped_result_schema_is_current():
    shipped = json.loads((ROOT / "cifcheck" / "result.schema.json").read_text())
    assert shipped == SCHEMAS["result"](), "run: cifcheck schema result > cifcheck/result.schema.json"


def test_result_json_validates_against_the_shipped_schema(tmp_path):
    result, evidence = a_run()
    run_dir = write_run(result, evidence, tmp_path)
    document = json.loads((run_dir / "result.json").read_text())
    jsonschema.validate(document, json.loads((ROOT / "cifcheck" / "result.schema.json").read_text()))
    assert document["status"] == "fail" and document["exit_code"] == 1  # a failure beside an error


def test_junit_has_one_case_per_target_and_check_with_outcomes_mapped(tmp_path):
    result, evidence = a_run()
    run_dir = write_run(result, evidence, tmp_path)
    xml = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == sum(len(t.checks) for t in result.targets)
    outcome = {Failure: "fail", Error: "error", Skipped: "skip"}
    seen = {status: 0 for status in ("fail", "error", "skip")}
    for case in cases:
        for item in case.result:
            seen[outcome[type(item)]] += 1
    counts = result.counts
    assert seen == {"fail": counts["fail"], "error": counts["error"], "skip": counts["skip"]}
    assert sum(suite.failures for suite in xml) == counts["fail"]


def test_the_history_lists_every_run_newest_first(tmp_path):
    for run_id in ("20261125-120000-000", "20261125-130000-000"):
        result, evidence = a_run(run_id)
        write_run(result, evidence, tmp_path)
    history = (tmp_path / "index.html").read_text()
    assert history.index("20261125-130000-000") < history.index("20261125-120000-000")
    assert (tmp_path / "latest").resolve().name == "20261125-130000-000"


def test_an_interrupted_write_leaves_the_previous_report_intact(tmp_path, monkeypatch):
    result, evidence = a_run("20261125-120000-000")
    write_run(result, evidence, tmp_path)
    before = (tmp_path / "latest" / "index.html").read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("cifcheck.report.render_html", crash)
    result, evidence = a_run("20261125-130000-000")
    with pytest.raises(KeyboardInterrupt):
        write_run(result, evidence, tmp_path)
    assert (tmp_path / "latest").resolve().name == "20261125-120000-000"
    assert (tmp_path / "latest" / "index.html").read_text() == before
    assert not (tmp_path / "20261125-130000-000").exists()


def test_runs_started_in_the_same_millisecond_each_get_their_own_folder_none_lost(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    runs = [a_run("20261125-120000-999") for _ in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        folders = list(pool.map(lambda run: write_run(run[0], run[1], tmp_path), runs))
    names = [folder.name for folder in folders]
    assert len(set(names)) == len(runs), names
    assert sorted(names)[0] == "20261125-120000-999" and sorted(names)[-1] == "20261125-120001-022"
    for folder, (result, _) in zip(folders, runs, strict=True):
        written = json.loads((folder / "result.json").read_text())
        assert written["run_id"] == result.run_id == folder.name, "the id in the file, the folder and the caller agree"
        assert not (folder / ".owner").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "no hidden folder or file is left"
    history = (tmp_path / "index.html").read_text()
    assert all(name in history for name in names)


def test_runs_in_parallel_processes_each_get_their_own_folder(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from tests.report.test_outputs import a_run; from cifcheck.report import write_run; "
        "r, e = a_run('20261125-120000-000'); print(write_run(r, e, sys.argv[1]).name)"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    names = [process.communicate(timeout=120)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len(set(names)) == 6 and all((tmp_path / name / "result.json").is_file() for name in names)


def test_a_partial_folder_a_killed_run_left_is_removed_by_the_next_run_but_not_one_being_written(tmp_path):
    import fcntl
    import os
    import time

    def partial(run_id: str, hours_old: float) -> Path:
        folder = tmp_path / f".{run_id}.partial"
        (folder / "evidence").mkdir(parents=True)
        (folder / "result.json").write_text("{")
        (folder / ".owner").write_text("")
        then = time.time() - hours_old * 3600
        os.utime(folder, (then, then))
        return folder

    left_by_a_killed_run = partial("20261125-100000-000", hours_old=2)  # its owner's lock died with it
    just_started = partial("20261125-115959-000", hours_old=0)
    slow_but_alive = partial("20261125-090000-000", hours_old=3)
    owner = os.open(slow_but_alive / ".owner", os.O_WRONLY)
    fcntl.flock(owner, fcntl.LOCK_EX)  # as a live writer holds it
    try:
        result, evidence = a_run("20261125-120000-000")
        write_run(result, evidence, tmp_path)
        assert not left_by_a_killed_run.exists()
        assert just_started.is_dir() and slow_but_alive.is_dir()
    finally:
        os.close(owner)
    write_run(*a_run("20261125-130000-000"), tmp_path)
    assert not slow_but_alive.exists(), "once its writer is gone, the old folder goes"
    assert just_started.is_dir(), "a folder younger than an hour is never taken for a left-over"
