"""Playwright traces of each target's page load (`trace.mode`, `--trace`): screenshots, DOM snapshots and the
network, for `playwright show-trace`.

A raw trace holds what the browser saw: the session's cookies, request headers and answer bodies. It is written
to `trace.dir` (never the reports folder), in a folder per run that only the user can open (0700), each trace 0600.
`cifcheck bundle --with-trace` shares a scrubbed copy instead (bundle.py)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path

from playwright.sync_api import BrowserContext
from playwright.sync_api import Error as PlaywrightError

from cifcheck.config import TraceOptions

TRACE_SUFFIX = ".trace.zip"
RUN_FOLDER = re.compile(r"\d{8}-\d{6}-\d{3}(-\d{1,3})?")  # a run id, and the suffix of a second run in its millisecond


def private_folder(path: Path) -> None:
    """`path` and any missing parent created 0700, whatever the umask. Folders that exist are left as they are:
    `trace.dir` may be a shared folder such as /tmp or the project's own; each run's folder inside it is 0700."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another run made it meanwhile: its own
            continue
        os.chmod(folder, 0o700)


class RunTraces:
    """The traces of one run: `<trace.dir>/<run id>/<target>.trace.zip`. The run's folder is made when the first
    trace is kept, so a retain-on-failure run that passes leaves nothing behind."""

    def __init__(self, options: TraceOptions, run_id: str) -> None:
        self.mode = options.mode
        self.root = Path(options.dir)
        self.run_id = run_id
        self._folder: Path | None = None
        self._lock = threading.Lock()  # targets run in worker threads

    @property
    def on(self) -> bool:
        return self.mode != "off"

    def start(self, context: BrowserContext, target_name: str) -> bool:
        """Starts tracing `context`; False when it could not (the page load goes on untraced)."""
        if not self.on:
            return False
        try:
            context.tracing.start(name=target_name, title=target_name, screenshots=True, snapshots=True)
        except PlaywrightError:
            return False
        return True

    def stop(self, context: BrowserContext, target_name: str, failed: bool) -> str:
        """Stops tracing and keeps the trace when the mode says so (`failed`: a check failed or erred); the path
        kept, or "" (discarded, or the browser went away with it)."""
        keep = self.mode == "on" or (self.mode == "retain-on-failure" and failed)
        try:
            if not keep:
                context.tracing.stop()
                return ""
            path = self.folder() / f"{target_name}{TRACE_SUFFIX}"
            context.tracing.stop(path=str(path))
        except (PlaywrightError, OSError):
            return ""
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return str(path)

    def folder(self) -> Path:
        with self._lock:
            if self._folder is None:
                private_folder(self.root)
                self._folder = self._new_run_folder()
            return self._folder

    def _new_run_folder(self) -> Path:
        for step in range(1000):  # two runs started in the same millisecond each get their own folder
            folder = self.root / (self.run_id if step == 0 else f"{self.run_id}-{step}")
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                continue
            os.chmod(folder, 0o700)  # whatever the umask
            return folder
        raise FileExistsError(f"no free trace folder for run {self.run_id} in {self.root}")

    def prune(self, keep_runs: int) -> None:
        """Removes the oldest run folders of `trace.dir` beyond the newest `keep_runs` (`history.keep_runs`, as the
        reports folder; 0 keeps every one), never this run's. Only folders named as cifcheck names them, never
        through a link. Best effort: a folder that cannot be removed now is removed by a later run."""
        if keep_runs <= 0:
            return
        try:
            entries = list(self.root.iterdir())
        except OSError:
            return
        folders = sorted(
            (e for e in entries if RUN_FOLDER.fullmatch(e.name) and not e.is_symlink() and e.is_dir()),
            key=lambda entry: entry.name,
            reverse=True,
        )
        for folder in folders[keep_runs:]:
            if folder != self._folder:
                shutil.rmtree(folder, ignore_errors=True)
