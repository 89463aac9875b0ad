"""Writers for a finished run: reports/<run-id>/ with index.html, result.json, junit.xml and
evidence/<target>.json; reports/latest pointing at the newest run; reports/index.html listing every run.

A run folder appears only when complete (written under a hidden name, then renamed), and the shared files
are replaced atomically, so an interrupted run never leaves a half-written report over a good one. Runs that write
to the same folder at once each get their own run id, and hidden folders that killed runs left are removed later.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from cifcheck.config import HistoryOptions
from cifcheck.evidence import Evidence
from cifcheck.redact import known_leaks, scrub_known
from cifcheck.report.history import RUN_ID, render_history
from cifcheck.report.html import render_html
from cifcheck.report.junit import render_junit
from cifcheck.results import RunResult

ModelT = TypeVar("ModelT", bound=BaseModel)


try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a left-over folder's age alone decides
    fcntl = None

RUN_ID_FORMAT = "%Y%m%d-%H%M%S-%f"  # with the microseconds cut to milliseconds
PARTIAL = re.compile(r"^\.\d{8}-\d{6}-\d{3}\.partial$")
OWNER = ".owner"  # inside a folder being written: locked by the writing process for as long as it lives
DEFAULT_KEEP_RUNS = HistoryOptions().keep_runs
STALE_AFTER_S = 3600  # a run writes its folder in seconds; one older than this, and unlocked, was left behind


def write_atomically(path: Path, text: str) -> None:
    # A name of its own per writer: two runs replacing the same file at once must not write one temporary file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _replace_latest(output_dir: Path, run_dir: Path) -> None:
    latest = output_dir / "latest"
    temporary = output_dir / f".latest-{run_dir.name}"
    try:
        temporary.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(temporary, latest)  # readers see the old or the new run, never neither
    except OSError:  # no symlinks (some Windows set-ups): keep a copy instead
        temporary.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        elif latest.exists():
            shutil.rmtree(latest)
        shutil.copytree(run_dir, latest)


def _leak_found(what: str) -> None:
    print(f"cifcheck: a known secret reached {what} and was removed before writing (a bug: please report it)",
          file=sys.stderr)  # fmt: skip


def verified(model: ModelT) -> ModelT:
    """`model` as it may be written or shown. Evidence is redacted where it is made (evidence.py); this only verifies
    that no known secret (password, code, cookie value) is left, and removes one that is, saying so."""
    text = model.model_dump_json()
    if not known_leaks(text):
        return model
    _leak_found(f"the {type(model).__name__}")
    return type(model).model_validate_json(scrub_known(text))


def _verified_text(text: str, name: str) -> str:
    if not known_leaks(text):
        return text
    _leak_found(name)
    return scrub_known(text)


def _later_run_id(run_id: str, milliseconds: int) -> str:
    """The run id `milliseconds` later: still a time, so ids stay unique, in order and in the history's format."""
    if milliseconds == 0:
        return run_id
    try:
        when = datetime.strptime(run_id, RUN_ID_FORMAT) + timedelta(milliseconds=milliseconds)
    except ValueError:  # not a time (a caller's own id): a counter instead
        return f"{run_id}-{milliseconds}"
    return when.strftime(RUN_ID_FORMAT)[:-3]


def _reserve(output_dir: Path, run_id: str) -> tuple[str, Path]:
    """A run id no other run has, and its hidden folder, created exclusively.

    Two runs started in the same millisecond have the same id; the one that comes second takes the next free
    millisecond. Whoever creates `.<id>.partial` owns the id, once `<id>` itself is known not to exist: the
    owner renames its folder to `<id>` before anyone else can create `.<id>.partial` again."""
    for step in range(10_000):
        candidate = _later_run_id(run_id, step)
        partial = output_dir / f".{candidate}.partial"
        try:
            partial.mkdir()
        except FileExistsError:
            continue  # another run is writing this id, or a killed one left its folder
        if os.path.lexists(output_dir / candidate):
            partial.rmdir()
            continue
        return candidate, partial
    raise FileExistsError(f"no free run id from {run_id} on in {output_dir}")


def _lock_owner(partial: Path) -> int | None:
    """Marks `partial` as being written by this process for as long as it lives: the lock dies with it."""
    if fcntl is None:
        return None
    descriptor = os.open(partial / OWNER, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


@contextlib.contextmanager
def _history_lock(output_dir: Path) -> Iterator[None]:
    if fcntl is None:  # no flock (Windows): the history may miss a run written at the same moment, until the next
        yield
        return
    descriptor = os.open(output_dir, os.O_RDONLY)  # the folder itself is locked: no lock file is left behind
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _written_by_a_live_run(partial: Path) -> bool:
    if fcntl is None:
        return False
    try:
        # Not following links and not waiting: whatever is there, nothing in the reports folder may hang a run.
        descriptor = os.open(partial / OWNER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # no owner file: the run died before it made one
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # its owner holds the lock
    finally:
        os.close(descriptor)
    return False


def remove_stale_partials(output_dir: Path) -> None:
    """Removes the hidden folders that killed runs (or a full disk) left: older than `STALE_AFTER_S` and not locked
    by a live run. A folder another run is still writing is younger than that, and locked. Best effort."""
    now = time.time()
    for entry in output_dir.iterdir():
        try:
            if not PARTIAL.match(entry.name) or entry.is_symlink() or not entry.is_dir():
                continue
            if now - entry.stat().st_mtime < STALE_AFTER_S or _written_by_a_live_run(entry):
                continue
            shutil.rmtree(entry)
        except OSError:
            continue  # renamed or removed by another run meanwhile


def _latest_run(output_dir: Path) -> str:
    """The name of the run folder `latest` points at ("" when it is a copy, or absent)."""
    try:
        return os.readlink(output_dir / "latest")
    except OSError:
        return ""


def prune_runs(output_dir: Path, keep_runs: int, written: str) -> None:
    """Removes the oldest run folders beyond the newest `keep_runs` (`history.keep_runs`; 0 keeps every run).

    Only folders named in cifcheck's run-id format, never through a link; never the run just `written`, the one
    `latest` points at, or one another run is still finishing (it holds its owner lock until its history is written).
    Best effort: a folder that cannot be removed now is removed by a later run."""
    if keep_runs <= 0:
        return
    folders = sorted(
        (entry for entry in output_dir.iterdir() if RUN_ID.fullmatch(entry.name) and not entry.is_symlink()),
        key=lambda entry: entry.name,
        reverse=True,
    )
    spared = {written, _latest_run(output_dir)}
    for folder in folders[keep_runs:]:
        if folder.name in spared or not folder.is_dir() or _written_by_a_live_run(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _as_written(evidence: list[Evidence], result: RunResult) -> list[Evidence]:
    """The evidence to write: the end-of-load screenshot only for a target whose verdict holds an error (the
    report's picture of what went wrong); for the others it is 30-60 kB that tells nothing the verdicts do not."""
    errored = {target.target for target in result.targets if target.counts["error"]}
    return [
        item if item.target.name in errored else item.model_copy(update={"screenshot_jpeg_base64": ""})
        for item in evidence
    ]


def write_run(
    result: RunResult, evidence: list[Evidence], output_dir: str | Path, keep_runs: int = DEFAULT_KEEP_RUNS
) -> Path:
    """Write every output of a run, each verified to hold no known secret, then prune the history to `keep_runs`.

    When another run took `result.run_id` first, the run gets the next free one, and `result.run_id` says so."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(output_dir)
    result.run_id, partial = _reserve(output_dir, result.run_id)
    owner = None
    try:
        owner = _lock_owner(partial)
        run_dir = output_dir / result.run_id
        written = verified(result)
        evidence = [verified(item) for item in _as_written(evidence, written)]
        (partial / "evidence").mkdir()
        for item in evidence:
            path = partial / "evidence" / f"{item.target.name}.json"
            path.write_text(item.model_dump_json(indent=2), encoding="utf-8")
        (partial / "result.json").write_text(written.model_dump_json(indent=2), encoding="utf-8")
        (partial / "junit.xml").write_text(_verified_text(render_junit(written), "junit.xml"), encoding="utf-8")
        html = _verified_text(render_html(written, evidence), "index.html")
        (partial / "index.html").write_text(html, encoding="utf-8")
        partial.rename(run_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a half-written folder helps nobody
        if owner is not None:
            os.close(owner)
        raise
    try:
        with _history_lock(output_dir):
            # One writer at a time, each after its own folder is in place: the last to write lists every run.
            _replace_latest(output_dir, run_dir)
            prune_runs(output_dir, keep_runs, run_dir.name)
            write_atomically(output_dir / "index.html", render_history(output_dir))
    finally:
        # Held until now, so that no other run's pruning takes this folder before `latest` points at it.
        (run_dir / OWNER).unlink(missing_ok=True)
        if owner is not None:
            os.close(owner)
    return run_dir
