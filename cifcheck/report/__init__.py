"""Writers for a finished run: reports/<run-id>/ with index.html, result.json and evidence/<target>.json,
and reports/latest pointing at the newest run. A run folder appears only when complete."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cifcheck.evidence import Evidence
from cifcheck.report.html import render_html
from cifcheck.results import RunResult


def _replace_latest(output_dir: Path, run_dir: Path) -> None:
    latest = output_dir / "latest"
    temporary = output_dir / f".latest-{run_dir.name}"
    try:
        temporary.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(temporary, latest)  # atomic: readers see the old or the new run, never neither
    except OSError:  # no symlinks (some Windows set-ups): keep a copy instead
        temporary.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        elif latest.exists():
            shutil.rmtree(latest)
        shutil.copytree(run_dir, latest)


def write_run(result: RunResult, evidence: list[Evidence], output_dir: str | Path) -> Path:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    run_dir = output_dir / result.run_id
    partial = output_dir / f".{result.run_id}.partial"
    (partial / "evidence").mkdir(parents=True)
    for item in evidence:
        (partial / "evidence" / f"{item.target.name}.json").write_text(item.model_dump_json(indent=2), encoding="utf-8")
    (partial / "result.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    (partial / "index.html").write_text(render_html(result, evidence), encoding="utf-8")
    partial.rename(run_dir)
    _replace_latest(output_dir, run_dir)
    return run_dir
