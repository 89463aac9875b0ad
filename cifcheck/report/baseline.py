"""`--baseline RUN|latest`: the earlier run a run is compared with, and each check's change against it.

The comparison itself is `results.check_changes`, the one the run history uses between consecutive runs.
"""

from __future__ import annotations

from pathlib import Path

from cifcheck.report.history import RUN_ID
from cifcheck.results import CheckResult, RunResult, Status, check_changes

LATEST = "latest"
NO_BASELINE_YET = "no baseline run yet: every check is compared with nothing"


class BaselineError(Exception):
    """A baseline that does not exist or cannot be read: one line naming `--baseline` and the path."""

    def __init__(self, line: str) -> None:
        super().__init__(f"--baseline: {line}")


def find_baseline(given: str, reports: Path) -> RunResult | None:
    """The run `given` names: `latest` (the newest usable run in `reports`; None when there is none yet), a run id in
    `reports`, a run folder, or a result.json. Anything else, or a file that is no result.json, is a BaselineError."""
    if given == LATEST:
        return latest_run(reports)
    if not given.strip():  # `--baseline "$LAST_RUN"` with the variable unset: Path("") is the current folder
        raise BaselineError("empty; give latest, a run id, a run folder or a result.json")
    path = Path(given)
    try:
        if path.is_dir():
            return read_run(path / "result.json")
        if not path.exists() and not path.is_symlink():
            if RUN_ID.fullmatch(given) and (reports / given).is_dir():
                return read_run(reports / given / "result.json")
            raise BaselineError(
                f"{given}: not found (give latest, a run id in {reports}, a run folder or a result.json)"
            )
    except OSError:  # a name too long for a file name, a folder that may not be entered: read_run says which
        pass
    return read_run(path)


def read_run(path: Path) -> RunResult:
    from cifcheck.merge import read_result

    return read_result(path, BaselineError, "compare with that version", "baseline result.json")


def latest_run(reports: Path) -> RunResult | None:
    """The newest run in `reports` that ran live to its end: as in the history, a re-judge of old evidence is no
    baseline, nor is an interrupted run (its unfinished targets were never judged). Folders are read newest first,
    so only as many result.json files as needed are parsed. None when there is none."""
    try:
        names = sorted((entry.name for entry in reports.iterdir() if RUN_ID.fullmatch(entry.name)), reverse=True)
    except OSError:  # no reports folder yet
        return None
    for name in names:
        try:
            run = read_run(reports / name / "result.json")
        except BaselineError:
            continue  # a damaged or half-removed run is passed over, as the history does
        if run.run_id == name and not run.rejudged_offline and not run.interrupted:
            return run
    return None


def _statuses(checks: list[CheckResult]) -> dict[str, Status]:
    return {check.id: check.status for check in checks}


def mark_changes(result: RunResult, baseline: RunResult | None) -> None:
    """Each check of `result` marked against `baseline` (None: no baseline run yet, so every check is `new`), target by
    target name. A target the baseline did not judge (absent, or not run there) is new; so is a check no target of
    the baseline had. A target not run now is left unmarked: it was not judged."""
    result.baseline_run_id = baseline.run_id if baseline else None
    judged = {target.target: target for target in baseline.targets if not target.not_run} if baseline else {}
    known = {check.id for target in judged.values() for check in target.checks}
    for target in result.targets:
        if target.not_run:
            continue
        was = judged.get(target.target)
        changes = check_changes(_statuses(target.checks), _statuses(was.checks) if was else None, known)
        for check in target.checks:
            check.change = changes[check.id]
