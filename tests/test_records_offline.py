"""The records are evidence: saved with a run, re-judged offline (`cifcheck report`) to the same verdicts, with no
secret of the org's in them."""

from __future__ import annotations

import functools
import json

import pytest

from cifcheck.checks import judge_target
from cifcheck.evidence import Evidence
from cifcheck.offline import rejudge
from cifcheck.sandbox.scenarios import SCENARIOS
from tests.scenario_evidence import evidence_for, read_records_of

RECORD_SCENARIOS = [name for name, scenario in SCENARIOS.items() if "records" in scenario.tags]


@functools.cache
def gathered(name: str) -> Evidence:
    """The scenario's evidence, built once per test process (5,000 providers take seconds)."""
    return evidence_for(SCENARIOS[name])


@pytest.mark.parametrize("name", RECORD_SCENARIOS)
def test_saved_records_are_rejudged_offline_to_the_same_verdicts(tmp_path, name: str):
    evidence = gathered(name)
    before = {check.id: (check.status, check.reason) for check in judge_target(evidence).checks}
    path = tmp_path / "evidence.json"
    path.write_text(evidence.model_dump_json(), encoding="utf-8")
    result, _ = rejudge([path])
    after = {check.id: (check.status, check.reason) for check in result.targets[0].checks}
    assert after == before


def test_no_custom_parameters_reach_the_evidence():
    text = gathered("parity-custom-params").model_dump_json()
    for secret in ("sandbox-widget-token-3f9a", "sandbox-widget-token-0ld1", "tier1"):
        assert secret not in text


def test_the_records_name_what_custom_parameters_looked_like():
    evidence = evidence_for(SCENARIOS["healthy-csw"])
    assert evidence.dataverse is not None
    (provider,) = evidence.dataverse.v2_providers or []
    assert provider["msdyn_customparams"] == "(not kept: JSON with keys queue, token)"


def test_every_read_of_the_records_is_a_get():
    for name in RECORD_SCENARIOS:
        evidence = gathered(name)
        assert evidence.dataverse is not None
        assert {request.method for request in evidence.dataverse.requests} == {"GET"}, name


def test_a_fingerprint_tells_only_equality():
    evidence = evidence_for(SCENARIOS["parity-custom-params"])
    assert evidence.dataverse is not None
    fingerprints = evidence.dataverse.fingerprints
    v1 = [
        value for key, value in fingerprints.items() if key.startswith("msdyn_ciproviders/") and "customparams" in key
    ]
    v2 = [
        value
        for key, value in fingerprints.items()
        if key.startswith("msdyn_channelproviders/") and "customparams" in key
    ]
    assert v1 and v2 and v1 != v2
    again = read_records_of(SCENARIOS["parity-custom-params"])
    assert again.fingerprints != fingerprints, "a new key every read: nothing to look up"
    assert json.loads(evidence.model_dump_json())["dataverse"]["fingerprints"] == fingerprints
