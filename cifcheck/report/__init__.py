"""Writers for a finished run: reports/<run-id>/ with index.html, result.json, junit.xml and
evidence/<target>.json; reports/latest pointing at the newest run; reports/index.html listing every run.

A run folder appears only when complete (written under a hidden name, then renamed), and the shared files
are replaced atomically, so an interrupted run never leaves a half-written report over a good one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from cifcheck.evidence import Evidence
from cifcheck.redact import known_leaks, scrub_known
from cifcheck.report.history import render_history
from cifcheck.report.html import render_html
from cifcheck.report.junit import render_junit
from cifcheck.results import RunResult

ModelT = TypeVar("ModelT", bound=BaseModel)


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
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


def write_run(result: RunResult, evidence: list[Evidence], output_dir: str | Path) -> Path:
    """Write every output of a run, each verified to hold no known secret."""
    result = verified(result)
    evidence = [verified(item) for item in evidence]
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    run_dir = output_dir / result.run_id
    partial = output_dir / f".{result.run_id}.partial"
    (partial / "evidence").mkdir(parents=True)
    for item in evidence:
        (partial / "evidence" / f"{item.target.name}.json").write_text(item.model_dump_json(indent=2), encoding="utf-8")
    (partial / "result.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    (partial / "junit.xml").write_text(_verified_text(render_junit(result), "junit.xml"), encoding="utf-8")
    (partial / "index.html").write_text(_verified_text(render_html(result, evidence), "index.html"), encoding="utf-8")
    partial.rename(run_dir)
    _replace_latest(output_dir, run_dir)
    write_atomically(output_dir / "index.html", render_history(output_dir))
    return run_dir
