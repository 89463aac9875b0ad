"""The scenario catalogue as the end-to-end test table: cifcheck, in real Chromium, against every sandbox
scenario, must give the verdicts the scenario declares (status per check, and the key phrase of the reason)."""

from __future__ import annotations

import pytest

from cifcheck.checks import REGISTRY
from cifcheck.config import Config, Target
from cifcheck.runner import RunOutput, run
from cifcheck.sandbox.scenarios import SCENARIOS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def catalogue_run(sandbox, browser) -> RunOutput:
    """One run with every scenario as a target: each scenario gets its own context and page load."""
    config = Config(
        targets=[Target(name=s.name, url=f"sandbox://{s.name}", app=s.app) for s in SCENARIOS.values()],
    )
    return run(config, sandbox=sandbox, browser=browser)


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=list(SCENARIOS))
def test_verdicts_match_the_scenario(catalogue_run: RunOutput, scenario):
    target = next(t for t in catalogue_run.result.targets if t.target == scenario.name)
    got = {c.id: c for c in target.checks}
    assert set(got) == set(REGISTRY)
    for check_id, result in got.items():
        expected = scenario.expect[check_id]
        assert (check_id, result.status) == (check_id, expected.status), result.reason
        assert expected.reason.lower() in result.reason.lower(), f"{check_id}: {result.reason}"


def test_validating_never_writes_to_the_org(catalogue_run: RunOutput, sandbox):
    assert sandbox.app.state.write_attempts == []


def test_every_target_has_its_evidence(catalogue_run: RunOutput):
    assert [e.target.name for e in catalogue_run.evidence] == list(SCENARIOS)


def test_no_file_a_run_writes_holds_a_session_cookie_or_a_provider_token(catalogue_run: RunOutput, sandbox, tmp_path):
    from cifcheck.report import write_run

    healthy = next(e for e in catalogue_run.evidence if e.target.name == "healthy-csw")
    assert "[redacted]" in healthy.storage.values["channelProviders"], "the page did carry a token to redact"
    run_dir = write_run(catalogue_run.result, catalogue_run.evidence, tmp_path)
    secrets = [*sandbox.app.state.sessions, "sandbox-widget-token-3f9a"]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) >= len(SCENARIOS) + 3
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, f"{secret[:6]}... found in {path.relative_to(run_dir.parent)}"
