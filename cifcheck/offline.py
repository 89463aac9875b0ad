"""Re-judge saved evidence without a browser or an org: a support engineer's offline analysis."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from cifcheck import __version__
from cifcheck.checks import judge_target
from cifcheck.config import parse_json_text, regular_file
from cifcheck.config_messages import capped, problems
from cifcheck.evidence import EVIDENCE_VERSION, Evidence
from cifcheck.results import RunResult
from cifcheck.runner import new_run_id


class EvidenceError(Exception):
    """An evidence file that cannot be read: one line per problem, each naming the file and the field."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def load_evidence(path: Path) -> Evidence:
    regular_file(path, "evidence file", EvidenceError)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvidenceError(f"{path}: evidence file not found") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise EvidenceError(f"{path}: cannot read evidence file: {error.strerror}") from None
    return parse_evidence(text, str(path), EvidenceError)


def parse_evidence(text: str, where: str, error_class: type[Exception]) -> Evidence:
    """One evidence file's text as Evidence. Evidence newer than this cifcheck reads is refused (its fields may
    mean something else); older evidence is read, the fields added since taking their defaults."""
    data = parse_json_text(text, where, error_class)
    if isinstance(data, dict) and "run_id" in data and "target" not in data:
        if ".zip:" in where:  # a bundle's member: no folder to point to
            raise error_class(f"{where}: a run's result.json, not an evidence file")
        run = Path(where).parent
        raise error_class(
            f"{where}: a run's result.json, not an evidence file; pass the run folder ({run}) or its evidence files "
            f"({run / 'evidence' / '*.json'})"
        )
    version = data.get("version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > EVIDENCE_VERSION:
        made_by = str(data.get("cifcheck_version") or "a newer cifcheck")[:40]
        raise error_class(
            f"{where}: evidence version {version} (written by cifcheck {made_by}); this cifcheck ({__version__}) "
            f"reads evidence version {EVIDENCE_VERSION} and older: re-judge it with a newer cifcheck"
        )
    try:
        return Evidence.model_validate(data)
    except ValidationError as error:
        # Every problem (capped), in the same plain words as a config's ("missing", not "Field required").
        raise error_class(*(f"{where}: {line}" for line in capped(problems(error, Evidence)))) from None


def evidence_files(paths: list[Path]) -> list[Path]:
    """The evidence files named: a run folder (`reports/latest`) stands for every evidence file in it."""
    found = []
    for path in paths:
        try:
            is_dir = path.is_dir()
        except OSError:  # a name too long for a file name: load_evidence says so, on one line
            is_dir = False
        if is_dir:
            inside = sorted((path / "evidence").glob("*.json"))
            if not inside:
                raise EvidenceError(f"{path}: a folder without evidence/*.json; pass a run folder or evidence files")
            found.extend(inside)
        else:
            found.append(path)
    return found


def rejudge(paths: list[Path]) -> tuple[RunResult, list[Evidence]]:
    """Every evidence file named (a run folder stands for its evidence, a bundle from `cifcheck bundle` for the
    evidence in it) judged again by this cifcheck."""
    from cifcheck.bundle import BundleError, is_bundle, read_bundle

    evidence = []
    for path in paths:
        if path.suffix.lower() == ".zip" or is_bundle(path):
            try:
                evidence.extend(read_bundle(path)[1])
            except BundleError as error:
                raise EvidenceError(*error.lines) from None
        else:
            evidence.extend(load_evidence(item) for item in evidence_files([path]))
    names = [item.target.name for item in evidence]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise EvidenceError(f"{', '.join(repeated)}: more than one evidence file for this target; give each once")
    targets = [judge_target(item) for item in evidence]
    now = datetime.now(UTC)
    result = RunResult(
        run_id=new_run_id(now),
        cifcheck_version=__version__,
        started_at=now.isoformat(timespec="seconds"),
        duration_ms=0,
        rejudged_offline=True,
        browser=" / ".join(sorted({f"{e.browser.name} {e.browser.version} (recorded)" for e in evidence})),
        targets=targets,
    )
    return result, evidence
