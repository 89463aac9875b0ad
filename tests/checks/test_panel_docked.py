import json

import pytest

from cifcheck.config import Expectations
from cifcheck.evidence import Box, CifMessage, ModeChange, ObservationEvidence
from tests.evidence_factory import PROVIDERS, healthy_evidence

CHECK = "panel.docked"


def test_passes_when_docked_and_large_enough(judge):
    result = judge(CHECK, healthy_evidence())
    assert result.status == "pass"
    assert "docked" in result.reason


@pytest.mark.parametrize(("state", "name"), [(0, "minimized"), (2, "hidden"), (3, "collapsed")])
def test_other_modes_fail_naming_the_mode_and_the_setmode_fix(judge, state, name):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = state
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert f"is {name}" in result.reason
    assert "setMode(1)" in result.remediation


def test_a_mode_the_target_expects_passes(judge):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = 2
    evidence.panel.visible = False
    evidence.settings.expect = Expectations(panel_mode="hidden")
    result = judge(CHECK, evidence)
    assert result.status == "pass"
    assert "as this target expects" in result.reason


def test_with_several_providers_the_fix_mentions_the_home_session(judge):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = 0
    evidence.storage.values["channelProviders"] = json.dumps(PROVIDERS * 2)
    assert "home session" in judge(CHECK, evidence).remediation


def test_no_panel_frame_fails(judge):
    evidence = healthy_evidence()
    evidence.panel.found = False
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "no communication panel" in result.reason


def test_docked_by_state_but_invisible_fails_on_geometry(judge):
    evidence = healthy_evidence()
    evidence.panel.visible = False
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "looks hidden" in result.reason


def test_without_xrm_the_mode_comes_from_geometry(judge):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = None
    evidence.panel.box = Box(x=48, y=734, width=378, height=34)
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "minimized" in result.reason


def test_narrower_than_the_configured_minimum_fails(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(min_panel_width=500)
    result = judge(CHECK, evidence)
    assert result.status == "fail"


def test_the_screenshot_is_part_of_the_evidence(judge):
    evidence = healthy_evidence()
    evidence.panel.screenshot_png_base64 = "iVBORw0KGgo="
    assert any(d.kind == "image" for d in judge(CHECK, evidence).details)


def test_a_docked_panel_narrower_than_expected_is_called_docked_but_narrow(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(min_panel_width=400)
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "docked but only 377 x 720 px" in result.reason
    assert "setMode" not in result.remediation


def test_a_mode_the_provider_asked_for_is_named_as_the_providers(judge):
    from cifcheck.evidence import CifMessage

    evidence = healthy_evidence()
    evidence.panel.xrm_state = 2
    evidence.panel.host_messages = [CifMessage(type="setmode", value=2)]
    assert "hidden by the provider (it called setMode(2))" in judge(CHECK, evidence).reason


def test_when_hidden_is_expected_the_fix_asks_for_setmode_2(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(panel_mode="hidden")
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "setMode(2)" in result.remediation and "setMode(1)" not in result.remediation


def test_getmode_answers_are_part_of_the_evidence(judge):
    from cifcheck.evidence import CifMessage

    evidence = healthy_evidence()
    evidence.panel.host_messages = [CifMessage(type="getmode", correlation="cif-1")]
    evidence.panel.widgets[0].messages = [CifMessage(outcome="success", value=1, correlation="cif-1")]
    facts = next(d for d in judge(CHECK, evidence).details if d.kind == "facts")
    assert facts.facts["getMode answers seen"] == "1"


def test_the_state_to_mode_mapping_is_configurable(judge):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = 0
    evidence.settings.panel.modes["0"] = "docked"
    assert judge(CHECK, evidence).status == "pass"


def test_a_provider_that_changed_its_mind_is_judged_on_the_last_mode_and_says_so(judge):
    evidence = healthy_evidence()
    evidence.panel.xrm_state = 0
    evidence.panel.box = Box(x=48, y=734, width=377, height=34)
    evidence.panel.host_messages = [CifMessage(type="setmode", value=1), CifMessage(type="setmode", value=0)]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "setMode(1), then setMode(0)" in result.reason


def test_the_panel_card_shows_the_mode_timeline(judge):
    evidence = healthy_evidence()
    evidence.observation = ObservationEvidence(mode_timeline=[ModeChange(at_ms=500, what="setMode request", value="1")])
    tables = [d for d in judge(CHECK, evidence).details if d.title == "Panel mode over time"]
    assert tables and tables[0].rows[0]["what"] == "setMode request"
