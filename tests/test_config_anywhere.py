"""cifcheck works wherever it is installed: which config a command uses, `init`, `--url`, paths relative to the config
file, and `config check` refusing exactly what `run` refuses. Commands run as separate processes in empty folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cifcheck.config import config_schema, load_config
from cifcheck.runner import storage_state_path
from tests.evidence_factory import healthy_evidence
from tests.short_waits import SHORT_WAITS

ROOT = Path(__file__).resolve().parent.parent
ORG = "https://contoso.crm.dynamics.com"
ADDRESS_BAR = f"{ORG}/main.aspx?appid=9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c&pagetype=dashboard&id=1#section"
SANDBOX_TARGET = {"name": "a", "url": "sandbox://healthy-csw", "checks": ["cif.library_loaded"]}


def cifcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# Which config: --config, else ./playwright.config.json, else the bundled default.


@pytest.mark.browser
def test_run_in_an_empty_folder_validates_the_bundled_sandbox_and_writes_reports_there(tmp_path):
    done = cifcheck("run", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "reports" / "latest" / "result.json").read_text())
    assert result["targets"][0]["target"] == "sandbox-csw"


@pytest.mark.browser
def test_run_with_a_scenario_needs_no_config_file(tmp_path):
    # A hidden panel: a failure judged once every signal came, not after the default 10 s absence window.
    done = cifcheck("run", "--scenario", "panel-hidden", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (tmp_path / "reports" / "latest" / "evidence" / "panel-hidden.json").is_file()


def test_config_check_in_an_empty_folder_names_the_bundled_default(tmp_path):
    done = cifcheck("config", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "config: the bundled default config (default.config.json)",
        "sandbox-csw: sandbox://healthy-csw app=msdyn_CustomerServiceWorkspace",
    ]


def test_a_playwright_config_json_in_the_current_folder_is_used_when_there_is_one(tmp_path):
    write(tmp_path / "playwright.config.json", {"targets": [{"name": "mine", "url": ORG}]})
    done = cifcheck("config", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "config: playwright.config.json",
        f"mine: {ORG} app=msdyn_CustomerServiceWorkspace (default)",
    ]


def test_a_missing_config_given_explicitly_is_one_line_with_the_init_hint(tmp_path):
    done = cifcheck("run", "--config", "other.json", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == "cifcheck: other.json: config file not found; `cifcheck init --file other.json` writes a starter one\n"
    )


def test_every_data_file_in_the_package_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cifcheck"]
    package = ROOT / "cifcheck"
    data_files = {path for path in package.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")}
    covered = {path for pattern in patterns for path in package.glob(pattern)}
    assert data_files - covered == set()
    assert package / "default.config.json" in covered


# init


def test_init_with_a_url_writes_a_config_that_config_check_accepts(tmp_path):
    done = cifcheck("init", "--url", ORG, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked = cifcheck("config", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"contoso: {ORG} app=msdyn_CustomerServiceWorkspace" in checked.stdout.splitlines()


def test_init_writes_the_schema_beside_the_config_and_points_to_it(tmp_path):
    assert cifcheck("init", "--file", "cfg/prod.json", cwd=tmp_path).returncode == 0
    written = json.loads((tmp_path / "cfg" / "prod.json").read_text())
    assert written["$schema"] == "./cifcheck.config.schema.json"
    assert json.loads((tmp_path / "cfg" / "cifcheck.config.schema.json").read_text()) == config_schema()


def test_init_explains_what_to_fill_in_and_writes_the_app_explicitly(tmp_path):
    assert cifcheck("init", "--app", "OmniChannelEngagementHub", cwd=tmp_path).returncode == 0
    written = json.loads((tmp_path / "playwright.config.json").read_text())
    target = written["targets"][0]
    assert target["app"] == "OmniChannelEngagementHub"
    assert any("OmniChannelEngagementHub (Omnichannel" in line for line in target["$comment"])


def test_init_never_overwrites_without_force(tmp_path):
    (tmp_path / "playwright.config.json").write_text("someone's config")
    done = cifcheck("init", "--url", ORG, cwd=tmp_path)
    assert done.returncode == 2 and "already exists; pass --force" in done.stderr
    assert (tmp_path / "playwright.config.json").read_text() == "someone's config"
    assert cifcheck("init", "--url", ORG, "--force", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "playwright.config.json").read_text())["targets"][0]["url"] == ORG


def test_init_refuses_a_file_named_as_the_schema_it_writes_beside_it(tmp_path):
    done = cifcheck("init", "--file", "cifcheck.config.schema.json", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "cifcheck: cifcheck.config.schema.json: init writes its schema under that name; choose another --file\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_init_with_force_onto_a_named_pipe_is_one_line_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "playwright.config.json")
    done = cifcheck("init", "--force", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr == "cifcheck: playwright.config.json is a named pipe (FIFO), not a file; init writes files only\n"
    )


def test_init_never_overwrites_a_file_of_the_user_where_its_schema_goes_without_force(tmp_path):
    (tmp_path / "cifcheck.config.schema.json").write_text("my own notes")
    done = cifcheck("init", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "cifcheck: cifcheck.config.schema.json: already exists and is not a schema cifcheck wrote; pass --force to "
        "overwrite it\n"
    )
    assert (tmp_path / "cifcheck.config.schema.json").read_text() == "my own notes"
    assert not (tmp_path / "playwright.config.json").exists()


def test_init_rewrites_a_schema_an_older_init_wrote_without_force(tmp_path):
    (tmp_path / "cifcheck.config.schema.json").write_text(json.dumps({**config_schema(), "properties": {}}))
    assert cifcheck("init", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "cifcheck.config.schema.json").read_text()) == config_schema()


def test_init_never_overwrites_a_config_another_init_wrote_after_it_looked(tmp_path, monkeypatch):
    # Two inits at once: both see no file; the second to write must not replace the first one's.
    from cifcheck import starter

    (tmp_path / "c.json").write_text("written a moment ago")
    monkeypatch.setattr(starter.os.path, "lexists", lambda path: False)
    with pytest.raises(starter.ConfigError, match="already exists; pass --force"):
        starter.write_starter(tmp_path / "c.json", ORG, None, force=False)
    assert (tmp_path / "c.json").read_text() == "written a moment ago"


def test_init_with_an_address_bar_url_writes_the_org_root_and_the_app_it_opened(tmp_path):
    done = cifcheck("init", "--url", ADDRESS_BAR, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    target = json.loads((tmp_path / "playwright.config.json").read_text())["targets"][0]
    assert (target["url"], target["app"]) == (ORG, "9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c")


# --url


def test_url_names_one_target_after_its_host_with_the_default_app(tmp_path):
    done = cifcheck("config", "check", "--url", ORG, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"contoso: {ORG} app=msdyn_CustomerServiceWorkspace (default)" in done.stdout.splitlines()


def test_an_address_bar_url_is_trimmed_to_the_org_root_with_a_note_and_its_app_used(tmp_path):
    done = cifcheck("config", "check", "--url", ADDRESS_BAR, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"contoso: {ORG} app=9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c" in done.stdout.splitlines()
    assert done.stderr == (
        f"cifcheck: note: --url: trimmed to the org root {ORG} (cifcheck opens the app itself); the app "
        "9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c it opened is used (set --app to choose another)\n"
    )


def test_app_given_beside_an_address_bar_url_wins_and_the_note_does_not_claim_the_url_app(tmp_path):
    done = cifcheck("config", "check", "--url", ADDRESS_BAR, "--app", "OmniChannelEngagementHub", cwd=tmp_path)
    assert f"contoso: {ORG} app=OmniChannelEngagementHub" in done.stdout.splitlines()
    assert done.stderr == f"cifcheck: note: --url: trimmed to the org root {ORG} (cifcheck opens the app itself)\n"


def test_a_bad_url_is_one_line_naming_the_option(tmp_path):
    done = cifcheck("run", "--url", "https://admin:pw@contoso.crm.dynamics.com", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == "cifcheck: --url: must not contain a user name or password; cifcheck signs in through the browser\n"
    )


def test_an_upper_case_scheme_in_url_is_read_as_a_browser_reads_it_not_a_traceback(tmp_path):
    done = cifcheck("config", "check", "--url", "HTTPS://contoso.crm.dynamics.com", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"contoso: {ORG} app=msdyn_CustomerServiceWorkspace (default)" in done.stdout.splitlines()


def test_url_with_cdp_attaches_to_the_browser_given(tmp_path):
    done = cifcheck("run", "--url", ORG, "--cdp", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("cifcheck: browser: ") and "127.0.0.1:9" in done.stderr


def test_a_target_url_pasted_from_the_address_bar_is_trimmed_with_a_note(tmp_path):
    write(
        tmp_path / "c.json",
        {"targets": [{"name": "prod", "url": ADDRESS_BAR}, {"name": "b", "url": f"{ORG}/", "app": "x"}]},
    )
    done = cifcheck("config", "check", "--config", "c.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"prod: {ORG} app=9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c" in done.stdout.splitlines()
    assert done.stderr.startswith(f"cifcheck: note: c.json: targets[0].url: trimmed to the org root {ORG}")
    assert len(done.stderr.splitlines()) == 1  # a trailing slash is an org root already


# Paths resolve from the config file's folder.


def test_a_config_in_another_folder_finds_the_saved_session_beside_it(tmp_path, monkeypatch):
    config = write(tmp_path / "cfg" / "x.json", {"targets": [{"name": "prod", "url": ORG}]})
    write(tmp_path / "cfg" / ".cifcheck" / "auth" / "state.json", {"cookies": [], "origins": []})
    monkeypatch.chdir(tmp_path)
    loaded = load_config(Path("cfg/x.json"))
    assert storage_state_path(loaded.targets[0], loaded) == Path("cfg/.cifcheck/auth/state.json")
    assert storage_state_path(loaded.targets[0], loaded).is_file()
    assert load_config(config).auth.storage_state == str(tmp_path / "cfg" / ".cifcheck" / "auth" / "state.json")


def test_every_path_in_a_config_resolves_from_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    credentials = {"file": "secrets/me.json"}
    write(
        tmp_path / "cfg" / "x.json",
        {
            "targets": [{"name": "a", "url": ORG, "storage_state": "a.json", "credentials": credentials}],
            "auth": {"user_data_dir": "profile", "credentials": credentials},
            "browser": {"executable_path": "bin/chrome"},
            "output_dir": "out",
        },
    )
    loaded = load_config("cfg/x.json")
    assert loaded.targets[0].storage_state == "cfg/a.json"
    assert loaded.targets[0].credentials.file == loaded.auth.credentials.file == "cfg/secrets/me.json"
    assert (loaded.auth.user_data_dir, loaded.output_dir) == ("cfg/profile", "cfg/out")
    assert loaded.browser.executable_path == "cfg/bin/chrome"


def test_absolute_paths_and_a_bare_browser_name_are_kept_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "cfg" / "x.json",
        {
            "targets": [{"name": "a", "url": ORG}],
            "auth": {"storage_state": "/srv/s.json"},
            "browser": {"executable_path": "chromium"},
        },
    )
    loaded = load_config("cfg/x.json")
    assert (loaded.auth.storage_state, loaded.browser.executable_path) == ("/srv/s.json", "chromium")


def test_a_path_starting_with_a_tilde_means_the_home_folder_not_a_folder_named_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write(tmp_path / "cfg" / "x.json", {"targets": [{"name": "a", "url": ORG}], "auth": {"storage_state": "~/s.json"}})
    assert load_config(tmp_path / "cfg" / "x.json").auth.storage_state == str(tmp_path / "home" / "s.json")


def test_reports_go_beside_the_config_but_output_stays_relative_to_the_current_folder(tmp_path):
    write(tmp_path / "cfg" / "x.json", {"targets": [SANDBOX_TARGET]})
    beside = cifcheck("config", "check", "--config", "cfg/x.json", cwd=tmp_path)
    given = cifcheck("config", "check", "--config", "cfg/x.json", "--output", "out", cwd=tmp_path)
    assert "reports: cfg/reports" in beside.stdout.splitlines()
    assert "reports: out" in given.stdout.splitlines()


# config check refuses what run refuses: both call runner.check_targets, so each case runs through both.

REFUSED = {
    "an unknown check id": (
        {"targets": [{**SANDBOX_TARGET, "checks": ["cif.library_lodaed"]}]},
        "did you mean 'cif.library_loaded'?",
    ),
    "an unknown sandbox scenario": (
        {"targets": [{"name": "a", "url": "sandbox://healthy-cws"}]},
        "did you mean 'healthy-csw'?",
    ),
    "an unknown sandbox timing": (
        {"targets": [SANDBOX_TARGET], "sandbox": {"timing": "slow-netwrk"}},
        "did you mean 'slow-network'?",
    ),
    "a credentials file others can read": (
        {"targets": [{**SANDBOX_TARGET, "credentials": {"file": "open.json"}}]},
        "chmod 600",
    ),
    "a saved session that is a folder": (
        {"targets": [{**SANDBOX_TARGET, "storage_state": "folder"}]},
        "folder is a folder",
    ),
    "a saved session inside the reports folder": (
        {"targets": [SANDBOX_TARGET], "auth": {"storage_state": "reports/s.json"}},
        "holds the saved session in auth.storage_state",
    ),
    "a browser profile that is a file": (
        {"targets": [SANDBOX_TARGET], "auth": {"user_data_dir": "notes.txt"}},
        "auth.user_data_dir: notes.txt is a file, not a browser profile folder",
    ),
    "a browser profile inside the reports folder": (
        {"targets": [SANDBOX_TARGET], "auth": {"user_data_dir": "reports/profile"}},
        "holds the browser profile in auth.user_data_dir",
    ),
    "a reports folder that is a file": (
        {"targets": [SANDBOX_TARGET], "output_dir": "notes.txt"},
        "notes.txt is a file, not a folder",
    ),
    "a bad org URL": ({"targets": [{"name": "a", "url": "https://contoso_crm.dynamics.com"}]}, "is not a host name"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_config_check_refuses_what_run_refuses_with_the_same_lines(tmp_path, case):
    data, expected = REFUSED[case]
    write(tmp_path / "c.json", data)
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("kept")
    (tmp_path / "open.json").write_text('{"username": "u", "password": "p"}')
    (tmp_path / "open.json").chmod(0o644)
    checked = cifcheck("config", "check", "--config", "c.json", cwd=tmp_path)
    ran = cifcheck("run", "--config", "c.json", cwd=tmp_path)
    assert checked.returncode == ran.returncode == 2
    assert checked.stderr == ran.stderr and expected in checked.stderr, checked.stderr
    assert not (tmp_path / "reports").exists()


# Messages: every problem, in plain words.


def test_every_problem_is_listed_one_line_each_up_to_ten(tmp_path):
    write(tmp_path / "c.json", {"targets": [{"name": f"t{i}", "url": "ftp://x"} for i in range(12)]})
    done = cifcheck("config", "check", "--config", "c.json", cwd=tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 11
    assert lines[0].startswith("cifcheck: c.json: targets[0].url: ") and lines[9].startswith(
        "cifcheck: c.json: targets[9].url"
    )
    assert lines[10] == "cifcheck: and 2 more"


def test_a_config_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "c.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"targets": [SANDBOX_TARGET]}).encode())
    assert cifcheck("config", "check", "--config", "c.json", cwd=tmp_path).returncode == 0


def test_report_given_a_result_json_says_what_to_pass_instead(tmp_path):
    run = tmp_path / "reports" / "20260101-000000-000"
    write(run / "result.json", {"run_id": "20260101-000000-000", "targets": []})
    done = cifcheck("report", str(run / "result.json"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"cifcheck: {run}/result.json: a run's result.json, not an evidence file; pass the run folder ({run}) or its "
        f"evidence files ({run}/evidence/*.json)\n"
    )


def test_report_given_a_run_folder_rejudges_all_its_evidence(tmp_path):
    run = tmp_path / "first"
    for name in ("one", "two"):
        evidence = healthy_evidence()
        evidence.target.name = name
        (run / "evidence").mkdir(parents=True, exist_ok=True)
        (run / "evidence" / f"{name}.json").write_text(evidence.model_dump_json())
    done = cifcheck("report", str(run), "--output", "again", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "again" / "latest" / "result.json").read_text())
    assert [t["target"] for t in result["targets"]] == ["one", "two"]


@pytest.mark.browser
def test_output_given_on_the_command_line_replaces_the_config_reports_folder_in_every_check(tmp_path):
    write(tmp_path / "c.json", {"targets": [SANDBOX_TARGET], "output_dir": "notes.txt", "timeouts": SHORT_WAITS})
    (tmp_path / "notes.txt").write_text("kept")
    done = cifcheck("run", "--config", "c.json", "--output", "out", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "latest" / "result.json").is_file()
