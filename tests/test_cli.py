"""The command line as users meet it: run as a separate process."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.short_waits import short_config

ROOT = Path(__file__).resolve().parent.parent


def cifcheck(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_help_lists_the_commands():
    done = cifcheck("--help")
    assert done.returncode == 0
    for command in ("run", "report", "doctor", "sandbox", "config"):
        assert command in done.stdout


def test_a_config_with_an_unknown_field_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"targets": [{"name": "a", "url": "sandbox://healthy-csw", "colour": "red"}]}))
    done = cifcheck("run", "--config", str(broken))
    assert done.returncode == 2
    assert done.stderr.strip() == f"cifcheck: {broken}: targets[0].colour: unknown field"
    assert "Traceback" not in done.stderr + done.stdout


def test_a_config_with_a_wrong_type_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps({"targets": [{"name": "a", "url": "sandbox://healthy-csw"}], "browser": {"headless": "maybe"}})
    )
    done = cifcheck("run", "--config", str(broken))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "browser.headless" in done.stderr


def test_an_unknown_check_id_is_bad_input(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"targets": [{"name": "a", "url": "sandbox://healthy-csw", "checks": ["cif.nope"]}]}))
    done = cifcheck("run", "--config", str(broken), "--output", str(tmp_path / "reports"))
    assert done.returncode == 2
    assert "targets[0].checks: unknown check id 'cif.nope'" in done.stderr
    assert not (tmp_path / "reports").exists()


def test_an_unknown_sandbox_scenario_is_bad_input(tmp_path):
    done = cifcheck("run", "--scenario", "no-such-scenario", "--output", str(tmp_path))
    assert done.returncode == 2
    assert "unknown sandbox scenario 'no-such-scenario'" in done.stderr


def test_schema_config_prints_the_shipped_schema():
    done = cifcheck("schema", "config")
    assert json.loads(done.stdout) == json.loads((ROOT / "cifcheck" / "config.schema.json").read_text())


def test_there_is_one_schema_command():
    done = cifcheck("config", "schema")
    assert done.returncode == 2
    assert "No such command 'schema'" in done.stderr


def test_checks_lists_every_check_id_in_report_order():
    from cifcheck.checks import ORDER

    done = cifcheck("checks", "--json")
    assert done.returncode == 0
    assert [row["id"] for row in json.loads(done.stdout)] == list(ORDER)


def test_checks_says_what_each_check_verifies():
    from cifcheck.checks import all_checks

    done = cifcheck("checks")
    for check in all_checks():
        assert f"{check.id}  {check.title}" in done.stdout


def test_sandbox_list_names_every_scenario():
    from cifcheck.sandbox.scenarios import SCENARIOS

    done = cifcheck("sandbox", "list")
    assert done.returncode == 0
    for name in SCENARIOS:
        assert name in done.stdout


def test_run_with_no_arguments_validates_the_sandbox_and_writes_the_report(tmp_path):
    done = cifcheck("run", "--output", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    latest = tmp_path / "latest"
    assert latest.is_symlink()
    html = (latest / "index.html").read_text()
    assert "sandbox-csw" in html and "cif.library_loaded" in html
    result = json.loads((latest / "result.json").read_text())
    assert result["targets"][0]["target"] == "sandbox-csw"
    assert (latest / "evidence" / "sandbox-csw.json").is_file()


def test_report_rejudges_saved_evidence_offline(tmp_path):
    # A hidden panel: a failure judged once every signal came, without the absence window's wait; and with short
    # windows, as re-judging is the subject, not waiting.
    config = short_config(tmp_path / "short.json")
    ran = cifcheck("run", "--config", str(config), "--scenario", "panel-hidden", "--output", str(tmp_path / "first"))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    evidence = tmp_path / "first" / "latest" / "evidence" / "panel-hidden.json"
    done = cifcheck("report", str(evidence), "--output", str(tmp_path / "again"))
    assert done.returncode == 1
    result = json.loads((tmp_path / "again" / "latest" / "result.json").read_text())
    verdicts = {c["id"]: c["status"] for c in result["targets"][0]["checks"]}
    assert verdicts["panel.docked"] == "fail"


def test_report_on_a_broken_evidence_file_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "evidence.json"
    broken.write_text('{"target": 7}')
    done = cifcheck("report", str(broken), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"cifcheck: {broken}: target")
    assert "Traceback" not in done.stderr


def test_report_on_a_path_too_long_for_a_file_name_is_one_line_and_exit_2(tmp_path):
    done = cifcheck("report", "a" * 300, "--output", str(tmp_path / "out"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("cifcheck: aaa")


def test_help_does_not_import_the_browser_or_model_libraries():
    heavy = "('playwright', 'pydantic', 'starlette', 'rich')"
    code = f"import sys, cifcheck.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _config_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    return path


BAD_CONFIGS = {
    "not UTF-8": (b'{"targets": [{"name": "\xff"}]}', "not UTF-8 text"),
    "a number too long": (b'{"targets": [], "x": ' + b"9" * 5000 + b"}", "not usable JSON"),
    "nesting too deep": (b"[" * 100_000 + b"]" * 100_000, "not usable JSON"),
    "a password in the org URL": (
        json.dumps({"targets": [{"name": "a", "url": "https://admin:Hunter2@contoso.crm.dynamics.com"}]}).encode(),
        "targets[0].url: must not contain a user name or password",
    ),
    "an empty check list": (
        json.dumps({"targets": [{"name": "a", "url": "sandbox://healthy-csw", "checks": []}]}).encode(),
        "targets[0].checks",
    ),
    "an unknown sandbox scenario": (
        json.dumps({"targets": [{"name": "a", "url": "sandbox://no-such-org"}]}).encode(),
        "targets[0].url: unknown sandbox scenario 'no-such-org'",
    ),
}


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=list(BAD_CONFIGS))
def test_bad_config_files_are_one_line_naming_the_file_and_exit_2(tmp_path, case):
    content, expected = BAD_CONFIGS[case]
    config = _config_file(tmp_path, content)
    done = cifcheck("run", "--config", str(config), "--output", str(tmp_path / "reports"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"cifcheck: {config}: ") and expected in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_an_output_folder_that_cannot_be_written_is_bad_input_before_any_run(tmp_path):
    done = cifcheck("run", "--output", "/proc/cifcheck-reports")
    assert done.returncode == 2
    assert done.stderr.startswith("cifcheck: --output: cannot write reports to /proc/cifcheck-reports")


def test_a_port_out_of_range_is_bad_input():
    done = cifcheck("sandbox", "serve", "--port", "99999")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_evidence_whose_target_name_is_a_path_is_refused(tmp_path):
    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps({"target": {"name": "../../escaped", "url": "sandbox://x", "app": "a"}}))
    done = cifcheck("report", str(evidence), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "target.name" in done.stderr
    assert not (tmp_path / "escaped.json").exists()


def test_two_evidence_files_for_one_target_are_refused(tmp_path):
    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps({"target": {"name": "same", "url": "sandbox://x", "app": "a"}}))
    done = cifcheck("report", str(evidence), str(evidence), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "more than one evidence file" in done.stderr


def test_doctor_names_the_browser_it_found_and_launches_it():
    done = cifcheck("doctor")
    assert done.returncode == 0, done.stdout
    assert "Using: " in done.stdout and "— OK" in done.stdout


def test_a_bad_cdp_endpoint_on_the_command_line_is_one_line_before_any_browser_starts(tmp_path):
    done = cifcheck("run", "--cdp", "http://[::1", "--output", str(tmp_path / "reports"))
    assert done.returncode == 2
    assert done.stderr.strip() == "cifcheck: --cdp: not a valid URL: Invalid IPv6 URL"
    assert not (tmp_path / "reports").exists()


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nothing_to_attach_to_over_cdp_is_one_line_with_the_fix(tmp_path):
    done = cifcheck("run", "--cdp", f"http://127.0.0.1:{_closed_port()}", "--output", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--remote-debugging-port" in done.stderr and "Traceback" not in done.stderr


def test_a_browser_that_does_not_start_is_one_line_naming_what_to_change(tmp_path):
    import os

    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", "--output", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CIFCHECK_BROWSER": "/bin/true"},
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cifcheck: browser: ") and "fix: point CIFCHECK_BROWSER at a Chromium-family browser" in last


def test_every_command_has_examples_in_its_help():
    for command in ("run", "login", "report", "show", "init", "doctor", "checks", "schema", "sandbox"):
        assert "Examples:" in cifcheck(command, "--help").stdout, command
    assert "Examples:" in cifcheck("config", "check", "--help").stdout


def test_the_exit_codes_are_in_the_help_of_every_command_that_judges():
    for command in ("run", "report"):
        helped = cifcheck(command, "--help").stdout
        assert "130" in helped and "even with errors" in helped, command


def test_the_command_list_never_cuts_a_description():
    assert "..." not in cifcheck("--help").stdout.split("Commands:")[1]


@pytest.mark.parametrize(
    "command",
    ["run", "login", "report", "show", "config check", "init", "doctor", "checks", "schema", "sandbox serve"],
)
def test_help_names_each_argument_by_what_it_is_not_by_its_type(command: str):
    helped = cifcheck(*command.split(), "--help").stdout
    assert not re.search(r"\b(TEXT|INTEGER|PATH)\b", helped), helped


def test_a_reader_that_goes_away_gets_no_traceback():
    reading, writing = os.pipe()
    os.close(reading)  # gone before cifcheck writes a byte, as `| head` is once it has its lines
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "schema", "config"],
        cwd=ROOT,
        stdout=writing,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(writing)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_an_evidence_file_missing_fields_lists_each_in_plain_words(tmp_path):
    broken = tmp_path / "contoso.json"
    broken.write_text(json.dumps({"cifcheck_version": "1", "target": {"name": "contoso"}}))
    done = cifcheck("report", str(broken), "--output", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"cifcheck: {broken}: target.url: missing",
        f"cifcheck: {broken}: target.app: missing",
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("run", "--workers", "65"), "Invalid value for '--workers'"),
        (("merge",), "Missing argument 'DIR...'"),
        (("bundle", "--bogus"), "No such option '--bogus'"),
        (("config", "schema"), "No such command 'schema'"),
    ],
    ids=["out of range", "missing argument", "unknown option", "unknown subcommand"],
)
def test_a_usage_error_is_one_line_naming_what_was_wrong_and_exit_2(args, said):
    done = cifcheck(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and said in done.stderr and "--help" in done.stderr


WAITS_INSIDE_THE_COMMAND = """
import pathlib, sys, time
import cifcheck.merge, cifcheck.offline

def waits(*args, **kwargs):
    pathlib.Path(sys.argv[-1], "inside").touch()  # the command has started: its handlers are in place
    time.sleep(60)

cifcheck.offline.rejudge = cifcheck.merge.merge_runs = waits
from cifcheck.cli import main
main()
"""


@pytest.mark.parametrize("command", ["report", "merge"])
def test_sigterm_stops_any_command_in_one_line_with_exit_130(command, tmp_path):
    # Before, only `run` turned SIGTERM into an interrupt: `report` and `merge` died of the signal (exit 143).
    process = subprocess.Popen(
        [sys.executable, "-c", WAITS_INSIDE_THE_COMMAND, command, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(600):
        if (tmp_path / "inside").exists():
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr == "cifcheck: interrupted\n"
