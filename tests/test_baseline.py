"""`--baseline RUN|latest` and `--fail-on regression`: each check marked against an earlier run; what needs doing
leads with the new failures; only a new failure exits 1. Mostly on results built in Python; the command line through
`cifcheck report` (no browser) and one sandbox run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from cifcheck.checks import judge_target
from cifcheck.cli import cli
from cifcheck.report import write_run
from cifcheck.report.baseline import BaselineError, find_baseline, mark_changes
from cifcheck.report.history import changes
from cifcheck.report.html import render_html
from cifcheck.report.junit import render_junit
from cifcheck.results import CheckResult, RunResult, Status, TargetResult, not_run_target
from cifcheck.terminal import Terminal
from tests.evidence_factory import healthy_evidence

ROOT = Path(__file__).resolve().parent.parent
ORG = "https://contoso.crm.dynamics.com"


def target(name: str, **statuses: Status) -> TargetResult:
    """A target whose checks are `check_id=status` (ids written with `_` for `.`)."""
    checks = [
        CheckResult(id=check_id.replace("_", "."), title=check_id, status=status, reason=f"{check_id} was {status}")
        for check_id, status in statuses.items()
    ]
    return TargetResult(target=name, url=ORG, app="a", checks=checks)


def a_run(*targets: TargetResult, run_id: str = "20261201-120000-000", **fields: object) -> RunResult:
    return RunResult(
        run_id=run_id, cifcheck_version="0", started_at="2026-12-01T12:00:00+00:00", duration_ms=1,
        targets=list(targets), **fields,
    )  # fmt: skip


BASELINE = a_run(
    target("t", panel_docked="pass", app_loaded="fail", widget_loaded="fail"), run_id="20261201-110000-000"
)


def marked(now: TargetResult, baseline: RunResult = BASELINE, **fields: object) -> RunResult:
    run = a_run(now, **fields)
    mark_changes(run, baseline)
    return run


def change(run: RunResult, check_id: str, target_name: str = "t") -> str | None:
    found = next(t for t in run.targets if t.target == target_name)
    return next(c.change for c in found.checks if c.id == check_id)


# What each check is marked


def test_a_check_that_passed_in_the_baseline_and_fails_now_is_a_new_failure():
    assert change(marked(target("t", panel_docked="fail")), "panel.docked") == "new failure"


def test_a_check_that_failed_in_the_baseline_and_fails_now_is_still_failing():
    assert change(marked(target("t", app_loaded="fail")), "app.loaded") == "still failing"


@pytest.mark.parametrize("now", ["pass", "warn", "skip"])
def test_a_check_that_failed_in_the_baseline_and_no_longer_fails_is_fixed(now: Status):
    assert change(marked(target("t", app_loaded=now)), "app.loaded") == "fixed"


def test_a_check_that_passes_as_before_is_unchanged():
    assert change(marked(target("t", panel_docked="pass")), "panel.docked") == "unchanged"


@pytest.mark.parametrize("before", ["pass", "fail"])
def test_an_error_now_is_undecided_neither_a_new_failure_nor_fixed(before: Status):
    baseline = a_run(target("t", panel_docked=before))
    assert change(marked(target("t", panel_docked="error"), baseline), "panel.docked") == "undecided"


def test_a_failure_where_the_baseline_could_not_decide_is_a_new_failure():
    baseline = a_run(target("t", panel_docked="error"))
    assert change(marked(target("t", panel_docked="fail"), baseline), "panel.docked") == "new failure"


def test_a_target_the_baseline_did_not_judge_is_new_not_a_regression():
    run = marked(target("new-tenant", panel_docked="fail"))
    assert change(run, "panel.docked", "new-tenant") == "new" and run.with_change("new failure") == []


def test_a_target_the_baseline_did_not_finish_is_new():
    interrupted = a_run(not_run_target("t", ORG, "a", [("panel.docked", "Panel")]), interrupted=True)
    assert change(marked(target("t", panel_docked="fail"), interrupted), "panel.docked") == "new"


def test_a_check_no_target_of_the_baseline_had_is_new():
    assert change(marked(target("t", records_parity="fail")), "records.parity") == "new"


def test_a_check_the_baseline_had_but_not_on_this_target_is_a_new_failure():
    baseline = a_run(target("t", app_loaded="pass"), target("u", panel_docked="pass"))
    assert change(marked(target("t", panel_docked="fail"), baseline), "panel.docked") == "new failure"


def test_a_target_not_run_now_is_left_unmarked():
    run = a_run(not_run_target("t", ORG, "a", [("panel.docked", "Panel")]), interrupted=True)
    mark_changes(run, BASELINE)
    assert change(run, "panel.docked") is None


def test_without_a_baseline_run_yet_every_check_is_new():
    run = a_run(target("t", panel_docked="fail"))
    mark_changes(run, None)
    assert change(run, "panel.docked") == "new" and run.baseline_run_id is None and run.compared


def test_the_history_uses_the_same_comparison_an_error_is_not_a_new_failure():
    history = changes([BASELINE, a_run(target("t", panel_docked="error", app_loaded="fail", widget_loaded="pass"))])
    now = history["20261201-120000-000"][0]
    assert (now.undecided, now.new_failures, now.still_failing, now.fixed) == (
        ["panel.docked"], [], ["app.loaded"], ["widget.loaded"],
    )  # fmt: skip


# Exit codes with --fail-on regression


def test_fail_on_regression_exits_1_on_a_new_failure():
    assert marked(target("t", panel_docked="fail"), fail_on="regression").exit_code == 1


def test_fail_on_regression_exits_0_on_an_old_failure_alone():
    assert marked(target("t", panel_docked="pass", app_loaded="fail"), fail_on="regression").exit_code == 0


def test_fail_on_regression_keeps_exit_2_for_an_error_beside_an_old_failure():
    assert marked(target("t", app_loaded="fail", widget_loaded="error"), fail_on="regression").exit_code == 2


def test_fail_on_regression_exits_1_for_a_new_failure_beside_an_error():
    assert marked(target("t", panel_docked="fail", widget_loaded="error"), fail_on="regression").exit_code == 1


def test_a_baseline_without_fail_on_regression_leaves_the_exit_code_as_it_was():
    assert marked(target("t", app_loaded="fail")).exit_code == 1


# What is written and shown


def test_result_json_keeps_the_baseline_run_id_and_each_change_and_matches_the_schema(tmp_path):
    run = marked(target("t", panel_docked="fail", app_loaded="pass"))
    document = json.loads((write_run(run, [], tmp_path) / "result.json").read_text())
    jsonschema.validate(document, json.loads((ROOT / "cifcheck" / "result.schema.json").read_text()))
    assert document["baseline_run_id"] == "20261201-110000-000"
    assert [c["change"] for c in document["targets"][0]["checks"]] == ["new failure", "fixed"]


def test_the_terminal_leads_with_the_new_failure_then_other_failures_then_fixed(capsys):
    run = marked(target("t", app_loaded="fail", widget_loaded="pass", panel_docked="fail"))
    Terminal(plain=True).summary(run, Path("reports") / run.run_id)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == [
        "FAIL  t panel.docked (new failure)",
        "FAIL  t app.loaded (still failing)",
        "FIXED t widget.loaded",
    ]
    assert "; 1 new failure, 1 still failing, 1 fixed since run 20261201-110000-000 — report:" in lines[-1]


def test_the_html_report_leads_with_the_new_failure_and_shows_what_was_fixed():
    page = render_html(marked(target("t", app_loaded="fail", widget_loaded="pass", panel_docked="fail")), [])
    header = page[page.index('<section class="baseline">') : page.index("</header>")]
    assert "1 new failure</strong>, 1 still failing, 1 fixed" in header
    assert header.index("New failures:") < header.index("Fixed:") and 'href="#t-panel.docked"' in header
    cards = page[page.index("What needs doing") :]
    assert cards.index('id="t-panel.docked"') < cards.index('id="t-app.loaded"')


def test_junit_names_the_new_failure_in_its_message_and_marks_each_change():
    xml = render_junit(marked(target("t", app_loaded="fail", panel_docked="fail")))
    assert '<failure message="New failure: panel_docked was fail"' in xml
    assert '<failure message="Still failing: app_loaded was fail"' in xml
    assert '<property name="cifcheck.change" value="new failure" />' in xml


# Finding the baseline


def written(tmp_path: Path, run: RunResult) -> Path:
    return write_run(run, [], tmp_path / "reports")


def test_a_baseline_is_found_by_run_id_run_folder_or_result_json(tmp_path):
    folder = written(tmp_path, BASELINE.model_copy(deep=True))
    reports = tmp_path / "reports"
    for given in (folder.name, str(folder), str(folder / "result.json")):
        assert find_baseline(given, reports).run_id == folder.name, given


def test_latest_is_the_newest_complete_live_run(tmp_path):
    written(tmp_path, a_run(target("t", panel_docked="pass"), run_id="20261201-100000-000"))
    written(tmp_path, a_run(target("t", panel_docked="fail"), run_id="20261201-110000-000", rejudged_offline=True))
    interrupted = a_run(not_run_target("t", ORG, "a", []), run_id="20261201-120000-000", interrupted=True)
    written(tmp_path, interrupted)
    assert find_baseline("latest", tmp_path / "reports").run_id == "20261201-100000-000"


def test_latest_with_no_earlier_run_is_none(tmp_path):
    assert find_baseline("latest", tmp_path / "no-reports-yet") is None


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("20261201-090000-000", "20261201-090000-000: not found (give latest, a run id in"),
        ("missing.json", "missing.json: not found (give latest, a run id in"),
        ("folder", "folder/result.json: baseline result.json not found"),
        ("broken.json", "broken.json: not valid JSON"),
        ("evidence.json", "evidence.json: not a result.json cifcheck writes: run_id"),
    ],
)
def test_a_baseline_that_does_not_exist_or_is_no_result_is_one_line_naming_the_option_and_path(
    tmp_path, monkeypatch, given: str, says: str
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "evidence.json").write_text(healthy_evidence().model_dump_json(), encoding="utf-8")
    with pytest.raises(BaselineError) as raised:
        find_baseline(given, tmp_path / "reports")
    assert str(raised.value).startswith(f"--baseline: {given}") and says in str(raised.value)
    assert "\n" not in str(raised.value)


# The command line


def cifcheck(*args: str, cwd: Path) -> Result:
    """`cifcheck ARGS` in `cwd`, in this process (`cifcheck report` starts no browser: no need for another)."""
    with contextlib.chdir(cwd):
        return CliRunner().invoke(cli, list(args))


def evidence_file(folder: Path, name: str, hidden_panel: bool) -> Path:
    evidence = healthy_evidence()
    evidence.target.name = name
    if hidden_panel:
        assert evidence.panel is not None
        evidence.panel.xrm_state = 2
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(evidence.model_dump_json(), encoding="utf-8")
    return path


def test_a_bad_baseline_path_is_one_line_and_exit_2_and_nothing_is_written(tmp_path):
    evidence = evidence_file(tmp_path, "contoso", hidden_panel=False)
    done = cifcheck("report", str(evidence), "--output", "reports", "--baseline", "nowhere/result.json", cwd=tmp_path)
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr == (
        "cifcheck: --baseline: nowhere/result.json: not found (give latest, a run id in reports, a run folder or a "
        "result.json)\n"
    )
    assert not (tmp_path / "reports").exists()


def test_fail_on_regression_with_no_earlier_run_notes_it_and_judges_no_failure_a_regression(tmp_path):
    evidence = evidence_file(tmp_path, "contoso", hidden_panel=True)
    done = cifcheck("report", str(evidence), "--output", "reports", "--fail-on", "regression", cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    assert "cifcheck: note: no baseline run yet: every check is compared with nothing" in done.stderr
    assert "FAIL  contoso panel.docked (not in the baseline)" in done.stdout


def test_cifcheck_report_exits_1_on_a_regression_and_0_when_it_is_an_old_failure(tmp_path):
    healthy = evidence_file(tmp_path / "before", "contoso", hidden_panel=False)
    hidden = evidence_file(tmp_path / "after", "contoso", hidden_panel=True)  # the same target, its panel now hidden
    assert cifcheck("report", str(healthy), "--output", "reports", "--quiet", cwd=tmp_path).exit_code == 0
    passed = (tmp_path / "reports" / "latest").resolve().name
    options = ["--output", "reports", "--fail-on", "regression", "--quiet"]
    regression = cifcheck("report", str(hidden), *options, "--baseline", passed, cwd=tmp_path)
    assert regression.exit_code == 1
    assert regression.stdout.startswith("FAIL contoso: panel.docked (new failure); 1 new failure since run")
    failed = (tmp_path / "reports" / "latest").resolve()
    old = cifcheck("report", str(hidden), *options, "--baseline", str(failed), cwd=tmp_path)
    assert old.exit_code == 0 and "panel.docked (still failing)" in old.stdout


# Only the checks panel.docked needs, and a short observation window: the sandbox org settles at once.
SMALL_PANEL_HIDDEN = {
    "targets": [
        {
            "name": "panel-hidden",
            "url": "sandbox://panel-hidden",
            "checks": ["cif.library_loaded", "profile.channel_providers", "panel.docked"],
        }
    ],
    "timeouts": {"observe_ms": 1000},
}


@pytest.mark.browser
def test_a_sandbox_run_that_regressed_leads_with_the_new_failure_and_exits_1(tmp_path):
    # The baseline: the same target with every check passing, as panel-hidden was before its provider changed.
    evidence = healthy_evidence()
    evidence.target.name = "panel-hidden"
    baseline = a_run(judge_target(evidence), run_id="20261201-110000-000")
    (tmp_path / "baseline.json").write_text(baseline.model_dump_json(), encoding="utf-8")
    (tmp_path / "cfg.json").write_text(json.dumps(SMALL_PANEL_HIDDEN), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", "--config", "cfg.json", "--output", "reports",
         "--baseline", "baseline.json", "--fail-on", "regression", "--summary-md", "ci/summary.md"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[2].startswith("FAIL  panel-hidden panel.docked (new failure):")
    result = json.loads((tmp_path / "reports" / "latest" / "result.json").read_text())
    assert result["baseline_run_id"] == "20261201-110000-000" and result["fail_on"] == "regression"
    summary = (tmp_path / "ci" / "summary.md").read_text(encoding="utf-8")
    assert "### New failures (regressions): 1" in summary and "| panel-hidden | `panel.docked` |" in summary
