"""Attacks on the fleet work (issue 17): result.json files crafted to lie, baselines that are not what they seem, a
pytest session that stops early, browser servers that leak or freeze, a target that raises inside a worker. Each test
is one behaviour the README promises, tried with the input most likely to break it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_shard_and_merge import invoke, one_line_on_stderr, written_run

RUN_ID = "20261201-020000-000"


def edited(folder: Path, edit: object) -> Path:
    """`folder`'s result.json changed by `edit` (a function of the parsed document), or replaced by `edit` (text)."""
    file = folder / "result.json"
    if isinstance(edit, str):
        file.write_text(edit)
    else:
        document = json.loads(file.read_text())
        edit(document)  # type: ignore[operator]
        file.write_text(json.dumps(document))
    return folder


# --- cifcheck merge: result.json files crafted to lie -------------------------------------------------------------


@pytest.mark.parametrize("duration", ["NaN", "Infinity", "1e300", "-5"])
def test_merge_refuses_a_duration_that_is_no_length_of_time_naming_the_field(tmp_path: Path, duration: str):
    folder = written_run(tmp_path / "a", RUN_ID, "contoso", duration_ms=1234)
    text = (folder / "result.json").read_text().replace('"duration_ms": 1234.0', f'"duration_ms": {duration}')
    done = invoke("merge", str(edited(folder, text)), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert one_line_on_stderr(done).startswith(f"cifcheck: {folder / 'result.json'}: duration_ms: ")


def test_merge_refuses_a_start_so_late_that_the_run_would_end_after_the_last_date(tmp_path: Path):
    folder = written_run(tmp_path / "a", RUN_ID, "contoso", started_at="9999-12-31T23:59:59+00:00")
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert one_line_on_stderr(done).startswith(f"cifcheck: {folder / 'result.json'}: started_at: ")


def test_a_missing_shard_of_a_huge_split_is_refused_naming_only_a_few(tmp_path: Path):
    # A shard that says it is 1 of 3,000,000: listing every missing shard built a line of 30 MB before the terminal
    # cut it (at 1 of 999,999,999: gigabytes and minutes before the one line came).
    folder = written_run(tmp_path / "a", RUN_ID, "contoso", shard="1/3000000")
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    line = one_line_on_stderr(done)
    assert line.startswith("cifcheck: shards 2/3000000, 3/3000000, 4/3000000 and 2,999,996 more missing: "), line


@pytest.mark.parametrize("link", ["javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>"])
def test_merge_refuses_a_guide_link_that_is_not_a_web_address(tmp_path: Path, link: str):
    # The report renders doc_url as a link: a merged report must not carry a script link a shard's file planted.
    folder = edited(
        written_run(tmp_path / "a", RUN_ID, "contoso"),
        lambda document: document["targets"][0]["checks"][1].update(doc_url=link),
    )
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert one_line_on_stderr(done) == (
        f"cifcheck: {folder / 'result.json'}: targets[0].checks[1].doc_url: not an http(s) link"
    )
    assert not (tmp_path / "out" / "latest").exists()


@pytest.mark.parametrize("version", ['"2"', "2.0"])
def test_merge_refuses_a_result_of_a_newer_schema_however_its_number_is_written(tmp_path: Path, version: str):
    folder = written_run(tmp_path / "a", RUN_ID, "contoso")
    text = (folder / "result.json").read_text().replace('"schema_version": 1', f'"schema_version": {version}')
    done = invoke("merge", str(edited(folder, text)), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert "written by a newer cifcheck (result schema 2)" in one_line_on_stderr(done)


def test_a_merged_run_with_a_target_that_was_not_run_is_interrupted_not_passed(tmp_path: Path):
    # A run that left a target unjudged without saying it was interrupted (as `pytest --cifcheck -x` wrote them):
    # merged, it passed (exit 0) and became the next run's baseline, with a target nobody checked.
    folder = written_run(tmp_path / "a", RUN_ID, "contoso", not_run=("fabrikam",))
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    merged = json.loads((tmp_path / "out" / "latest" / "result.json").read_text())
    assert (merged["interrupted"], merged["exit_code"], done.exit_code) == (True, 130, 130)


def _compared(folder: Path, baseline_run_id: str) -> Path:
    """The run in `folder` as a shard run with `--baseline` wrote it: its failure new, its passes unchanged."""

    def mark(document: dict) -> None:
        document["baseline_run_id"] = baseline_run_id
        for target in document["targets"]:
            for check in target["checks"]:
                check["change"] = "new failure" if check["status"] == "fail" else "unchanged"

    return edited(folder, mark)


def test_merged_shards_compared_with_a_baseline_keep_that_baseline(tmp_path: Path):
    first = _compared(written_run(tmp_path / "a", RUN_ID, "contoso", shard="1/2"), "20261130-020000-000")
    second = _compared(written_run(tmp_path / "b", RUN_ID, "broken-fabrikam", shard="2/2"), "20261130-020000-000")
    summary = tmp_path / "summary.md"
    invoke("merge", str(first), str(second), "--output", str(tmp_path / "out"), "--summary-md", str(summary))
    merged = json.loads((tmp_path / "out" / "latest" / "result.json").read_text())
    assert merged["baseline_run_id"] == "20261130-020000-000"
    assert "No baseline run yet" not in summary.read_text()
    assert "No baseline run yet" not in (tmp_path / "out" / "latest" / "index.html").read_text()


# --- --baseline: a baseline that is not what it seems -------------------------------------------------------------


def test_an_empty_baseline_is_refused_rather_than_read_from_the_current_folder(tmp_path: Path, monkeypatch):
    # `--baseline "$LAST_RESULT"` with the variable unset: the folder a CI step runs in may hold a result.json.
    earlier = written_run(tmp_path / "earlier", RUN_ID, "broken-contoso")
    monkeypatch.chdir(earlier)
    now = written_run(tmp_path / "now", "20261202-020000-000", "broken-contoso")
    done = invoke("report", str(now), "--output", str(tmp_path / "out"), "--baseline", "", "--fail-on", "regression")
    assert done.exit_code == 2, done.output
    assert one_line_on_stderr(done).startswith("cifcheck: --baseline: empty")


@pytest.mark.parametrize("version", ["2", '"2"'])
def test_a_baseline_written_by_a_newer_cifcheck_is_refused(tmp_path: Path, version: str):
    folder = written_run(tmp_path / "earlier", RUN_ID, "contoso")
    text = (folder / "result.json").read_text().replace('"schema_version": 1', f'"schema_version": {version}')
    edited(folder, text)
    now = written_run(tmp_path / "now", "20261202-020000-000", "contoso")
    done = invoke("report", str(now), "--output", str(tmp_path / "out"), "--baseline", str(folder))
    assert done.exit_code == 2, done.output
    assert "written by a newer cifcheck (result schema 2)" in one_line_on_stderr(done)


# --- pytest --cifcheck FILE ----------------------------------------------------------------------------------------


def test_a_pytest_session_stopped_early_leaves_a_report_marked_interrupted(tmp_path: Path):
    # `-x` (or --maxfail, or a worker that died) stops the session before the second target: the report marked it
    # not run, "interrupted before this target finished", yet said the run was not interrupted (exit code 0, and the
    # next `--baseline latest` took it for a complete run). The first target errs at once: its browser cannot start.
    from tests.test_pytest_plugin import APP, _project, _pytest, _run_folders

    targets = [{"name": name, "url": "sandbox://healthy-csw", "app": APP} for name in ("first", "second")]
    project = _project(tmp_path, targets)
    config = json.loads((project / "cfg.json").read_text())
    (project / "cfg.json").write_text(json.dumps({**config, "browser": {"executable_path": "/bin/false"}}))
    done = _pytest(project, "--cifcheck", "cfg.json", "-x")
    assert done.returncode == 1, done.stdout + done.stderr
    (run,) = _run_folders(project / "reports")
    report = json.loads((run / "result.json").read_text())
    assert [(t["target"], t["not_run"]) for t in report["targets"]] == [("second", True)]
    assert (report["interrupted"], report["exit_code"]) == (True, 130)


@pytest.mark.parametrize("names", [("contoso.eu", "contoso-eu"), ("a_b", "a-b")])
def test_traces_of_two_targets_whose_names_differ_only_in_punctuation_are_both_kept(tmp_path: Path, names):
    from cifcheck.config import Config, Target
    from cifcheck.pytest_targets import TargetRuns
    from cifcheck.results import TargetResult

    targets = [Target(name=name, url="sandbox://healthy-csw") for name in names]
    runs = TargetRuns(Config(targets=targets), "on", tmp_path / "test-results")
    for target in targets:
        trace = tmp_path / f"tmp-{target.name}" / "trace.zip"
        trace.parent.mkdir()
        trace.write_text(f"the trace of {target.name}")
        runs._keep_trace(target, trace, TargetResult(target=target.name, url=target.url, app=target.app, checks=[]))
    kept = sorted(path.read_text() for path in (tmp_path / "test-results").glob("*/trace.zip"))
    assert kept == sorted(f"the trace of {name}" for name in names)
