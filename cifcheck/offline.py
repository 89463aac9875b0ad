"""Re-judge saved evidence without a browser or an org: a support engineer's offline analysis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from cifcheck import __version__
from cifcheck.checks import judge_target
from cifcheck.evidence import Evidence
from cifcheck.results import RunResult
from cifcheck.runner import new_run_id


class EvidenceError(Exception):
    """An evidence file that cannot be read: one line naming the file and the field."""


def load_evidence(path: Path) -> Evidence:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvidenceError(f"{path}: evidence file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EvidenceError(f"{path}: cannot read evidence file: {error}") from None
    except json.JSONDecodeError as error:
        raise EvidenceError(f"{path}: not valid JSON: {error.msg} at line {error.lineno}") from None
    try:
        return Evidence.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise EvidenceError(f"{path}: {field}: {first['msg']}") from None


def rejudge(paths: list[Path]) -> tuple[RunResult, list[Evidence]]:
    evidence = [load_evidence(path) for path in paths]
    targets = [judge_target(item) for item in evidence]
    now = datetime.now(UTC)
    result = RunResult(
        run_id=new_run_id(now),
        cifcheck_version=__version__,
        started_at=now.isoformat(timespec="seconds"),
        duration_ms=0,
        browser=" / ".join(sorted({f"{e.browser.name} {e.browser.version} (recorded)" for e in evidence})),
        targets=targets,
    )
    return result, evidence
