"""reports/index.html: every past run with its verdict, newest first (a scheduled smoke test's history)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from cifcheck.report.html import ENVIRONMENT
from cifcheck.results import RunResult

RUN_ID = re.compile(r"^\d{8}-\d{6}-\d{3}$")


def past_runs(output_dir: Path) -> list[RunResult]:
    runs = []
    for folder in output_dir.iterdir():
        result_file = folder / "result.json"
        if not RUN_ID.match(folder.name) or folder.is_symlink() or not result_file.is_file():
            continue
        try:
            runs.append(RunResult.model_validate_json(result_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError):
            continue  # a damaged run is left out of the list, not fatal
    return sorted(runs, key=lambda run: run.run_id, reverse=True)


def render_history(output_dir: Path) -> str:
    return ENVIRONMENT.get_template("history.html.j2").render(runs=past_runs(output_dir))
