import pytest

from cifcheck.checks import ORDER, REGISTRY, run_checks
from cifcheck.checks.registry import Check, Verdict, check, evaluate
from tests.evidence_factory import healthy_evidence


def test_the_migration_order_lists_every_registered_check_once():
    assert sorted(ORDER) == sorted(REGISTRY)
    assert len(ORDER) == len(set(ORDER))


def test_registering_an_id_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        check(id="session.signed_in", title="t", failure_title="f", checked="c", remediation="r", doc_step="d")(
            lambda evidence: Verdict("pass", "ok")
        )


def _crashing(evidence):
    raise KeyError("surprise")


def test_a_check_that_raises_becomes_an_error_verdict():
    crashing = Check("test.crash", "t", "f", "c", "r", "d", _crashing)
    result = evaluate(crashing, healthy_evidence(), {})
    assert result.status == "error"
    assert "KeyError" in result.reason


def test_missing_required_evidence_is_an_error_not_a_failure():
    needs_storage = Check(
        "test.storage", "t", "f", "c", "r", "d", lambda e: Verdict("fail", "no"), requires=("storage",)
    )
    evidence = healthy_evidence()
    evidence.storage = None
    assert evaluate(needs_storage, evidence, {}).status == "error"


def test_every_check_but_sign_in_is_skipped_naming_the_prerequisite_when_signed_out():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.sign_in_page = True
    results = {r.id: r for r in run_checks(evidence)}
    assert results["session.signed_in"].status == "error"
    for check_id, result in results.items():
        if check_id != "session.signed_in":
            assert result.status == "skip"
            assert "session.signed_in" in result.reason


def test_only_the_selected_checks_run():
    results = run_checks(healthy_evidence(), ["cif.library_loaded"])
    assert [r.id for r in results] == ["cif.library_loaded"]


def test_passing_checks_carry_no_remediation():
    assert all(r.remediation == "" for r in run_checks(healthy_evidence()) if r.status == "pass")


def test_a_selected_check_is_still_skipped_when_an_unselected_prerequisite_fails():
    evidence = healthy_evidence()
    evidence.resources = [r for r in evidence.resources if "channelintegrationframework" not in r.url]
    results = {r.id: r for r in run_checks(evidence, ["panel.docked", "widget.loaded"])}
    assert (results["panel.docked"].status, results["widget.loaded"].status) == ("skip", "skip")
    assert "cif.library_loaded" in results["panel.docked"].reason


def test_an_unselected_prerequisite_that_fails_is_reported_so_the_target_cannot_pass_on_skips_alone():
    evidence = healthy_evidence()
    evidence.resources = [r for r in evidence.resources if "channelintegrationframework" not in r.url]
    results = run_checks(evidence, ["panel.docked"])
    assert [(r.id, r.status) for r in results] == [("cif.library_loaded", "fail"), ("panel.docked", "skip")]


def test_an_expired_session_is_an_error_even_when_only_a_later_check_is_selected():
    evidence = healthy_evidence()
    evidence.navigation.app_ready = False
    evidence.navigation.sign_in_page = True
    results = run_checks(evidence, ["cif.library_loaded"])
    assert [(r.id, r.status) for r in results] == [("session.signed_in", "error"), ("cif.library_loaded", "skip")]


def test_the_selection_recorded_with_the_evidence_is_used_when_rejudging():
    from cifcheck.checks import judge_target

    evidence = healthy_evidence()
    evidence.settings.checks = ["cif.library_loaded"]
    assert [c.id for c in judge_target(evidence).checks] == ["cif.library_loaded"]
