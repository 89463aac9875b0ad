"""The pytest plugin, as a user runs it: pytest in a subprocess, in a temp project with its own config file. The plugin
is loaded with `-p cifcheck.pytest_plugin` unless the installed cifcheck already declares its entry point (then pytest
loads it by itself, and a second `-p` would register it twice)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from cifcheck.checks import ORDER
from cifcheck.pytest_items import item_verdict
from cifcheck.report.history import RUN_ID
from cifcheck.results import CheckResult, TargetResult

WORKTREE = Path(__file__).resolve().parents[1]
INSTALLED = any(ep.name == "cifcheck" for ep in entry_points(group="pytest11"))
PLUGIN = [] if INSTALLED else ["-p", "cifcheck.pytest_plugin"]
APP = "msdyn_CustomerServiceWorkspace"
# Short windows: these scenarios settle at once, and the verdicts are the same (the end-to-end matrix uses defaults).
FAST = {"observe_ms": 300, "absence_ms": 1_000}
# A failure, a warning beside passes (two checks only: the target's `checks` is honoured), and could-not-decide.
TARGETS = [
    {"name": "hidden", "url": "sandbox://panel-hidden", "app": APP},
    {
        "name": "cif1",
        "url": "sandbox://cif1-still-active",
        "app": APP,
        "checks": ["cif.v1_absent", "console.cif_errors"],
    },
    {"name": "out", "url": "sandbox://signed-out", "app": APP},
]
# Counts every runner.run call of every pytest process, by target: one call is one page load.
COUNTING_CONFTEST = """
import os

import cifcheck.runner as runner

_run = runner.run


def _counting_run(config, *args, **kwargs):
    with open(os.environ["CIFCHECK_TEST_LOADS"], "a", encoding="utf-8") as log:
        log.writelines(f"{target.name} {os.getpid()}\\n" for target in config.targets)
    return _run(config, *args, **kwargs)


runner.run = _counting_run
"""


def _project(folder: Path, targets: list[dict], **files: str) -> Path:
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # the project's own rootdir, nothing inherited
    (folder / "cfg.json").write_text(json.dumps({"targets": targets, "timeouts": FAST}), encoding="utf-8")
    (folder / "conftest.py").write_text(COUNTING_CONFTEST, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _pytest(project: Path, *args: str, plugin: list[str] = PLUGIN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CIFCHECK_TEST_"))}
    env |= {"PYTHONPATH": str(WORKTREE), "CIFCHECK_TEST_LOADS": str(project / "loads.log")}
    command = [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=150)


def _loads(project: Path) -> list[tuple[str, str]]:
    log = project / "loads.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [tuple(line.split()) for line in lines]  # type: ignore[misc]


def _run_folders(reports: Path) -> list[Path]:
    return [entry for entry in reports.iterdir() if RUN_ID.fullmatch(entry.name)]


def _expected_items() -> list[tuple[str, str]]:
    return [(t["name"], check) for t in TARGETS for check in ORDER if "checks" not in t or check in t["checks"]]


@dataclass
class Run:
    project: Path
    process: subprocess.CompletedProcess[str]

    @property
    def output(self) -> str:
        return self.process.stdout + self.process.stderr

    @property
    def report(self) -> dict:
        (run,) = _run_folders(self.project / "reports")
        return json.loads((run / "result.json").read_text(encoding="utf-8"))

    def junit_cases(self) -> dict[tuple[str, str], ET.Element]:
        """pytest's JUnit testcases of cifcheck's items, by (target, check id)."""
        cases = ET.parse(self.project / "j.xml").getroot().iter("testcase")
        return {
            (case.get("classname", "").removeprefix("cfg.json."), case.get("name", "")): case
            for case in cases
            if case.get("classname", "").startswith("cfg.json.")
        }


@pytest.fixture(scope="module")
def on_two_workers(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One run of the three targets on two pytest-xdist workers, with no --dist given."""
    project = _project(tmp_path_factory.mktemp("plugin-xdist"), TARGETS)
    process = _pytest(project, "--cifcheck", "cfg.json", "-n", "2", "--junitxml=j.xml", "-rA")
    return Run(project, process)


@pytest.fixture(scope="module")
def with_a_users_test(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One process: a target that could not be decided, its items, a test of the user's own using cifcheck_target,
    and pytest-playwright's --tracing."""
    users_test = """
def test_the_session_expired(cifcheck_target):
    outcome = cifcheck_target("out")
    assert outcome.status == "error"
    assert outcome.check("session.signed_in").status == "error"
    assert outcome.evidence.navigation.sign_in_page


def test_an_unknown_target(cifcheck_target):
    cifcheck_target("nowhere")
"""
    project = _project(tmp_path_factory.mktemp("plugin-users-test"), TARGETS[2:], **{"test_mine.py": users_test})
    process = _pytest(project, "--cifcheck", "cfg.json", "--tracing", "retain-on-failure", "--junitxml=j.xml")
    return Run(project, process)


def test_the_plugin_is_declared_as_a_pytest11_entry_point():
    project = tomllib.loads((WORKTREE / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["pytest11"] == {"cifcheck": "cifcheck.pytest_plugin"}


def test_without_the_option_the_plugin_loads_no_cifcheck_module_and_registers_nothing(tmp_path: Path):
    plain_test = """
import sys


def test_nothing_of_cifcheck_is_at_work(request):
    loaded = {name for name in sys.modules if name.partition(".")[0] == "cifcheck"}
    assert loaded == {"cifcheck", "cifcheck.pytest_plugin", "cifcheck.pytest_items", "cifcheck.pytest_targets"}
    assert request.config.pluginmanager.get_plugin("cifcheck-session") is None
"""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_plain.py").write_text(plain_test, encoding="utf-8")
    process = _pytest(tmp_path, "-q")
    assert process.returncode == 0, process.stdout + process.stderr
    assert "1 passed" in process.stdout


def test_without_the_option_the_fixtures_are_those_of_pytest_playwright_alone(tmp_path: Path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")

    def listed(plugin: list[str]) -> list[str]:
        return _pytest(tmp_path, "--fixtures", "-q", plugin=plugin).stdout.splitlines()[:-1]  # not "ran in 0.01s"

    with_plugin = "\n".join(listed(PLUGIN))
    without = "\n".join(listed(["-p", "no:cifcheck"] if INSTALLED else []))
    assert "browser_type_launch_args" in with_plugin
    assert "cifcheck" not in with_plugin
    assert with_plugin == without


def test_items_are_each_target_times_its_checks_in_config_order(tmp_path: Path):
    project = _project(tmp_path, TARGETS)
    process = _pytest(project, "--cifcheck", "cfg.json", "--collect-only", "-q")
    assert process.returncode == 0, process.stdout + process.stderr
    collected = [line for line in process.stdout.splitlines() if line.startswith("cfg.json::")]
    assert collected == [f"cfg.json::{target}::{check}" for target, check in _expected_items()]


def test_a_bad_config_file_is_one_line_naming_the_file_and_field(tmp_path: Path):
    (tmp_path / "broken.json").write_text(json.dumps({"targets": [{"name": "a", "url": "sandbox://x", "colour": 1}]}))
    process = _pytest(tmp_path, "--cifcheck", "broken.json")
    assert process.returncode == pytest.ExitCode.USAGE_ERROR
    assert process.stderr.strip() == "ERROR: cifcheck: broken.json: targets[0].colour: unknown field"
    assert "Traceback" not in process.stdout + process.stderr


def test_a_report_folder_inside_pytest_playwrights_output_is_refused(tmp_path: Path):
    project = _project(tmp_path, TARGETS)
    process = _pytest(project, "--cifcheck", "cfg.json", "--cifcheck-output", "test-results/cifcheck")
    assert process.returncode == pytest.ExitCode.USAGE_ERROR
    assert process.stderr.strip() == (
        "ERROR: cifcheck: --cifcheck-output: test-results/cifcheck is inside pytest-playwright's --output folder "
        "test-results, which it deletes at the start of every session; write cifcheck's reports elsewhere "
        "(--cifcheck-output DIR)"
    )


def test_a_dist_mode_that_splits_a_target_over_workers_is_refused(tmp_path: Path):
    project = _project(tmp_path, TARGETS)
    process = _pytest(project, "--cifcheck", "cfg.json", "-n", "2", "--dist", "load")
    assert process.returncode == pytest.ExitCode.USAGE_ERROR
    assert process.stderr.startswith("ERROR: cifcheck: --dist load: it spreads a target's checks over several workers")
    assert not _loads(project)


def test_a_target_that_cannot_be_run_errs_in_one_line_and_stays_out_of_the_report(tmp_path: Path):
    project = _project(tmp_path, TARGETS[2:])
    config = json.loads((project / "cfg.json").read_text(encoding="utf-8"))
    config["browser"] = {"executable_path": "/bin/true"}  # found, and no browser: the launch fails
    (project / "cfg.json").write_text(json.dumps(config), encoding="utf-8")
    process = _pytest(project, "--cifcheck", "cfg.json", "-q")
    errors = [line for line in process.stdout.splitlines() if line.startswith("ERROR (could not decide) out: ")]
    assert len(errors) == len(ORDER), process.stdout
    assert all("the browser did not start: " in line for line in errors)
    assert "Traceback" not in process.stdout + process.stderr
    assert "cifcheck: out could not be run: could not decide: the browser did not start" in process.stdout
    assert not (project / "reports").exists()


@pytest.mark.browser
def test_on_two_workers_each_target_loads_once(on_two_workers: Run):
    loads = _loads(on_two_workers.project)
    assert Counter(name for name, _ in loads) == {target["name"]: 1 for target in TARGETS}, on_two_workers.output
    assert len({pid for _, pid in loads}) == 2  # both workers took targets


@pytest.mark.browser
def test_pytests_junit_has_the_verdicts_cifcheck_gives(on_two_workers: Run):
    verdicts = {(t["target"], c["id"]): c for t in on_two_workers.report["targets"] for c in t["checks"]}
    cases = on_two_workers.junit_cases()
    assert sorted(cases) == sorted(_expected_items()) == sorted(verdicts)
    kinds = {"fail": "failure", "error": "error", "skip": "skipped", "pass": None, "warn": None}
    for key, case in cases.items():
        check = verdicts[key]
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), None)
        assert outcome == kinds[check["status"]], key
        assert case.find("properties/property[@name='cifcheck.status']").get("value") == check["status"], key
        if check["status"] == "fail":
            assert case.find("failure").get("message") == check["reason"]
    assert {verdicts[key]["status"] for key in cases} == {"fail", "warn", "error", "pass", "skip"}


@pytest.mark.browser
def test_a_failing_item_shows_the_reason_and_the_fix_and_no_traceback(on_two_workers: Run):
    output = on_two_workers.output
    assert "FAIL hidden panel.docked: Communication panel not docked" in output
    assert "Fix: The channel provider must call Microsoft.CIFramework.setMode(1)" in output
    assert "Traceback" not in output
    assert "pytest_plugin.py" not in output and "pytest_items.py" not in output


@pytest.mark.browser
def test_could_not_decide_is_an_error_apart_from_failures(on_two_workers: Run):
    assert on_two_workers.process.returncode == pytest.ExitCode.TESTS_FAILED
    summary = on_two_workers.process.stdout.splitlines()[-1]
    assert " 1 failed," in summary and " 1 error " in summary, summary
    assert "ERROR cfg.json::out::session.signed_in - could not decide:" in on_two_workers.process.stdout


@pytest.mark.browser
def test_a_warning_passes_with_a_cifcheck_warning(on_two_workers: Run):
    stdout = on_two_workers.process.stdout
    assert "PASSED cfg.json::cif1::cif.v1_absent" in stdout
    assert "CifcheckWarning: WARN cif1 cif.v1_absent: CIF 1.0 is still active beside 2.0" in stdout


@pytest.mark.browser
def test_cifchecks_own_report_is_one_run_of_every_target(on_two_workers: Run):
    report = on_two_workers.report
    assert [target["target"] for target in report["targets"]] == [target["name"] for target in TARGETS]
    (run,) = _run_folders(on_two_workers.project / "reports")
    assert sorted(path.name for path in (run / "evidence").iterdir()) == sorted(f"{t['name']}.json" for t in TARGETS)
    assert f"cifcheck: report reports/{run.name}/index.html (3 targets: 1 fail, 1 error, 1 warn)" in (
        on_two_workers.process.stdout
    )


@pytest.mark.browser
def test_a_users_test_reads_the_outcome_the_items_loaded(with_a_users_test: Run):
    cases = {
        case.get("name"): case for case in ET.parse(with_a_users_test.project / "j.xml").getroot().iter("testcase")
    }
    assert not list(cases["test_the_session_expired"]), with_a_users_test.output  # passed
    assert [name for name, _ in _loads(with_a_users_test.project)] == ["out"]


@pytest.mark.browser
def test_an_unknown_target_name_fails_a_users_test_in_one_line(with_a_users_test: Run):
    stdout = with_a_users_test.process.stdout
    assert "cifcheck_target: no target named 'nowhere' in cfg.json (out)" in stdout


@pytest.mark.browser
def test_tracing_keeps_the_trace_of_a_target_that_erred(with_a_users_test: Run):
    assert (with_a_users_test.project / "test-results" / "cifcheck-out" / "trace.zip").stat().st_size > 0


def _check(check_id: str, status: str, reason: str = "why") -> CheckResult:
    return CheckResult(id=check_id, title=f"{check_id} title", status=status, reason=reason, remediation="do this")  # type: ignore[arg-type]


def test_a_check_skipped_behind_an_unselected_prerequisite_that_erred_shows_that_error():
    result = TargetResult(
        target="t",
        url="sandbox://signed-out",
        app=APP,
        checks=[_check("session.signed_in", "error", "expired"), _check("panel.docked", "skip")],
    )
    verdict = item_verdict(result, "panel.docked", ["panel.docked"])
    assert (verdict.outcome, verdict.status) == ("error", "skip")
    assert verdict.lines[:2] == (
        "ERROR (could not decide) t panel.docked: not checked: its prerequisite session.signed_in (not in this "
        "target's checks) is error",
        "session.signed_in: expired",
    )


def test_a_check_skipped_behind_a_selected_prerequisite_is_a_skip():
    result = TargetResult(
        target="t",
        url="sandbox://library-missing",
        app=APP,
        checks=[_check("cif.library_loaded", "fail"), _check("panel.docked", "skip", "not checked")],
    )
    verdict = item_verdict(result, "panel.docked", ["cif.library_loaded", "panel.docked"])
    assert (verdict.outcome, verdict.headline) == ("skip", "not checked")


def test_settings_pytest_does_not_use_are_said_in_a_warning_not_ignored(tmp_path: Path):
    project = _project(tmp_path, TARGETS)
    config = json.loads((project / "cfg.json").read_text())
    config |= {"browser": {"endpoints": ["ws://127.0.0.1:9/"], "workers": 2}, "trace": {"mode": "on", "dir": "t"}}
    (project / "cfg.json").write_text(json.dumps(config))
    process = _pytest(project, "--cifcheck", "cfg.json", "--collect-only", "-q")
    assert process.returncode == 0, process.stdout + process.stderr
    for setting, instead in [
        ("browser.endpoints", "pytest-playwright's browser"),
        ("browser.workers", "-n N"),
        ("trace.mode", "--tracing"),
    ]:
        assert f"{setting} is not used under pytest" in process.stdout and instead in process.stdout
