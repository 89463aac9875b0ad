"""reports/index.html: every past run with its verdict, newest first (a scheduled smoke test's history), and per
target what changed since that target's previous run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from cifcheck.report.html import ENVIRONMENT
from cifcheck.results import RunResult, Status, TargetResult, check_changes

# The run ids cifcheck writes (runner.new_run_id): ASCII digits only, matched whole (`$` would let "...\n" by).
RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{3}")
FAILING = ("fail", "error")


def past_runs(output_dir: Path) -> list[RunResult]:
    """The runs in `output_dir`. A run id becomes a link in the history, so a result.json is listed only when its
    run id has cifcheck's own format and is the name of its folder: a planted `javascript:alert(1)` or `../../x`
    is neither a link nor a path."""
    runs = []
    for folder in output_dir.iterdir():
        result_file = folder / "result.json"
        if not RUN_ID.fullmatch(folder.name) or folder.is_symlink() or not result_file.is_file():
            continue
        try:
            run = RunResult.model_validate_json(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, ValidationError):
            continue  # a damaged run is left out of the list, not fatal
        if run.run_id == folder.name:
            runs.append(run)
    return sorted(runs, key=lambda run: run.run_id, reverse=True)


@dataclass
class TargetChange:
    """One target of a run against that target's previous live run, by check id."""

    target: str
    status: Status
    first_run: bool = False
    not_run: bool = False  # the run was interrupted before this target finished: nothing to compare
    new_failures: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)  # an error now: neither a new failure nor fixed

    @property
    def noted(self) -> bool:
        """Worth a line of its own: anything but a target that passes as it did before."""
        return bool(
            self.not_run or self.first_run or self.new_failures or self.fixed or self.still_failing or self.undecided
        )


def _statuses(target: TargetResult) -> dict[str, Status]:
    return {check.id: check.status for check in target.checks}


def _change(target: TargetResult, previous: dict[str, Status] | None) -> TargetChange:
    """The target against its previous live run, by the comparison `--baseline` uses (results.check_changes)."""
    if target.not_run:
        return TargetChange(target.target, target.status, not_run=True)
    now = _statuses(target)
    if previous is None:
        failing = [check_id for check_id, status in now.items() if status in FAILING]
        return TargetChange(target.target, target.status, first_run=True, still_failing=failing)
    by_check = check_changes(now, previous)  # a check the previous run did not have, failing now, is a new failure

    def marked(change: str) -> list[str]:
        return [check_id for check_id, marked_as in by_check.items() if marked_as == change]

    return TargetChange(
        target.target,
        target.status,
        new_failures=marked("new failure"),
        fixed=marked("fixed"),
        still_failing=marked("still failing"),
        undecided=marked("undecided"),
    )


def changes(runs: list[RunResult]) -> dict[str, list[TargetChange]]:
    """Per run id, each target against its previous live run. An offline re-judge (`cifcheck report`) is compared
    too, but is no baseline: it judges old evidence, so the next live run is compared with the last live one. Nor
    is a target an interrupted run never finished: its checks are skipped, not judged."""
    last_live: dict[str, dict[str, Status]] = {}
    by_run: dict[str, list[TargetChange]] = {}
    for run in sorted(runs, key=lambda run: run.run_id):
        by_run[run.run_id] = [_change(target, last_live.get(target.target)) for target in run.targets]
        if not run.rejudged_offline:
            last_live.update({target.target: _statuses(target) for target in run.targets if not target.not_run})
    return by_run


def render_history(output_dir: Path) -> str:
    runs = past_runs(output_dir)
    return ENVIRONMENT.get_template("history.html.j2").render(runs=runs, changes=changes(runs))
