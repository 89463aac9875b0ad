"""Exit codes: 0 pass/warn/skip; 1 any failure, even beside errors (or a warning with --fail-on warn); 2 could not
decide; 130 interrupted. And how a target the run never finished is written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cifcheck.cli import cli
from cifcheck.report.junit import render_junit
from cifcheck.results import NOT_RUN_REASON, CheckResult, RunResult, Status, TargetResult, not_run_target
from tests.hostile_text import hostile_evidence


def run_of(*statuses: Status, interrupted: bool = False, fail_on: str = "fail") -> RunResult:
    checks = [CheckResult(id=f"check.{n}", title="t", status=s, reason="r") for n, s in enumerate(statuses)]
    return RunResult(
        run_id="20261201-120000-000",
        cifcheck_version="0",
        started_at="now",
        duration_ms=1,
        targets=[TargetResult(target="t", url="https://contoso.crm.dynamics.com", app="a", checks=checks)],
        interrupted=interrupted,
        fail_on=fail_on,
    )


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (("pass", "warn", "skip"), 0),
        (("pass", "fail"), 1),
        (("fail",) * 7 + ("error",), 1),  # the org is wrong somewhere: an error beside it does not hide that
        (("pass", "error"), 2),
        (("error", "warn"), 2),
    ],
)
def test_the_exit_code_follows_the_verdicts(statuses: tuple[Status, ...], code: int):
    assert run_of(*statuses).exit_code == code


def test_a_failure_beside_an_error_makes_the_verdict_fail():
    assert run_of("fail", "error").status == "fail"


def test_fail_on_warn_makes_a_warning_exit_1():
    assert run_of("pass", "warn", fail_on="warn").exit_code == 1


def test_fail_on_warn_leaves_a_clean_run_at_0():
    assert run_of("pass", "skip", fail_on="warn").exit_code == 0


def test_an_interrupted_run_exits_130_whatever_its_verdicts():
    assert run_of("fail", interrupted=True).exit_code == 130


def test_a_target_not_run_is_skipped_check_by_check_saying_why():
    target = not_run_target("t2", "sandbox://healthy-csw", "app", [("panel.docked", "Panel docked")])
    assert target.status == "skip" and target.not_run
    assert [(c.id, c.status, c.reason) for c in target.checks] == [("panel.docked", "skip", NOT_RUN_REASON)]


def test_junit_marks_a_target_not_run_as_skipped_with_the_reason():
    run = run_of("pass", interrupted=True)
    run.targets.append(not_run_target("t2", "sandbox://healthy-csw", "app", [("panel.docked", "Panel docked")]))
    xml = render_junit(run)
    assert f'<skipped message="{NOT_RUN_REASON}" />' in xml


def test_result_json_says_the_run_was_interrupted_and_which_targets_did_not_run():
    run = run_of("pass", interrupted=True)
    run.targets.append(not_run_target("t2", "sandbox://healthy-csw", "app", []))
    document = run.model_dump(mode="json")
    assert document["interrupted"] is True and document["exit_code"] == 130
    assert [(t["target"], t["not_run"]) for t in document["targets"]] == [("t", False), ("t2", True)]


def test_cifcheck_report_with_fail_on_warn_exits_1_on_a_warning(tmp_path):
    evidence = tmp_path / "evidence.json"
    evidence.write_text(hostile_evidence().model_dump_json(), encoding="utf-8")  # console.cif_errors warns
    arguments = ["report", str(evidence), "--output", str(tmp_path / "reports"), "--quiet"]
    assert CliRunner().invoke(cli, arguments).exit_code == 0
    done = CliRunner().invoke(cli, [*arguments, "--fail-on", "warn"])
    assert done.exit_code == 1 and done.output.startswith("WARN contoso: console.cif_errors — report:")


def test_a_run_interrupted_before_any_target_finished_is_not_a_pass():
    run = RunResult(
        run_id="20261201-120000-000",
        cifcheck_version="0",
        started_at="now",
        duration_ms=1,
        targets=[not_run_target("t1", "sandbox://healthy-csw", "app", [("panel.docked", "Panel docked")])],
        interrupted=True,
    )
    assert run.status == "skip" and run.model_dump(mode="json")["status"] == "skip"
