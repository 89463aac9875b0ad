"""Targets validated several at a time: each worker with its own browser, launched here or on a Playwright browser
server (`playwright run-server`); verdicts, and their order, those of a run one target at a time; a browser that
goes away loses only the targets it held."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator

import pytest
from playwright._impl._driver import compute_driver_executable

from cifcheck import remote, runner
from cifcheck.browser import find_browser
from cifcheck.config import Config, ConfigError, Target
from cifcheck.remote import playwright_version
from cifcheck.report import write_run
from cifcheck.results import TargetResult
from cifcheck.runner import RunOutput, default_workers, run
from cifcheck.sandbox.scenarios import SCENARIOS
from cifcheck.sandbox.server import SandboxServer
from tests.short_waits import SHORT_WAITS

pytestmark = pytest.mark.browser

# Eight targets, four kinds of verdict: healthy, a hidden panel, no library, no providers.
EIGHT = [
    "healthy-csw",
    "panel-hidden",
    "library-missing",
    "providers-empty",
    "healthy-omnichannel",
    "loader-missing",
    "panel-minimized",
    "several-providers",
]


# Short waits keep eight page loads to seconds; both runs compared wait alike.
QUICK = SHORT_WAITS


def _config(scenarios: list[str], **browser: object) -> Config:
    targets = [
        Target(name=f"t{n}-{name}", url=f"sandbox://{name}", app=SCENARIOS[name].app)
        for n, name in enumerate(scenarios)
    ]
    return Config(targets=targets, browser=browser, timeouts=QUICK)


def _differences(these: list[TargetResult], those: list[TargetResult]) -> list[tuple]:
    """Each check whose verdict differs: (target, check, this verdict, that one)."""
    return [
        (this[0], check[0], check[1:], other[1:])
        for this, that in zip(_verdicts(these), _verdicts(those), strict=True)
        for check, other in zip(this[1], that[1], strict=True)
        if check != other
    ]


def _verdicts(targets: list[TargetResult]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Per target, each check's status and reason, numbers left out (times and counts of the moment)."""
    return [(t.target, [(c.id, c.status, re.sub(r"\d[\d.,]*", "N", c.reason)) for c in t.checks]) for t in targets]


@pytest.fixture(scope="module")
def one_at_a_time(sandbox: SandboxServer) -> list[TargetResult]:
    return run(_config(EIGHT), sandbox=sandbox, workers=1).result.targets


class _Told:
    """A run's progress, as the terminal gets it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def target_started(self, number: int, total: int, name: str) -> None:
        self.lines.append(f"started {number}/{total} {name}")

    def phase(self, name: str) -> None:
        pass

    def target_finished(self, number: int, total: int, result: TargetResult) -> None:
        self.lines.append(f"finished {number}/{total} {result.target}")


@pytest.fixture(scope="module")
def four_at_a_time(sandbox: SandboxServer) -> tuple[RunOutput, _Told]:
    told = _Told()
    return run(_config(EIGHT), progress=told, sandbox=sandbox, workers=4), told


def test_eight_targets_four_at_a_time_get_the_verdicts_of_one_at_a_time(four_at_a_time, one_at_a_time):
    parallel, _ = four_at_a_time
    assert not _differences(parallel.result.targets, one_at_a_time)
    assert [e.target.name for e in parallel.evidence] == [t.target for t in one_at_a_time]


def test_progress_with_workers_is_told_in_config_order_each_target_started_then_finished(four_at_a_time):
    _, told = four_at_a_time
    names = [f"t{n}-{name}" for n, name in enumerate(EIGHT)]
    expected = [line for n, name in enumerate(names, 1) for line in (f"started {n}/8 {name}", f"finished {n}/8 {name}")]
    assert told.lines == expected


def test_a_browser_that_crashes_under_a_target_loses_only_that_target(sandbox, monkeypatch):
    gather = runner.gather

    def crashing(context, opened, config, info, phase=None):
        if opened.target.name.startswith("t0-"):
            with contextlib.suppress(Exception):  # the browser is gone, and its session with it
                context.browser.new_browser_cdp_session().send("Browser.crash")
        return gather(context, opened, config, info, phase)

    monkeypatch.setattr(runner, "gather", crashing)
    output = run(_config(["panel-hidden", "healthy-csw"]), sandbox=sandbox, workers=1)
    crashed = output.result.targets[0]
    assert crashed.status == "error"
    assert "browser closed during the run" in next(c.reason for c in crashed.checks if c.id == "session.signed_in")
    assert output.result.targets[1].status == "pass", "the next target gets a new browser"


def test_the_default_is_two_workers_per_cpu_at_most_one_per_target_and_sixteen(monkeypatch):
    monkeypatch.setattr(runner, "_available_memory", lambda: 64 * 1024**3)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_workers(_config(["healthy-csw"] * 40)) == 6
    assert default_workers(_config(["healthy-csw"] * 2)) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 32)
    assert default_workers(_config(["healthy-csw"] * 40)) == 16


def test_the_default_takes_no_more_browsers_than_the_memory_available_holds(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(runner, "_available_memory", lambda: 3 * runner.BROWSER_BYTES + 1)
    assert default_workers(_config(["healthy-csw"] * 40)) == 3
    monkeypatch.setattr(runner, "_available_memory", lambda: 0)
    assert default_workers(_config(["healthy-csw"] * 40)) == 1


def test_with_browser_servers_the_default_is_four_per_server():
    config = _config(["healthy-csw"] * 40, endpoints=["ws://a:1/", "ws://b:1/"])
    assert default_workers(config) == 8


# --- Playwright's browser server -----------------------------------------------------------------------------------


class BrowserServer:
    """`playwright run-server` of the Playwright cifcheck runs, in its own process group so that a test can kill it
    whole. Started with --unsafe: Playwright's own Chromium is not installed here, so the client names the system's
    (browser.executable_path), which a server takes only then."""

    def __init__(self, *options: str) -> None:
        node, cli = compute_driver_executable()
        self.process = subprocess.Popen(
            [node, cli, "run-server", "--port", "0", "--host", "127.0.0.1", "--unsafe", *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("Listening on "), line
        self.url = line.split()[-1]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def two_servers() -> Iterator[list[BrowserServer]]:
    servers = [BrowserServer(), BrowserServer()]
    yield servers
    for server in servers:
        server.kill()


def _on_servers(scenarios: list[str], urls: list[str]) -> Config:
    choice = find_browser()
    return _config(scenarios, endpoints=urls, executable_path=choice.executable_path)


class _KillsOnFirstFinish(_Told):
    def __init__(self, server: BrowserServer) -> None:
        super().__init__()
        self.server = server

    def target_finished(self, number: int, total: int, result: TargetResult) -> None:
        super().target_finished(number, total, result)
        self.server.kill()  # while the other workers' targets are still loading on it


def test_eight_targets_on_two_browser_servers_one_killed_mid_run_all_end_with_a_verdict(
    sandbox, two_servers, one_at_a_time, tmp_path
):
    config = _on_servers(EIGHT, [server.url for server in two_servers])
    output = run(config, progress=_KillsOnFirstFinish(two_servers[0]), sandbox=sandbox, workers=4)
    targets = output.result.targets
    assert len(targets) == 8 and not any(t.not_run for t in targets) and len(output.evidence) == 8
    assert not _differences(targets, one_at_a_time), "the killed server's targets were run again on the other"
    moved = [e.browser.source for e in output.evidence if "again, after" in e.browser.source]
    assert moved, [e.browser.source for e in output.evidence]
    run_dir = write_run(output.result, output.evidence, tmp_path)
    written = json.loads((run_dir / "result.json").read_text())
    assert [t["target"] for t in written["targets"]] == [t.target for t in one_at_a_time]
    assert len(list((run_dir / "evidence").iterdir())) == 8
    page = (run_dir / "index.html").read_text()
    assert all(t.target in page for t in one_at_a_time)


def test_a_browser_server_that_is_down_leaves_its_targets_to_the_others(sandbox, two_servers, one_at_a_time):
    two_servers[0].kill()
    config = _on_servers(EIGHT[:2], [server.url for server in two_servers])
    output = run(config, sandbox=sandbox, workers=2)
    assert _verdicts(output.result.targets) == _verdicts(one_at_a_time[:2])
    assert all(two_servers[1].url.rstrip("/") in e.browser.source for e in output.evidence)


def test_targets_with_every_browser_server_down_are_errors_naming_the_servers(sandbox, two_servers):
    for server in two_servers:
        server.kill()
    output = run(_on_servers(EIGHT[:2], [s.url for s in two_servers]), sandbox=sandbox, workers=2)
    assert [t.status for t in output.result.targets] == ["error", "error"]
    signed_in = next(c for c in output.result.targets[0].checks if c.id == "session.signed_in")
    assert "no browser server could take this target" in signed_in.reason
    assert "ECONNREFUSED" in signed_in.reason and "playwright run-server" in signed_in.remediation


def test_a_browser_server_of_another_playwright_version_is_said_plainly(sandbox, two_servers, monkeypatch):
    # The server tells a client's version by its User-Agent: an old one is answered HTTP 428, as a real mismatch is.
    def as_an_old_client(playwright, url, config):
        browser = playwright.chromium
        return browser.connect(url, headers={"user-agent": "Playwright/1.2.3 (x64) python/3.11"}, timeout=10_000)

    monkeypatch.setattr(runner, "connect", as_an_old_client)
    output = run(_on_servers(EIGHT[:1], [two_servers[0].url]), sandbox=sandbox, workers=1)
    reason = next(c.reason for c in output.result.targets[0].checks if c.id == "session.signed_in")
    server_version = ".".join(playwright_version().split(".")[:2])  # the test's server runs cifcheck's Playwright
    assert f"runs Playwright {server_version}, cifcheck runs Playwright" in reason
    assert "must run the same major.minor" in reason


def test_an_endpoint_that_is_not_a_websocket_url_is_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"endpoints\n.*\[1\]"):
        Config(targets=[Target(name="a", url="sandbox://healthy-csw")], browser={"endpoints": ["ws://a:1", "http://b"]})


def test_browser_servers_and_a_browser_to_attach_to_are_refused_together():
    with pytest.raises(ValueError, match="not both"):
        Config(
            targets=[Target(name="a", url="sandbox://healthy-csw")],
            browser={"endpoints": ["ws://a:1"], "cdp_endpoint": "http://127.0.0.1:9222"},
        )


def test_an_unknown_scenario_is_refused_before_any_worker_starts(sandbox):
    with pytest.raises(ConfigError, match="unknown sandbox scenario"):
        run(Config(targets=[Target(name="a", url="sandbox://no-such-org")]), sandbox=sandbox, workers=4)


def test_a_token_in_a_browser_servers_url_reaches_no_verdict(sandbox, two_servers):
    token = "s3cr3t-browserless-token-77f1"
    url = two_servers[0].url.rstrip("/") + f"/?token={token}"
    two_servers[0].kill()  # refused: its URL is in what Playwright says
    output = run(_on_servers(EIGHT[:1], [url]), sandbox=sandbox, workers=1)
    shown = output.result.model_dump_json() + output.evidence[0].model_dump_json()
    assert "ECONNREFUSED" in shown and token not in shown


def test_a_browser_server_that_queues_connections_past_its_clients_gets_its_targets_through_the_connected_one(
    sandbox, one_at_a_time, monkeypatch
):
    monkeypatch.setattr(remote, "CONNECT_MS", 2_000)  # the queued workers give up their wait sooner
    server = BrowserServer("--max-clients", "1")
    try:
        output = run(_on_servers(EIGHT[:3], [server.url]), sandbox=sandbox, workers=3)
    finally:
        server.kill()
    assert not _differences(output.result.targets, one_at_a_time[:3])
