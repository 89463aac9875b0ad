"""`cifcheck show [RUN]`: opens a run's report in the default browser, or prints its path where there is no display."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cifcheck.cli import cli

RUN_ID = "20261201-120000-000"


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    run = tmp_path / "reports" / RUN_ID
    run.mkdir(parents=True)
    (run / "index.html").write_text("<p>report</p>")
    (run / "result.json").write_text("{}")
    (tmp_path / "reports" / "latest").symlink_to(RUN_ID)
    return tmp_path / "reports"


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """What `show` asked the browser to open, instead of opening it."""
    urls: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: urls.append(url) or True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return urls


def test_show_opens_the_latest_report_in_the_browser(reports, opened):
    done = CliRunner().invoke(cli, ["show", "--output", str(reports)])
    assert done.exit_code == 0, done.output
    assert opened == [(reports / "latest" / "index.html").resolve().as_uri()]


def test_show_opens_a_run_by_its_id(reports, opened):
    CliRunner().invoke(cli, ["show", RUN_ID, "--output", str(reports)])
    assert opened == [(reports / RUN_ID / "index.html").resolve().as_uri()]


def test_show_opens_a_run_folder_given_as_a_path(reports, opened):
    CliRunner().invoke(cli, ["show", str(reports / RUN_ID)])
    assert opened == [(reports / RUN_ID / "index.html").resolve().as_uri()]


@pytest.mark.parametrize("environment", [{"DISPLAY": ""}, {"CI": "true"}])
def test_with_no_display_show_prints_the_path_instead(reports, opened, monkeypatch, environment):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(cli, ["show", "--output", str(reports)])
    assert done.exit_code == 0 and opened == []
    assert done.output == f"{reports / 'latest' / 'index.html'}\n"


def test_an_unknown_run_is_one_line_and_exit_2(reports, opened):
    done = CliRunner().invoke(cli, ["show", "20991231-000000-000", "--output", str(reports)])
    assert done.exit_code == 2 and opened == []
    assert done.output.count("\n") == 1 and "no run '20991231-000000-000'" in done.output


def test_a_run_name_too_long_for_a_file_name_is_one_line_and_exit_2(reports, opened):
    done = CliRunner().invoke(cli, ["show", "a" * 300, "--output", str(reports)])
    assert done.exit_code == 2 and opened == [], done.output
    assert done.output.count("\n") == 1 and done.output.startswith("cifcheck: RUN: no run 'aaa")
