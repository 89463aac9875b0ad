"""reports/index.html: names as written, offline re-judges marked, what changed per target; and retention."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from cifcheck.checks import judge_target
from cifcheck.config import Config, ConfigError, load_config
from cifcheck.offline import rejudge
from cifcheck.report import prune_runs, write_run
from cifcheck.report.history import RUN_ID, changes, render_history
from cifcheck.results import RunResult, not_run_target
from tests.evidence_factory import healthy_evidence
from tests.report.html_tree import parse


def a_run(run_id: str, *, hidden_panel: bool = False, name: str = "Contoso-Prod", offline: bool = False):
    evidence = healthy_evidence()
    evidence.target.name = name
    if hidden_panel:
        evidence.panel.xrm_state = 2
    result = RunResult(
        run_id=run_id,
        cifcheck_version="0",
        started_at="2026-12-01T12:00:00+00:00",
        duration_ms=0 if offline else 4200,
        rejudged_offline=offline,
        targets=[judge_target(evidence)],
    )
    return result, [evidence]


def history_rows(output_dir: Path) -> dict[str, str]:
    """Each run's row in the history page, as text, by run id."""
    table = parse(render_history(output_dir)).find("table")
    return {row.find("a").text: row.text for row in table.find_all("tr")[1:]}


def test_target_names_are_shown_as_written_not_in_a_badge(tmp_path):
    write_run(*a_run("20261201-120000-000"), tmp_path)
    page = parse(render_history(tmp_path))
    names = [element.text for element in page.find_all(cls="name")]
    assert names == ["Contoso-Prod"]
    assert all(badge.text in ("pass", "fail", "warn", "skip", "error") for badge in page.find_all(cls="badge"))


def test_an_offline_rejudge_is_marked_and_not_shown_as_a_zero_second_run(tmp_path):
    write_run(*a_run("20261201-120000-000", offline=True), tmp_path)
    row = history_rows(tmp_path)["20261201-120000-000"]
    assert "re-judged offline" in row and "0.0 s" not in row


def test_cifcheck_report_marks_its_result_as_rejudged_offline(tmp_path):
    evidence_file = tmp_path / "contoso.json"
    evidence_file.write_text(healthy_evidence().model_dump_json())
    result, _ = rejudge([evidence_file])
    assert result.rejudged_offline


def test_a_live_run_is_not_marked_offline(tmp_path):
    write_run(*a_run("20261201-120000-000"), tmp_path)
    row = history_rows(tmp_path)["20261201-120000-000"]
    assert "re-judged offline" not in row and "took 4.2 s" in row


def test_each_target_shows_its_new_failures_fixes_and_still_failing_checks_by_id(tmp_path):
    write_run(*a_run("20261201-100000-000"), tmp_path)
    write_run(*a_run("20261201-110000-000", hidden_panel=True), tmp_path)
    write_run(*a_run("20261201-120000-000", hidden_panel=True), tmp_path)
    write_run(*a_run("20261201-130000-000"), tmp_path)
    rows = history_rows(tmp_path)
    assert "first run" in rows["20261201-100000-000"]
    assert "new failure: panel.docked" in rows["20261201-110000-000"]
    assert "still failing: panel.docked" in rows["20261201-120000-000"]
    assert "fixed: panel.docked" in rows["20261201-130000-000"]


def test_a_target_unchanged_since_its_previous_run_is_listed_on_one_no_change_line(tmp_path):
    write_run(*a_run("20261201-100000-000"), tmp_path)
    write_run(*a_run("20261201-110000-000"), tmp_path)
    assert "no change: Contoso-Prod (pass)" in history_rows(tmp_path)["20261201-110000-000"]


def test_each_target_is_compared_with_its_own_previous_run():
    first, _ = a_run("20261201-100000-000", hidden_panel=True, name="a")
    other, _ = a_run("20261201-110000-000", name="b")
    again, _ = a_run("20261201-120000-000", hidden_panel=True, name="a")
    change = changes([first, other, again])["20261201-120000-000"][0]
    assert change.still_failing == ["panel.docked"] and not change.first_run


def test_an_offline_rejudge_is_compared_but_is_no_baseline_for_the_next_live_run():
    live, _ = a_run("20261201-100000-000", hidden_panel=True)
    offline, _ = a_run("20261201-110000-000", offline=True)  # old evidence, judged again: passes
    next_live, _ = a_run("20261201-120000-000", hidden_panel=True)
    by_run = changes([live, offline, next_live])
    assert by_run["20261201-110000-000"][0].fixed == ["panel.docked"]
    assert by_run["20261201-120000-000"][0].still_failing == ["panel.docked"]


def test_an_interrupted_run_is_marked_interrupted_in_the_history_with_its_targets_not_run(tmp_path):
    write_run(an_interrupted_run("20261201-120000-000"), [], tmp_path)
    row = history_rows(tmp_path)["20261201-120000-000"]
    assert "interrupted" in row and "Contoso-Prod not run" in row
    assert "first run" not in row and "no change" not in row


def run_folders(output_dir: Path) -> list[str]:
    return sorted(entry.name for entry in output_dir.iterdir() if RUN_ID.fullmatch(entry.name))


def test_the_oldest_run_folders_beyond_keep_runs_are_removed(tmp_path):
    for hour in range(10, 15):
        write_run(*a_run(f"20261201-{hour}0000-000"), tmp_path, keep_runs=3)
    assert run_folders(tmp_path) == ["20261201-120000-000", "20261201-130000-000", "20261201-140000-000"]
    assert list(history_rows(tmp_path)) == ["20261201-140000-000", "20261201-130000-000", "20261201-120000-000"]


def test_keep_runs_zero_keeps_every_run(tmp_path):
    for hour in range(10, 13):
        write_run(*a_run(f"20261201-{hour}0000-000"), tmp_path, keep_runs=0)
    assert len(run_folders(tmp_path)) == 3


def test_pruning_spares_other_folders_the_latest_run_and_a_run_still_being_finished(tmp_path):
    for hour in range(10, 14):
        write_run(*a_run(f"20261201-{hour}0000-000"), tmp_path, keep_runs=0)
    (tmp_path / "notes").mkdir()
    (tmp_path / "2026-archive").mkdir()
    os.replace(tmp_path / "latest", tmp_path / "latest-saved")
    (tmp_path / "latest").symlink_to("20261201-100000-000")  # someone pointed latest at the oldest run
    finishing = tmp_path / "20261201-110000-000"
    owner = os.open(finishing / ".owner", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(owner, fcntl.LOCK_EX)  # as a run between its rename and its history holds it
    try:
        prune_runs(tmp_path, keep_runs=1, written="20261201-130000-000")
    finally:
        os.close(owner)
    assert run_folders(tmp_path) == ["20261201-100000-000", "20261201-110000-000", "20261201-130000-000"]
    assert (tmp_path / "notes").is_dir() and (tmp_path / "2026-archive").is_dir()


def test_a_run_pruned_by_its_successor_is_never_the_one_just_written(tmp_path):
    write_run(*a_run("20261201-130000-000"), tmp_path, keep_runs=1)
    late = write_run(*a_run("20261201-120000-000"), tmp_path, keep_runs=1)  # started earlier, finished later
    assert late.is_dir() and (tmp_path / "latest").resolve() == late


def test_history_keep_runs_defaults_to_100():
    assert Config.model_validate({"targets": [{"name": "a", "url": "sandbox://healthy-csw"}]}).history.keep_runs == 100


def test_a_negative_keep_runs_is_bad_input(tmp_path):
    config = tmp_path / "c.json"
    config.write_text('{"targets": [{"name": "a", "url": "sandbox://healthy-csw"}], "history": {"keep_runs": -1}}')
    with pytest.raises(ConfigError, match=r"history\.keep_runs"):
        load_config(config)


def an_interrupted_run(run_id: str, name: str = "Contoso-Prod") -> RunResult:
    """A run stopped before `name` finished: the target is there, not run, its checks skipped."""
    checks = [(check.id, check.title) for check in judge_target(healthy_evidence()).checks]
    target = not_run_target(name, "https://contoso.crm.dynamics.com", "msdyn_CustomerServiceWorkspace", checks)
    return RunResult(
        run_id=run_id, cifcheck_version="0", started_at="2026-12-01T12:00:00+00:00", duration_ms=900,
        targets=[target], interrupted=True,
    )  # fmt: skip


def test_a_target_not_run_is_no_baseline_a_failure_before_and_after_it_is_still_failing():
    before, _ = a_run("20261201-100000-000", hidden_panel=True)
    after, _ = a_run("20261201-120000-000", hidden_panel=True)
    by_run = changes([before, an_interrupted_run("20261201-110000-000"), after])
    assert by_run["20261201-120000-000"][0].still_failing == ["panel.docked"]
    assert by_run["20261201-120000-000"][0].new_failures == []


def test_a_target_not_run_is_listed_as_not_run_not_as_unchanged(tmp_path):
    write_run(*a_run("20261201-100000-000"), tmp_path)
    write_run(an_interrupted_run("20261201-110000-000"), [], tmp_path)
    row = history_rows(tmp_path)["20261201-110000-000"]
    assert "not run" in row and "no change" not in row
