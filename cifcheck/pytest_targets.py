"""The pytest plugin's target runs: each target run at most once per process (one page load), in pytest-playwright's
session browser, through `cifcheck.runner.run`; its outcome cached for every item and every test that asks (the
`cifcheck_target` fixture). The fixtures here are registered only when `--cifcheck FILE` is given."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # only for annotations: cifcheck's modules are imported once --cifcheck is given
    from playwright.sync_api import Browser, BrowserContext

    from cifcheck.config import Config, Target
    from cifcheck.evidence import Evidence
    from cifcheck.results import CheckResult, Status, TargetResult
    from cifcheck.sandbox.server import SandboxServer

SHOWN_MAX = 1_000  # characters of a reason or fix shown in an item's report (the HTML report has all of it)


class VerdictShown(Exception):
    """An item outcome shown as cifcheck words it (a headline and lines), never as a Python traceback."""

    def __init__(self, headline: str, lines: Sequence[str]) -> None:
        super().__init__(headline)
        self.headline, self.lines = headline, tuple(lines)


class CheckFailed(VerdictShown):
    """The check failed: the org is wrong."""


class CouldNotDecide(VerdictShown):
    """cifcheck could not decide (the check's verdict is `error`, or the target could not be run): a pytest error,
    never a failure."""


def shown(text: str) -> str:
    """Page text (a reason can quote a page) made inert for the terminal and JUnit, and kept short."""
    from cifcheck.text import safe_text

    return safe_text(text, limit=SHOWN_MAX)


@dataclass(frozen=True)
class TargetOutcome:
    """One target as cifcheck judged it: the verdicts (`result`) and every fact gathered (`evidence`)."""

    result: TargetResult
    evidence: Evidence

    @property
    def status(self) -> Status:
        """The target's worst verdict: pass, fail, warn, skip or error."""
        return self.result.status

    def check(self, check_id: str) -> CheckResult:
        """The verdict on one check (`panel.docked`); KeyError naming the checks judged when it was not."""
        for check in self.result.checks:
            if check.id == check_id:
                return check
        judged = ", ".join(check.id for check in self.result.checks)
        raise KeyError(f"{self.result.target} has no verdict on {check_id!r} (judged: {judged})")


class _TracedBrowser:
    """The session browser, each context the runner opens traced as pytest-playwright's --tracing does: a trace
    starts with the context and is saved to `trace_file` just before the runner closes it."""

    def __init__(self, browser: Browser, trace_file: Path, title: str) -> None:
        self._browser, self._trace_file, self._title = browser, trace_file, title

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def new_context(self, **options: Any) -> BrowserContext:
        from playwright.sync_api import Error as PlaywrightError

        context = self._browser.new_context(**options)
        context.tracing.start(title=self._title, screenshots=True, snapshots=True, sources=True)
        close = context.close

        def close_after_saving(*args: Any, **kwargs: Any) -> None:
            with contextlib.suppress(PlaywrightError):  # a crashed browser leaves no trace to save
                context.tracing.stop(path=self._trace_file)
            close(*args, **kwargs)

        context.close = close_after_saving  # type: ignore[method-assign]  # pytest-playwright wraps close the same way
        return context


class TargetRuns:
    """This process's target runs: each target at most once (one page load), its outcome cached for every item and
    test that asks; the sandbox org started on the first sandbox:// target and stopped with the session."""

    def __init__(self, config: Config, tracing: str, traces_dir: Path) -> None:
        self.config = config
        self.outcomes: dict[str, TargetOutcome] = {}
        self.for_items: set[str] = set()  # targets an item of this process asked for (not only a user's test)
        self.browser_name = ""
        self._problems: dict[str, Exception] = {}
        self._tracing, self._traces_dir = tracing, traces_dir
        self._sandbox: SandboxServer | None = None

    def target(self, name: str) -> Target:
        for target in self.config.targets:
            if target.name == name:
                return target
        from cifcheck.config_sources import config_label

        known = ", ".join(target.name for target in self.config.targets)
        pytest.fail(f"cifcheck_target: no target named {name!r} in {config_label(self.config)} ({known})", False)

    def outcome(self, name: str, browser: Callable[[], Browser], for_item: bool = False) -> TargetOutcome:
        target = self.target(name)
        if for_item:
            self.for_items.add(name)
        if name in self._problems:
            raise self._problems[name]
        if name not in self.outcomes:
            try:
                self.outcomes[name] = self._run(target, browser)
            except Exception as problem:  # CouldNotDecide, or a bug: either way one attempt (one page load)
                self._problems[name] = problem
                raise
        return self.outcomes[name]

    def _run(self, target: Target, browser: Callable[[], Browser]) -> TargetOutcome:
        from playwright.sync_api import Error as PlaywrightError

        from cifcheck import runner  # looked up at each call: the runner's `run` is the one interface used
        from cifcheck.browser import BrowserNotFound
        from cifcheck.config import ConfigError
        from cifcheck.config_sources import config_label
        from cifcheck.report import verified

        try:
            running = browser()
        except BrowserNotFound as error:
            raise _could_not_run(target, f"no browser: {error}") from None
        except PlaywrightError as error:
            raise _could_not_run(target, f"the browser did not start: {_first_line(error)}") from None
        sandbox = self._sandbox_server() if target.is_sandbox else None
        given: Browser | _TracedBrowser = running
        trace = None
        if self._tracing != "off":
            trace = Path(tempfile.mkdtemp(prefix="cifcheck-trace-"), "trace.zip")
            given = _TracedBrowser(running, trace, f"cifcheck {target.name}")
        just_this = self.config.model_copy(update={"targets": [target]})
        try:
            output = runner.run(just_this, sandbox=sandbox, browser=given)  # type: ignore[arg-type]
        except ConfigError as error:  # found once the browser could tell (a selector that does not compile)
            raise _could_not_run(target, *(f"{config_label(self.config)}: {line}" for line in error.lines)) from None
        except PlaywrightError as error:
            raise _could_not_run(target, f"the browser failed: {_first_line(error)}") from None
        if output.result.interrupted:
            raise KeyboardInterrupt  # Ctrl-C reached the run, which kept it: pytest must stop too
        result = verified(output.result.targets[0])
        self.browser_name = self.browser_name or output.result.browser
        if trace is not None:
            self._keep_trace(target, trace, result)
        return TargetOutcome(result, output.evidence[0])

    def _sandbox_server(self) -> SandboxServer:
        if self._sandbox is None:
            from cifcheck.sandbox.server import SandboxServer

            self._sandbox = SandboxServer(latency_ms=self.config.sandbox.latency_ms).start()
        return self._sandbox

    def _keep_trace(self, target: Target, trace: Path, result: TargetResult) -> None:
        """`--tracing on` keeps every target's trace, `retain-on-failure` a target's with a fail or an error, in
        pytest-playwright's output folder (`<--output>/cifcheck-<target>/trace.zip`)."""
        if trace.exists() and (self._tracing == "on" or result.counts["fail"] or result.counts["error"]):
            # The name as it is: a config's target names are file names already (letters, digits, `.`, `_`, `-`),
            # and slugified, `contoso.eu` and `contoso-eu` would share one folder (the config refuses names that differ
            # only in case).
            kept = self._traces_dir / f"cifcheck-{target.name}" / "trace.zip"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(trace, kept)
        shutil.rmtree(trace.parent, ignore_errors=True)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None

    def export(self, selected: Sequence[str]) -> str:
        """What this process ran, as text for pytest-xdist's workeroutput (which carries only plain values)."""
        return json.dumps(
            {
                "browser": self.browser_name,
                "selected": list(selected),
                # Targets that could not be run at all (no browser, a bug): the report has no verdicts on them.
                "unrun": {name: str(problem) for name, problem in self._problems.items()},
                "targets": [
                    {
                        "name": name,
                        "for_items": name in self.for_items,
                        "result": outcome.result.model_dump_json(),
                        "evidence": outcome.evidence.model_dump_json(),
                    }
                    for name, outcome in self.outcomes.items()
                ],
            }
        )


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["no message"])[0]


def _could_not_run(target: Target, *why: str) -> CouldNotDecide:
    from cifcheck.redact import redact_text

    said = [shown(redact_text(line)) for line in why]  # Playwright's messages can quote a URL the page was at
    lines = [f"ERROR (could not decide) {target.name}: {line}" for line in said]
    return CouldNotDecide(f"could not decide: {said[0]}", [*lines, "`cifcheck doctor` checks the set-up."])


class TargetLookup:
    """What the `cifcheck_target` fixture gives a test: `cifcheck_target("contoso-prod")` is that target's
    `TargetOutcome`, run on first use in this worker and cached for every later item and test."""

    def __init__(self, runs: TargetRuns, browser: Callable[[], Browser]) -> None:
        self._runs, self._browser = runs, browser

    def __call__(self, name: str) -> TargetOutcome:
        return self._runs.outcome(name, self._browser)

    def for_item(self, name: str) -> TargetOutcome:
        return self._runs.outcome(name, self._browser, for_item=True)


# Registered as a plugin (a module of fixtures) only with --cifcheck: without it, no fixture changes.
RUNS = pytest.StashKey["TargetRuns"]()


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config, browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options (--headed, --browser-channel, --slowmo, a conftest's own), with the browser
    cifcheck finds (browser.executable_path, CIFCHECK_BROWSER, browser.channel, Chrome or Edge, Playwright's Chromium,
    a system Chromium) when they name none, and cifcheck's flags (quiet background networking; --no-sandbox as root).
    Headless unless --headed, or the config's browser.headless says otherwise."""
    from cifcheck.browser import find_browser, launch_args, launch_options

    config = pytestconfig.stash[RUNS].config
    chosen = dict(browser_type_launch_args)
    headless = chosen.pop("headless", config.browser.headless)
    if chosen.get("channel") or chosen.get("executable_path"):
        flags = launch_args([*config.browser.args, *chosen.get("args", [])])
        return {**chosen, "headless": headless, "args": list(flags)}
    found = launch_options(find_browser(config.browser), headless)
    return {**chosen, **found, "args": [*found["args"], *chosen.get("args", [])]}


@pytest.fixture(scope="session")
def _cifcheck_runs(pytestconfig: pytest.Config) -> Iterator[TargetRuns]:
    runs = pytestconfig.stash[RUNS]
    yield runs
    runs.close()


@pytest.fixture
def cifcheck_target(request: pytest.FixtureRequest, _cifcheck_runs: TargetRuns) -> TargetLookup:
    """`cifcheck_target("name")`: that target's TargetOutcome (its result and evidence), run once per worker."""
    return TargetLookup(_cifcheck_runs, lambda: request.getfixturevalue("browser"))
