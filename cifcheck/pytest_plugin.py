"""cifcheck's checks as pytest items: `pytest --cifcheck playwright.config.json` collects one item per target and
check (`<config file>::<target>::<check id>`), runs each target once per worker in pytest-playwright's session
browser (through `cifcheck.runner.run`, as `cifcheck run` does), and writes cifcheck's own report, one run merged
across pytest-xdist workers. The `cifcheck_target` fixture gives users' own tests the same cached outcomes.

Without `--cifcheck` the plugin only declares its options: no other hook, no fixture, no cifcheck module loaded.
The items are in `pytest_items.py`, the runs and fixtures in `pytest_targets.py`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cifcheck import pytest_targets
from cifcheck.pytest_items import MARKER, CheckItem, CifcheckWarning, ConfigFile, failure_repr
from cifcheck.pytest_targets import RUNS, TargetRuns, VerdictShown, shown

if TYPE_CHECKING:  # only for annotations: cifcheck's modules are imported once --cifcheck is given
    from cifcheck.config import Config
    from cifcheck.evidence import Evidence
    from cifcheck.results import RunResult, TargetResult

__all__ = ["CifcheckWarning"]  # -W error::cifcheck.pytest_plugin.CifcheckWarning makes warnings fail

OPTION = "--cifcheck"
OUTPUT_OPTION = "--cifcheck-output"
# pytest-xdist modes that keep all of a target's items on one worker: loadgroup by the plugin's own scheduler (a
# target is a group), loadscope by the item's parent (the target), loadfile by the config file. The others split one.
GROUPING_MODES = ("loadgroup", "loadscope", "loadfile")
LOADGROUP_FOR_WORKERS = "cifcheck_loadgroup"  # workerinput: the controller made loadgroup the mode
WORKER_OUTPUT = "cifcheck"  # workeroutput: the targets a worker ran, for the controller's report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cifcheck", "cifcheck (Channel Integration Framework 2.0 migration checks)")
    group.addoption(
        OPTION,
        metavar="FILE",
        default=None,
        help="Collect one item per target and check of this cifcheck config file (e.g. playwright.config.json).",
    )
    group.addoption(
        OUTPUT_OPTION,
        metavar="DIR",
        default=None,
        help="Where cifcheck writes its report (default: the config's output_dir); never inside --output.",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption(OPTION)
    if path is None:
        return  # inert: the project's own suite loads the plugin too once it is installed
    plugin = CifcheckPlugin(config, path)
    config.addinivalue_line("markers", f"{MARKER}: a cifcheck check of one target (pytest --cifcheck FILE)")
    config.stash[RUNS] = plugin.runs
    config.pluginmanager.register(plugin, "cifcheck-session")
    config.pluginmanager.register(pytest_targets, "cifcheck-fixtures")


def _load(path: str) -> Config:
    """The config file as `cifcheck run --config FILE` reads and checks it; bad input is one line per problem."""
    from cifcheck.config import ConfigError
    from cifcheck.config_sources import config_in_use
    from cifcheck.runner import target_problems

    try:
        config = config_in_use(path)
        problems = target_problems(config)
    except ConfigError as error:
        problems = list(error.lines)
    else:
        label = config.source_file
        if config.browser.cdp_endpoint:
            problems.append(
                f"{label}: browser.cdp_endpoint: pytest runs the checks in pytest-playwright's browser; "
                "attach over CDP with `cifcheck run --cdp` instead"
            )
        if config.auth.user_data_dir:
            problems.append(
                f"{label}: auth.user_data_dir: pytest runs the checks in pytest-playwright's browser, not a "
                "persistent profile; use a saved session (auth.storage_state, `cifcheck login`) or `cifcheck run`"
            )
    if problems:
        raise _usage(*problems)
    return config


def _not_used_under_pytest(config: Config) -> list[str]:
    """What the config asks for that pytest's own fixtures and options do instead: said, not silently ignored."""
    label = config.source_file
    unused = []
    if config.browser.endpoints:
        unused.append(
            f"cifcheck: {label}: browser.endpoints is not used under pytest: the checks run in pytest-playwright's "
            "browser, on this machine (`cifcheck run` spreads targets over browser servers)"
        )
    if config.browser.workers:
        unused.append(f"cifcheck: {label}: browser.workers is not used under pytest: pytest-xdist's -n N is")
    if config.trace.mode != "off":
        unused.append(f"cifcheck: {label}: trace.mode is not used under pytest: pytest-playwright's --tracing is")
    return unused


def _usage(*lines: str) -> pytest.UsageError:
    from cifcheck.text import safe_text

    return pytest.UsageError(*(f"cifcheck: {safe_text(line)}" for line in lines))


def _reports_folder(pytest_config: pytest.Config, config: Config) -> Path:
    """cifcheck's reports folder: `--cifcheck-output`, else the config's output_dir; never inside pytest-playwright's
    --output folder, which it deletes at the start of every session (each xdist worker's too)."""
    from cifcheck.config import resolved
    from cifcheck.runner import reports_problems

    given = pytest_config.getoption(OUTPUT_OPTION)
    if given:
        option = OUTPUT_OPTION
        # reports_problems names `--output`, cifcheck run's own option: here that is pytest-playwright's.
        problems = [re.sub(r"^--output:", f"{OUTPUT_OPTION}:", line) for line in reports_problems(config, given)]
    else:
        option = f"{config.source_file}: output_dir"
        problems = [f"{config.source_file}: {line}" for line in reports_problems(config, None)]
    folder = given or config.output_dir
    artifacts = pytest_config.getoption("--output", None)
    if artifacts and resolved(folder).is_relative_to(resolved(artifacts)):
        problems.append(
            f"{option}: {folder} is inside pytest-playwright's --output folder {artifacts}, which it deletes at "
            f"the start of every session; write cifcheck's reports elsewhere ({OUTPUT_OPTION} DIR)"
        )
    if problems:
        raise _usage(*problems)
    return Path(folder)


def _dist_given(pytest_config: pytest.Config) -> bool:
    """Whether --dist (or -d, --dist load) was asked for, on the command line, in PYTEST_ADDOPTS or in addopts:
    pytest-xdist turns `-n N` alone into --dist load, which cannot be told apart from one asked for."""
    args = [
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *pytest_config.getini("addopts"),
        *pytest_config.invocation_params.args,
    ]
    return any(arg in ("--dist", "-d") or arg.startswith("--dist=") for arg in args)


def _file_nodeid(pytest_config: pytest.Config, path: str) -> str:
    """The config file's node id: its path from the rootdir, as pytest names files; else as given."""
    try:
        return Path(path).absolute().relative_to(pytest_config.rootpath).as_posix()
    except ValueError:
        return path


def target_scheduling(file_nodeid: str, pytest_config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's loadgroup scheduling, with each target of the config file a group of its own: every item of a
    target goes to one worker, so its page loads once. Grouped from the node id (`<file>::<target>::<check>`), not
    from an xdist_group mark: pytest-xdist 3.8 marks groups by editing node ids, which pytest 9.2 ignores
    (pytest-xdist#1386). A test of the user's own marked `xdist_group("<target>")` joins that target where
    pytest-xdist's marks work."""
    from xdist.scheduler import LoadGroupScheduling

    prefix = f"{file_nodeid}::"

    class TargetScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(prefix):
                return nodeid.removeprefix(prefix).split("::", 1)[0]  # target names hold no `::` (config.py)
            return super()._split_scope(nodeid)

    return TargetScheduling(pytest_config, log)


def _worker_order(worker_id: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", worker_id)
    return (int(digits) if digits else 0, worker_id)


class CifcheckPlugin:
    """Everything the plugin does once `--cifcheck FILE` is given."""

    def __init__(self, pytest_config: pytest.Config, path: str) -> None:
        self.pytest_config = pytest_config
        self.path = path
        self.file_nodeid = _file_nodeid(pytest_config, path)
        manager = pytest_config.pluginmanager
        if not (manager.hasplugin("playwright") or manager.hasplugin("pytest_playwright.pytest_playwright")):
            raise _usage(f"{OPTION}: needs pytest-playwright, whose browser it runs in: pip install pytest-playwright")
        self.config = _load(path)
        for unused in _not_used_under_pytest(self.config):
            pytest_config.issue_config_time_warning(pytest.PytestConfigWarning(unused), stacklevel=2)
        self.reports = _reports_folder(pytest_config, self.config)
        browsers = pytest_config.getoption("--browser", None) or []
        if any(name != "chromium" for name in browsers):
            raise _usage(
                f"--browser {' '.join(browsers)}: cifcheck checks in a Chromium-family browser only; leave --browser "
                "out (or give chromium), and use --browser-channel chrome or msedge for Chrome or Edge"
            )
        self.workers_group = self._distribution(pytest_config)
        self.worker = hasattr(pytest_config, "workerinput")
        if self.worker and pytest_config.workerinput.get(LOADGROUP_FOR_WORKERS):  # type: ignore[attr-defined]
            pytest_config.option.loadgroup = True  # as --dist loadgroup: xdist tells users' xdist_group marks
        tracing = pytest_config.getoption("--tracing", None) or "off"
        traces = Path(pytest_config.getoption("--output", None) or "test-results").absolute()
        self.runs = TargetRuns(self.config, tracing, traces)
        self.selected: list[str] = []
        self.exports: list[tuple[str, str]] = []  # (worker id, export), the controller's or this process's own
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.summary: list[str] = []

    def _distribution(self, pytest_config: pytest.Config) -> bool:
        """Whether this controller made --dist loadgroup the mode (-n without --dist), so its workers must group too.
        A mode that splits a target over workers is refused: it would load the target's page on each."""
        if hasattr(pytest_config, "workerinput") or not pytest_config.getoption("numprocesses", None):
            return False
        dist = pytest_config.getoption("dist", "no")
        if dist in ("no", *GROUPING_MODES):
            return False
        if dist == "load" and not _dist_given(pytest_config):
            pytest_config.option.dist = "loadgroup"
            return True
        raise _usage(
            f"--dist {dist}: it spreads a target's checks over several workers, each loading its page; with "
            f"{OPTION}, leave --dist out (-n alone means loadgroup) or give one of {', '.join(GROUPING_MODES)}"
        )

    # collection

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        targets = len(self.config.targets)
        lines = [f"cifcheck: {self.path}, {targets} target{'s' * (targets != 1)}; report to {self.reports}"]
        return lines + [f"cifcheck: note: {shown(note)}" for note in self.config.notes]

    @pytest.hookimpl(tryfirst=True)  # before -k, -m and --deselect see the items
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        path = Path(self.path).absolute()
        node = ConfigFile.from_parent(session, path=path, nodeid=self.file_nodeid, cifcheck_config=self.config)
        items[:0] = list(session.genitems(node))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        chosen = {item.target.name for item in session.items if isinstance(item, CheckItem)}
        self.selected = [target.name for target in self.config.targets if target.name in chosen]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, VerdictShown) and report.failed:
            report.longrepr = failure_repr(error, item.path)
        elif isinstance(error, CifcheckWarning) and report.failed:  # -W error: a warning made a failure
            report.longrepr = failure_repr(VerdictShown(str(error), [str(error)]), item.path)
        elif isinstance(item, CheckItem) and report.skipped and isinstance(report.longrepr, tuple):
            # A skip is located where pytest.skip was called, in the plugin: the target is in the config file.
            report.longrepr = (item.location[0], item.target_line, report.longrepr[2])
        return report

    # pytest-xdist: workers send what they ran, the controller writes one report

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        return target_scheduling(self.file_nodeid, config, log) if config.getoption("dist") == "loadgroup" else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[LOADGROUP_FOR_WORKERS] = self.workers_group

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        exported = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if exported:
            self.exports.append((node.gateway.id, exported))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        own = self.runs.export(self.selected)
        if self.worker:
            self.pytest_config.workeroutput[WORKER_OUTPUT] = own  # type: ignore[attr-defined]
            return
        if self.pytest_config.option.collectonly:
            return
        self.exports.append(("", own))
        self._write(exitstatus == pytest.ExitCode.INTERRUPTED)

    def _write(self, interrupted: bool) -> None:
        from cifcheck import __version__
        from cifcheck.checks import all_checks
        from cifcheck.report import DEFAULT_KEEP_RUNS, write_run
        from cifcheck.results import RunResult, not_run_target
        from cifcheck.runner import new_run_id

        merged = Merged(self.exports)
        targets: list[TargetResult] = []
        evidence: list[Evidence] = []
        for target in self.config.targets:
            if target.name in merged.chosen:
                targets.append(merged.chosen[target.name][1])
                evidence.append(merged.chosen[target.name][2])
            elif target.name in merged.selected and target.name not in merged.unrun:  # Ctrl-C, -x, a worker died
                picked = [(c.id, c.title) for c in all_checks() if target.checks is None or c.id in target.checks]
                targets.append(not_run_target(target.name, target.url, target.app, picked))
        self.summary += [f"cifcheck: {name} could not be run: {shown(why)}" for name, why in merged.unrun.items()]
        if not targets:
            self.summary.append("cifcheck: no target ran; no report written")
            return
        run = RunResult(
            run_id=new_run_id(self.started_at),
            cifcheck_version=__version__,
            started_at=self.started_at.isoformat(timespec="seconds"),
            duration_ms=round((time.monotonic() - self.started) * 1000, 1),
            browser=merged.browser,
            targets=targets,
            # Ctrl-C, and also -x, --maxfail or a worker that died: a target left not run makes the run an
            # interrupted one (exit code 130 in result.json, never a baseline), as `cifcheck run` writes it.
            interrupted=interrupted or any(target.not_run for target in targets),
        )
        keep = self.config.history.keep_runs
        try:
            written = write_run(run, evidence, self.reports, DEFAULT_KEEP_RUNS if keep is None else keep)
        except OSError as error:
            self.summary.append(f"cifcheck: cannot write the report to {self.reports}: {error.strerror or error}")
            return
        self.summary.append(f"cifcheck: report {written / 'index.html'} ({_counted(run)})")
        if merged.loaded_again:
            self.summary.append(
                f"cifcheck: loaded on more than one worker: {', '.join(merged.loaded_again)} (a test of yours using "
                "cifcheck_target ran on another worker than the target's items); the report keeps one run of each"
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker or not self.summary:
            return
        terminalreporter.section("cifcheck")
        for line in self.summary:
            terminalreporter.write_line(line)


class Merged:
    """The targets every process ran (`TargetRuns.export`), one run of each: the one an item of the target ran
    (not only a test of the user's own), from the first worker."""

    def __init__(self, exports: list[tuple[str, str]]) -> None:
        from cifcheck.evidence import Evidence
        from cifcheck.results import TargetResult

        self.chosen: dict[str, tuple[bool, TargetResult, Evidence]] = {}
        self.selected: set[str] = set()
        self.unrun: dict[str, str] = {}  # target -> why it could not be run
        self.browser = ""
        loads: dict[str, int] = {}
        for _worker, exported in sorted(exports, key=lambda pair: _worker_order(pair[0])):
            data = json.loads(exported)
            self.browser = self.browser or data["browser"]
            self.selected.update(data["selected"])
            self.unrun.update(data["unrun"])
            for entry in data["targets"]:
                name = entry["name"]
                loads[name] = loads.get(name, 0) + 1
                if name not in self.chosen or (entry["for_items"] and not self.chosen[name][0]):
                    result = TargetResult.model_validate_json(entry["result"])
                    self.chosen[name] = (entry["for_items"], result, Evidence.model_validate_json(entry["evidence"]))
        self.loaded_again = [name for name, count in loads.items() if count > 1]


def _counted(run: RunResult) -> str:
    targets = len(run.targets)
    by_status: dict[str, int] = {}
    for target in run.targets:
        if not target.not_run:
            by_status[target.status] = by_status.get(target.status, 0) + 1
    counts = [f"{by_status[s]} {s}" for s in ("fail", "error", "warn", "pass", "skip") if by_status.get(s)]
    not_run = len(run.not_run)
    counts += [f"{not_run} not run"] if not_run else []
    return f"{targets} target{'s' * (targets != 1)}: {', '.join(counts)}"
