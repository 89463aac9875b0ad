"""reports/index.html: every past run with its verdict, newest first (a scheduled smoke test's history)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from cifcheck.report.html import ENVIRONMENT
from cifcheck.results import RunResult

# The run ids cifcheck writes (runner.new_run_id): ASCII digits only, matched whole (`$` would let "...\n" by).
RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{3}")


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


def render_history(output_dir: Path) -> str:
    return ENVIRONMENT.get_template("history.html.j2").render(runs=past_runs(output_dir))
