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
    assert document["status"] == "error" and document["exit_code"] == 2


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
