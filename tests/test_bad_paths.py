"""A folder, a named pipe or a symbolic link loop where a file (or the reports folder) belongs is bad input: one line
naming the field or file, exit 2, at once (a named pipe is never opened: that would wait for ever), nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORG = "https://contoso.crm.dynamics.com"
TARGET = {"name": "a", "url": "sandbox://healthy-csw", "checks": ["cif.library_loaded"]}


def _cifcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A short limit: reading a named pipe would hang, and the test must then fail, not hang too.
    return subprocess.run(
        [sys.executable, "-m", "cifcheck", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=30
    )


def _folder(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


MAKERS: dict[str, Callable[[Path], None]] = {"folder": _folder, "named pipe": _fifo, "symbolic link loop": _loop}
SAYS = {
    "folder": "is a folder",
    "named pipe": "is a named pipe (FIFO)",
    "symbolic link loop": "is a symbolic link loop",
}

# Where the odd thing sits -> (the config, given the odd path's name; what the one line must name).
PLACES: dict[str, tuple[Callable[[str], dict], str]] = {
    "targets[0].storage_state": (
        lambda odd: {"targets": [{**TARGET, "storage_state": odd}]},
        "targets[0].storage_state",
    ),
    "auth.storage_state": (
        lambda odd: {"targets": [{**TARGET, "url": ORG}], "auth": {"storage_state": odd}},
        "auth.storage_state",
    ),
    "credentials file": (
        lambda odd: {"targets": [{**TARGET, "credentials": {"file": odd}}]},
        "credentials file",
    ),
}


@pytest.mark.skipif(os.name != "posix", reason="named pipes and symbolic links as POSIX has them")
@pytest.mark.parametrize("kind", MAKERS)
def test_an_odd_config_file_is_one_line_naming_it_and_exit_2(tmp_path, kind):
    odd = tmp_path / "config.json"
    MAKERS[kind](odd)
    done = _cifcheck("run", "--config", str(odd), "--output", str(tmp_path / "reports"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"cifcheck: {odd}: config file {SAYS[kind]}" + (
        "" if kind == "symbolic link loop" else ", not a file"
    )
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(os.name != "posix", reason="named pipes and symbolic links as POSIX has them")
@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("place", PLACES)
def test_an_odd_saved_session_or_credentials_file_is_one_line_naming_the_field_and_exit_2(tmp_path, place, kind):
    MAKERS[kind](tmp_path / "odd.json")
    config_for, named = PLACES[place]
    config = tmp_path / "config.json"
    config.write_text(json.dumps(config_for("odd.json")))
    for command in (["run", "--output", "reports"], ["login", "--headless"]):
        done = _cifcheck(*command, "--config", str(config), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert line.startswith(f"cifcheck: {config}: ") and named in line and SAYS[kind] in line, line
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(os.name != "posix", reason="named pipes and symbolic links as POSIX has them")
@pytest.mark.parametrize("kind", ["file", "named pipe", "symbolic link loop"])
def test_a_reports_folder_that_is_a_file_or_a_loop_is_one_line_and_exit_2_and_the_file_is_kept(tmp_path, kind):
    odd = tmp_path / "reports"
    if kind == "file":
        odd.write_text("someone's notes")
    else:
        MAKERS[kind](odd)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"targets": [TARGET], "output_dir": "reports"}))
    for option, args in (("output_dir", []), ("--output", ["--output", "reports"])):
        done = _cifcheck("run", "--config", str(config), *args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip()
        assert len(line.splitlines()) == 1 and line.startswith(f"cifcheck: {option}: reports"), line
        assert ("is a file, not a folder" if kind == "file" else SAYS[kind]) in line, line
    if kind == "file":
        assert odd.read_text() == "someone's notes"
