"""`cifcheck merge`: the runs of a CI matrix (one per `--shard i/n`, or any runs of distinct targets) put together
into one run, for the writers to render as one report.

Verdicts are kept as recorded: merging judges nothing again (`cifcheck report` is the command that re-judges). What
cannot be one honest report is refused, one line naming the file or the target: a folder without result.json, a
result.json that cannot be read, a target in two inputs, shards of different splits, and a missing shard. A missing
shard is refused rather than merged with a warning: the merged run is read as the fleet's verdict, and one without a
quarter of the fleet would pass for the whole; the shards that did run still have their own reports.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from cifcheck.config import TARGET_NAME, not_utf8, parse_json_text, regular_file
from cifcheck.config_messages import problems
from cifcheck.evidence import Evidence
from cifcheck.offline import EvidenceError, load_evidence
from cifcheck.results import RESULT_SCHEMA_VERSION, FailOn, RunResult
from cifcheck.shard import Shard, interleaved, parse_shard

# The longest run a merged input may say it took: a year. Beyond it the number is no run's, and adding it to the start
# overflows the date.
MAX_DURATION_MS = 366 * 24 * 3600 * 1000
_WEB_LINK = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>`]+")  # a guide link as the report may render it
MISSING_NAMED = 3  # missing shards a refusal names, before "and N more"


class MergeError(Exception):
    """Inputs that cannot be merged: one line naming the file or the target."""

    def __init__(self, line: str) -> None:
        self.lines = (line,)
        super().__init__(line)


@dataclass
class InputRun:
    folder: Path  # the run folder: result.json and evidence/ inside
    result: RunResult
    evidence: list[Evidence]
    shard: Shard | None

    @property
    def file(self) -> Path:
        return self.folder / "result.json"


def run_folder(path: Path) -> Path:
    """The run folder `path` names: itself when it holds result.json, else the run its `latest` points at (a reports
    folder, as `cifcheck run --output DIR` writes it)."""
    for folder in (path, path / "latest"):
        try:
            if (folder / "result.json").exists():
                return folder
        except OSError:  # a name too long for a file name, a folder that may not be entered
            continue
    if not path.is_dir():
        raise MergeError(f"{path}: no such folder; give run folders written by `cifcheck run`")
    raise MergeError(f"{path}: no result.json; give a run folder written by `cifcheck run`, or a reports folder")


def read_result(
    file: Path, error: type[Exception] = MergeError, newer: str = "merge with that version", what: str = "result file"
) -> RunResult:
    """A result.json cifcheck wrote, checked as a file from elsewhere must be (a CI artifact, a baseline, a bundle):
    each problem one line naming the file, as `error` (MergeError by default); `newer` is what to do with a result
    of a newer schema."""
    regular_file(file, what, error)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{file}: {not_utf8(file)}") from None
    except OSError as problem:
        raise error(f"{file}: cannot read it: {problem.strerror or problem}") from None
    data = parse_json_text(text, str(file), error)
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > RESULT_SCHEMA_VERSION:
        raise error(f"{file}: written by a newer cifcheck (result schema {version}); {newer}")
    try:
        result = RunResult.model_validate(data)
    except ValidationError as invalid:
        found = problems(invalid, RunResult)
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise error(f"{file}: not a result.json cifcheck writes: {found[0]}{more}") from None
    if result.schema_version > RESULT_SCHEMA_VERSION:  # written as "2" or 2.0, which validation reads as 2
        raise error(f"{file}: written by a newer cifcheck (result schema {result.schema_version}); {newer}")
    for index, target in enumerate(result.targets):
        # The name becomes a file name below and in the merged run: only names a config can hold.
        if not re.fullmatch(TARGET_NAME, target.target):
            raise error(f"{file}: targets[{index}].target: not a target name a config can hold")
        for number, check in enumerate(target.checks):
            # The report makes doc_url a link: a file that is not cifcheck's own may hold a script there.
            if check.doc_url and not _WEB_LINK.fullmatch(check.doc_url):
                raise error(f"{file}: targets[{index}].checks[{number}].doc_url: not an http(s) link")
    if not (math.isfinite(result.duration_ms) and 0 <= result.duration_ms <= MAX_DURATION_MS):
        raise error(f"{file}: duration_ms: not a run's length in milliseconds ({str(result.duration_ms)[:40]})")
    _ended(result, file, error)
    return result


def _started(result: RunResult, file: Path, error: type[Exception] = MergeError) -> datetime:
    try:
        started = datetime.fromisoformat(result.started_at)
    except ValueError:
        raise error(f"{file}: started_at: not a date and time ({result.started_at[:40]!r})") from None
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def _ended(result: RunResult, file: Path, error: type[Exception] = MergeError) -> datetime:
    try:
        return _started(result, file, error) + timedelta(milliseconds=result.duration_ms)
    except OverflowError:  # a start in the year 9999: its end is past the last date there is
        raise error(f"{file}: started_at: too late for a run that lasted {result.duration_ms:,.0f} ms") from None


def load_input(path: Path) -> InputRun:
    """One run folder (or a reports folder's latest run): its result and the evidence of each finished target."""
    folder = run_folder(path)
    result = read_result(folder / "result.json")
    evidence = []
    for target in result.targets:
        if target.not_run:
            continue  # an interrupted run kept no evidence of it
        file = folder / "evidence" / f"{target.target}.json"
        try:
            item = load_evidence(file)
        except EvidenceError as error:
            raise MergeError(error.lines[0]) from None
        if item.target.name != target.target:
            raise MergeError(f"{file}: the evidence of target {item.target.name!r}, not of {target.target!r}")
        evidence.append(item)
    try:
        shard = parse_shard(result.shard) if result.shard else None
    except ValueError as error:  # the model's pattern lets only i/n through, but not only i <= n
        raise MergeError(f"{folder / 'result.json'}: shard: {error}") from None
    return InputRun(folder, result, evidence, shard)


def _in_shard_order(runs: list[InputRun]) -> list[InputRun]:
    """The inputs in shard order, every shard of one split present once; or as given, when none is a shard."""
    sharded = [run for run in runs if run.shard]
    if not sharded:
        return runs
    first = sharded[0]
    for run in runs:
        if run.shard is None:
            raise MergeError(f"{run.file}: a whole run, not a shard, but {first.file} is shard {first.shard}")
        if run.shard.count != first.shard.count:  # type: ignore[union-attr]  # sharded: never None
            raise MergeError(
                f"{run.file} is shard {run.shard} but {first.file} is shard {first.shard}: runs from different "
                "shard counts; merge the shards of one split"
            )
    by_index: dict[int, InputRun] = {}
    for run in runs:
        assert run.shard is not None
        if run.shard.index in by_index:
            raise MergeError(f"shard {run.shard} given twice: {by_index[run.shard.index].folder} and {run.folder}")
        by_index[run.shard.index] = run
    count = first.shard.count  # type: ignore[union-attr]
    missing = count - len(by_index)
    if missing:
        # Only the first few are listed, found without counting up to a shard count a file may make huge.
        named: list[str] = []
        index = 0
        while len(named) < min(missing, MISSING_NAMED):
            index += 1
            if index not in by_index:
                named.append(f"{index}/{count}")
        listed = ", ".join(named) + (f" and {missing - len(named):,} more" if missing > len(named) else "")
        raise MergeError(
            f"shard{'s' if missing > 1 else ''} {listed} missing: give the run folder of every shard (each "
            "writes one, even with no targets)"
        )
    return [by_index[index] for index in sorted(by_index)]


def _one_each(runs: list[InputRun]) -> None:
    seen: dict[str, Path] = {}
    for run in runs:
        for target in run.result.targets:
            if target.target in seen:
                raise MergeError(
                    f"target {target.target!r} is in both {seen[target.target]} and {run.file}; merge each target once"
                )
            seen[target.target] = run.file


def merge_runs(paths: list[Path], run_id: str, fail_on: FailOn = "fail") -> tuple[RunResult, list[Evidence]]:
    """The runs in `paths` as one run with id `run_id`, in the order one unsharded run would have given (shards
    interleaved), else in the order given. It started when the first started, took until the last ended, and is
    interrupted when any was."""
    runs = _in_shard_order([load_input(path) for path in paths])
    _one_each(runs)
    if any(run.shard for run in runs):
        targets = interleaved([run.result.targets for run in runs])
    else:
        targets = [target for run in runs for target in run.result.targets]
    starts = [_started(run.result, run.file) for run in runs]
    ends = [_ended(run.result, run.file) for run in runs]
    offline = all(run.result.rejudged_offline for run in runs)
    # The baseline the inputs' checks were marked against (`run --baseline`), kept for when merge compares nothing
    # itself: the report then says against which run its new failures are new.
    baselines = sorted({run.result.baseline_run_id for run in runs if run.result.baseline_run_id})
    result = RunResult(
        run_id=run_id,
        cifcheck_version=" / ".join(sorted({run.result.cifcheck_version for run in runs})),
        started_at=min(starts).isoformat(timespec="seconds"),
        duration_ms=0 if offline else round((max(ends) - min(starts)).total_seconds() * 1000, 1),
        browser=" / ".join(sorted({run.result.browser for run in runs if run.result.browser})),
        # Part of the verdicts judged old evidence again: no baseline for the history, as a re-judge is not.
        rejudged_offline=any(run.result.rejudged_offline for run in runs),
        targets=targets,
        # A target not run is one nobody judged, said so or not (`pytest --cifcheck -x` wrote such runs): the merged
        # run is interrupted, never a pass and never a baseline.
        interrupted=any(run.result.interrupted or run.result.not_run for run in runs),
        fail_on=fail_on,
        baseline_run_id=" / ".join(baselines) or None,
    )
    return result, [item for run in runs for item in run.evidence]
