"""The scenario catalogue as the end-to-end test table: cifcheck, in real Chromium, against every sandbox
scenario, must give the verdicts the scenario declares (status per check, and the key phrase of the reason).

The verdict matrix: every scenario on its own timeline, and a chosen set of scenarios under every other timing
profile (slow network, lazy extensions, a profile written in steps, a provider that changes mode after init). A
timing profile never changes what the org settles into, so the declared verdicts must hold under each. Cases run
concurrently, each worker with its own browser, against one sandbox server: most of a case is waiting.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from cifcheck.browser import find_browser, launch_options
from cifcheck.checks import REGISTRY
from cifcheck.config import Config, Target
from cifcheck.evidence import Evidence
from cifcheck.results import TargetResult
from cifcheck.runner import run
from cifcheck.sandbox.scenarios import DEFAULT_TIMING, SCENARIOS, TIMINGS

# The matrix is judged once, in the first test's set-up: minutes, not the 180 s a single test gets.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

# Under the other timing profiles: scenarios whose verdicts depend on when things happen (each broken kind once,
# the healthy apps, several providers). Left out: sign-in and 503 scenarios (no CIF timeline to vary) and the
# 300-provider profile (its cost is the browser's, once is enough).
TIMED = (
    "healthy-csw",
    "healthy-omnichannel",
    "library-missing",
    "providers-empty",
    "loader-missing",
    "panel-minimized",
    "panel-hidden",
    "widget-404",
    "trusted-domain-mismatch",
    "several-providers",
    "storage-keys-prefixed",
)
CASES = [(name, DEFAULT_TIMING) for name in SCENARIOS] + [
    (name, timing) for timing in TIMINGS if timing != DEFAULT_TIMING for name in TIMED
]
WORKERS = int(os.environ.get("CIFCHECK_TEST_WORKERS", "12"))  # most of a case is waiting: 12 beat 6 by 20 %

Outcome = tuple[TargetResult, Evidence]


def _worker(cases: queue.Queue, outcomes: dict, sandbox, failures: list) -> None:
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_options(find_browser(), True))
            while True:
                try:
                    name, timing = cases.get_nowait()
                except queue.Empty:
                    break
                scenario = SCENARIOS[name]
                config = Config(
                    targets=[Target(name=name, url=f"sandbox://{name}", app=scenario.app)],
                    sandbox={"timing": timing},
                )
                output = run(config, sandbox=sandbox, browser=browser)
                outcomes[(name, timing)] = (output.result.targets[0], output.evidence[0])
            browser.close()
    except Exception as error:  # surfaced by the fixture: a worker must not fail silently
        failures.append(error)


def _judge(cases: list[tuple[str, str]], workers: int, sandbox, outcomes: dict) -> None:
    waiting: queue.Queue = queue.Queue()
    for case in cases:
        waiting.put(case)
    failures: list[Exception] = []
    threads = [
        threading.Thread(target=_worker, args=(waiting, outcomes, sandbox, failures), daemon=True)
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@pytest.fixture(scope="module")
def matrix(sandbox) -> Iterator[dict[tuple[str, str], Outcome]]:
    """Every case judged once. The 300-provider profile first, on its own: its 300 frames keep both cores busy, and
    sharing them would test the machine rather than cifcheck. Then the rest, `WORKERS` at a time."""
    outcomes: dict[tuple[str, str], Outcome] = {}
    large = [case for case in CASES if "large" in SCENARIOS[case[0]].tags]
    _judge(large, 1, sandbox, outcomes)
    rest = sorted((case for case in CASES if case not in large), key=lambda case: "slow" not in SCENARIOS[case[0]].tags)
    _judge(rest, WORKERS, sandbox, outcomes)  # the slow ones first, so the workers finish together
    yield outcomes


@pytest.mark.parametrize(("scenario", "timing"), CASES, ids=[f"{name}@{timing}" for name, timing in CASES])
def test_verdicts_match_the_scenario(matrix, scenario: str, timing: str):
    result, evidence = matrix[(scenario, timing)]
    got = {c.id: c for c in result.checks}
    assert set(got) == set(REGISTRY)
    settled = evidence.observation.settled_by if evidence.observation else evidence.navigation.error
    for check_id, verdict in got.items():
        expected = SCENARIOS[scenario].expect[check_id]
        assert (check_id, verdict.status) == (check_id, expected.status), f"{verdict.reason} [{settled}]"
        assert expected.reason.lower() in verdict.reason.lower(), f"{check_id}: {verdict.reason}"


def test_validating_never_writes_to_the_org(matrix, sandbox):
    assert sandbox.app.state.write_attempts == []


def test_every_request_cifcheck_made_to_the_web_api_over_the_matrix_was_a_get(matrix, sandbox):
    reads = sandbox.app.state.outside_page_requests
    recorded = sum(len(evidence.dataverse.requests) for _, evidence in matrix.values() if evidence.dataverse)
    assert set(reads) == {"GET"}
    assert recorded > 7 * len(SCENARIOS)  # the records were read (a case that signs out reads none)
    assert reads["GET"] >= recorded  # the sandbox saw each of them (other tests may share this sandbox)


def test_a_late_mode_change_is_on_the_panel_timeline(matrix):
    _, evidence = matrix[("panel-minimized-late", DEFAULT_TIMING)]
    requests = [change.value for change in evidence.observation.mode_timeline if change.what == "setMode request"]
    states = [change.value for change in evidence.observation.mode_timeline if change.what == "panel frame"]
    assert requests == ["1", "0"]
    assert states[-2:] == ["docked", "minimized"]


def test_no_file_a_run_writes_holds_a_session_cookie_or_a_provider_token(matrix, sandbox, tmp_path):
    from cifcheck.report import write_run
    from cifcheck.results import RunResult

    result, healthy = matrix[("healthy-csw", DEFAULT_TIMING)]
    assert "[redacted]" in healthy.storage.values["channelProviders"], "the page did carry a token to redact"
    run_result = RunResult(
        run_id="t", cifcheck_version="t", started_at="t", duration_ms=0, browser="", targets=[result]
    )
    run_dir = write_run(run_result, [healthy], tmp_path)
    secrets = [*sandbox.app.state.sessions, "sandbox-widget-token-3f9a"]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) >= 4
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, f"{secret[:6]}... found in {path.relative_to(run_dir.parent)}"
