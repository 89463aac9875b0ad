"""The command line as users meet it: run as a separate process."""

import json
import subprocess
import sys
from pathlib import Path

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


def test_config_schema_prints_the_shipped_schema():
    done = cifcheck("config", "schema")
    assert json.loads(done.stdout) == json.loads((ROOT / "cifcheck" / "config.schema.json").read_text())


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
    assert cifcheck("run", "--scenario", "library-500", "--output", str(tmp_path / "first")).returncode == 1
    evidence = tmp_path / "first" / "latest" / "evidence" / "library-500.json"
    done = cifcheck("report", str(evidence), "--output", str(tmp_path / "again"))
    assert done.returncode == 1
    result = json.loads((tmp_path / "again" / "latest" / "result.json").read_text())
    verdicts = {c["id"]: c["status"] for c in result["targets"][0]["checks"]}
    assert verdicts["cif.library_loaded"] == "fail"


def test_report_on_a_broken_evidence_file_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "evidence.json"
    broken.write_text('{"target": 7}')
    done = cifcheck("report", str(broken), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"cifcheck: {broken}: target")
    assert "Traceback" not in done.stderr


def test_help_does_not_import_the_browser_or_model_libraries():
    heavy = "('playwright', 'pydantic', 'starlette', 'rich')"
    code = f"import sys, cifcheck.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
