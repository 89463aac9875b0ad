"""The fixes a report gives, judged over the whole sandbox catalogue and per failure mode of an unreachable org: each
card its own paragraph, no sign-in command for a sandbox target, no "sign in" for an org that cannot be reached, and
the config file named is the one the run used."""

from __future__ import annotations

import re

import pytest

from cifcheck.checks import judge_target
from cifcheck.checks.registry import MIGRATION_DOC_URL
from cifcheck.results import CheckResult
from cifcheck.sandbox.scenarios import SCENARIOS, Scenario
from tests.evidence_factory import healthy_evidence
from tests.scenario_evidence import evidence_for

CATALOGUE = list(SCENARIOS.values())
SETTING = re.compile(r"\b(targets\[\]|expect|timeouts|selectors|sign_in|browser|auth|panel)\.[a-z_]+")
FAILING = [s for s in CATALOGUE if any(e.status != "pass" for e in s.expect.values())]


def _cards(scenario: Scenario, config_file: str = "playwright.config.json") -> list[CheckResult]:
    return judge_target(evidence_for(scenario, config_file)).checks


def _with_fixes(scenario: Scenario, config_file: str = "playwright.config.json") -> list[CheckResult]:
    return [card for card in _cards(scenario, config_file) if card.remediation]


def _sentences(text: str) -> set[str]:
    return {sentence.strip() for sentence in re.split(r"(?<=[.;:])\s+", text) if len(sentence.strip()) > 30}


@pytest.mark.parametrize("scenario", CATALOGUE, ids=lambda s: s.name)
def test_the_hand_built_evidence_gets_the_verdicts_the_catalogue_declares(scenario: Scenario):
    got = {card.id: (card.status, card.reason) for card in _cards(scenario)}
    for check_id, expected in scenario.expect.items():
        status, reason = got[check_id]
        assert status == expected.status, f"{check_id}: {reason}"
        assert expected.reason.lower() in reason.lower(), check_id


@pytest.mark.parametrize("scenario", FAILING, ids=lambda s: s.name)
def test_no_two_cards_of_a_target_share_a_remediation_paragraph_or_sentence(scenario: Scenario):
    seen: dict[str, str] = {}
    for card in _with_fixes(scenario):
        for sentence in _sentences(card.remediation):
            assert sentence not in seen, f"{card.id} repeats {seen.get(sentence)}: {sentence}"
            seen[sentence] = card.id


@pytest.mark.parametrize("scenario", FAILING, ids=lambda s: s.name)
def test_no_sandbox_target_is_told_to_run_cifcheck_login(scenario: Scenario):
    for card in _cards(scenario):
        assert "cifcheck login" not in card.reason + card.remediation, card.id


@pytest.mark.parametrize("scenario", FAILING, ids=lambda s: s.name)
def test_fixes_name_the_config_file_in_use_never_the_default_one(scenario: Scenario):
    for card in _with_fixes(scenario, config_file="cfg/prod.json"):
        assert "playwright.config.json" not in card.remediation, card.id
        if SETTING.search(card.remediation.replace(scenario.description, "")):  # quoting it changes nothing
            assert "cfg/prod.json" in card.remediation, (
                f"{card.id} names a setting but not the file: {card.remediation}"
            )


def test_a_fix_that_names_a_setting_names_the_config_file_it_lives_in():
    panel = next(card for card in _with_fixes(SCENARIOS["panel-hidden"], "cfg/prod.json") if card.id == "panel.docked")
    assert "expect.panel_mode for this target in cfg/prod.json" in panel.remediation


def test_without_a_config_file_a_fix_says_none_was_used():
    panel = next(card for card in _with_fixes(SCENARIOS["panel-hidden"], "") if card.id == "panel.docked")
    assert "a config file (this run used none; `cifcheck init` writes one)" in panel.remediation


def test_the_loader_missing_scenario_gives_the_profile_fix_once():
    cards = _with_fixes(SCENARIOS["loader-missing"])
    assert [card.id for card in cards if "remove the channel provider" in card.remediation] == ["profile.cif_v2_loader"]


@pytest.mark.parametrize("name", ["org-503", "org-down-mid-load"])
def test_an_unreachable_sandbox_org_is_titled_so_and_never_says_sign_in(name: str):
    failing = [card for card in _cards(SCENARIOS[name]) if card.status == "error"]
    assert failing
    for card in failing:
        assert card.title.startswith("Org un"), card.title
        assert "sign in" not in (card.title + card.remediation).lower()


def test_every_card_links_the_migration_document_itself_not_a_search():
    assert MIGRATION_DOC_URL == (
        "https://learn.microsoft.com/dynamics365/channel-integration-framework/v2/administer/migrate-config-data"
    )
    assert {card.doc_url for card in _cards(SCENARIOS["library-missing"])} == {MIGRATION_DOC_URL}


NAVIGATION_ERRORS = {
    "dns": (
        "Page.goto: net::ERR_NAME_NOT_RESOLVED at https://contso.crm.dynamics.com/main.aspx",
        "Org unreachable: its host name does not resolve",
        "spelling",
    ),
    "refused": (
        "Page.goto: net::ERR_CONNECTION_REFUSED at https://contoso.crm.dynamics.com/main.aspx",
        "Org unreachable: the connection was refused",
        "firewall or proxy",
    ),
    "tls": (
        "Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://contoso.crm.dynamics.com/main.aspx",
        "Org unreachable: its certificate was not accepted",
        "certificate",
    ),
    "reset": (
        "Page.goto: net::ERR_CONNECTION_RESET at https://contoso.crm.dynamics.com/main.aspx",
        "Org unreachable: the connection was cut",
        "firewall, proxy or VPN",
    ),
    "timeout": ("Page.goto: Timeout 60000ms exceeded.", "Org unreachable: no answer in time", "timeouts.navigation_ms"),
    "5xx": (
        "the org answered HTTP 503 (https://contoso.crm.dynamics.com/main.aspx)",
        "Org unavailable: it answered with a server error",
        "Retry later",
    ),
}


@pytest.mark.parametrize("mode", NAVIGATION_ERRORS)
def test_an_unreachable_org_is_classified_by_failure_mode_with_its_own_fix(mode: str):
    error, title, fix = NAVIGATION_ERRORS[mode]
    evidence = healthy_evidence()
    evidence.settings.config_file = "cfg/prod.json"
    evidence.navigation.app_ready, evidence.navigation.error = False, error
    signed_in = judge_target(evidence).checks[0]
    assert (signed_in.status, signed_in.title) == ("error", title)
    assert fix in signed_in.remediation
    assert "sign in" not in signed_in.remediation.lower() and "cifcheck login" not in signed_in.remediation


def test_a_dns_failure_names_the_host_to_check_and_the_config_it_comes_from():
    evidence = healthy_evidence()
    evidence.settings.config_file = "cfg/prod.json"
    evidence.navigation.requested_url = "https://contso.crm.dynamics.com/main.aspx?appname=x"
    evidence.navigation.app_ready, evidence.navigation.error = False, NAVIGATION_ERRORS["dns"][0]
    remediation = judge_target(evidence).checks[0].remediation
    assert "The host name contso.crm.dynamics.com did not resolve" in remediation
    assert "targets[].url of cfg/prod.json" in remediation


def test_the_failure_modes_have_different_fixes():
    fixes = set()
    for error, _, _ in NAVIGATION_ERRORS.values():
        evidence = healthy_evidence()
        evidence.navigation.app_ready, evidence.navigation.error = False, error
        fixes.add(judge_target(evidence).checks[0].remediation)
    assert len(fixes) == len(NAVIGATION_ERRORS)


def test_an_expired_session_of_a_real_org_names_the_config_where_credentials_go():
    evidence = healthy_evidence()
    evidence.settings.config_file = "cfg/prod.json"
    evidence.navigation.app_ready, evidence.navigation.sign_in_page = False, True
    evidence.navigation.final_url = "https://login.microsoftonline.com/common/oauth2/authorize"
    remediation = judge_target(evidence).checks[0].remediation
    assert "`cifcheck login --target contoso --config cfg/prod.json`" in remediation
    assert "auth.credentials in cfg/prod.json" in remediation


UNANSWERED_READS = [
    "HTTP 503 for msdyn_ciproviders",
    "no answer for msdyn_ciproviders within 10,000 ms",
    "the request for msdyn_ciproviders failed: net::ERR_CONNECTION_RESET",
    "msdyn_ciproviders not read: the Web API reads' time limit (20,000 ms) was reached",
]


@pytest.mark.parametrize("why", UNANSWERED_READS)
def test_cif_1_records_the_web_api_did_not_answer_are_not_told_to_sign_in_as_another_user(why: str):
    evidence = healthy_evidence()
    evidence.dataverse.v1_providers, evidence.dataverse.errors = None, {"msdyn_ciproviders": why}
    card = next(card for card in judge_target(evidence).checks if card.id == "cif.v1_absent")
    assert card.status == "error"
    assert "cifcheck login" not in card.remediation and "read access" not in card.remediation
    assert "retry" in card.remediation.lower()


def test_cif_1_records_refused_to_the_user_still_get_the_access_fix():
    evidence = healthy_evidence()
    refused = "HTTP 403: msdyn_ciproviders was refused (signed out, or the user may not read msdyn_ciproviders)"
    evidence.dataverse.v1_providers, evidence.dataverse.errors = None, {"msdyn_ciproviders": refused}
    card = next(card for card in judge_target(evidence).checks if card.id == "cif.v1_absent")
    assert "read access" in card.remediation and "cifcheck login" in card.remediation


def test_the_sign_in_command_a_fix_gives_quotes_a_config_path_a_shell_would_split():
    evidence = healthy_evidence()
    evidence.settings.config_file = "my configs/prod.json"
    evidence.navigation.app_ready, evidence.navigation.sign_in_page = False, True
    evidence.navigation.final_url = "https://login.microsoftonline.com/common/oauth2/authorize"
    remediation = judge_target(evidence).checks[0].remediation
    assert "`cifcheck login --target contoso --config 'my configs/prod.json'`" in remediation
