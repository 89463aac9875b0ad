"""Verdicts: what each check decided for each target, and the run as a whole."""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, computed_field, model_validator

from cifcheck.shard import SHARD_PATTERN

Status = Literal["pass", "fail", "warn", "skip", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "skip", "error")
FailOn = Literal["fail", "warn", "regression"]
# A check against the baseline run (`--baseline`): README, "Regressions against a baseline".
Change = Literal["new failure", "still failing", "fixed", "unchanged", "undecided", "new"]

# The process's exit codes (README, "Exit codes"; `cifcheck run --help`).
EXIT_OK = 0  # everything passed, warned or was skipped
EXIT_FAIL = 1  # a check failed (the org is wrong), even with errors beside it; or warned, with --fail-on warn
EXIT_UNDECIDED = 2  # cifcheck could not decide (errors and no failure), or the input was bad
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: the report holds the finished targets, the others marked not run
NOT_RUN_REASON = "Not run: the run was interrupted before this target finished."


# Caps on what a verdict shows, so that result.json, junit.xml and the terminal grow with the number of checks and
# not with what a page holds (README, "Limits"). Evidence values are capped already (evidence.py); these bound
# what checks quote and list.
REASON_MAX = 1_000
VALUE_MAX = 2_000
CODE_MAX = 20_000
ROWS_MAX = 500


def _cap(limit: int) -> BeforeValidator:
    def cut(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            return f"{value[:limit]}… [cut: {len(value):,} characters in all]"
        return value

    return BeforeValidator(cut)


Value = Annotated[str, _cap(VALUE_MAX)] | int | float | bool | None


class Detail(BaseModel):
    """One piece of shown evidence: a key-value list, a table with typed columns, an image, or code."""

    kind: Literal["facts", "table", "image", "code"]
    title: Annotated[str, _cap(VALUE_MAX)] = ""
    facts: dict[str, Value] = Field(default_factory=dict)
    headings: list[dict[str, str]] = Field(
        default_factory=list, description="Table columns: {key, label, type: text|url|code|ms|bytes}."
    )
    rows: list[dict[str, Value]] = Field(default_factory=list, description=f"At most {ROWS_MAX} rows.")
    image_png_base64: str = ""
    code: Annotated[str, _cap(CODE_MAX)] = ""

    @model_validator(mode="after")
    def _rows_capped(self) -> Detail:
        if len(self.rows) > ROWS_MAX:
            self.title = f"{self.title} (the first {ROWS_MAX} of {len(self.rows):,} rows)"
            self.rows = self.rows[:ROWS_MAX]
        return self


class CheckResult(BaseModel):
    id: str
    title: str
    status: Status
    checked: str = Field("", description="What the check looks at.")
    reason: Annotated[str, _cap(REASON_MAX)] = Field(description="One sentence: what was found.")
    remediation: str = Field("", description="What to do, for a failure, warning or error.")
    doc_step: str = ""
    doc_url: str = ""
    details: list[Detail] = Field(default_factory=list)
    change: Change | None = Field(
        None,
        description="Against the baseline run (`--baseline`): `new failure` (fails now, did not fail then), `still "
        "failing`, `fixed` (failed then, passes, warns or is skipped now), `unchanged`, `undecided` (an error now: "
        "cifcheck could not decide, so neither a regression nor a fix) or `new` (a target or check the baseline did "
        "not judge: not a regression). Absent without a baseline.",
    )


class TargetResult(BaseModel):
    target: str
    url: str
    app: str
    user: str | None = Field(None, description="The signed-in user, as the page names it.")
    opened_url: str = ""
    duration_ms: float = 0
    checks: list[CheckResult]
    evidence_file: str = ""
    not_run: bool = Field(
        False,
        description="The run was interrupted before this target finished: its checks are skip, no evidence is kept.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Status:
        if self.not_run:
            return "skip"
        return worst(c.status for c in self.checks)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}


RESULT_SCHEMA_VERSION = 1


class RunResult(BaseModel):
    schema_version: int = RESULT_SCHEMA_VERSION
    run_id: str
    cifcheck_version: str
    started_at: str
    duration_ms: float
    browser: str = ""
    rejudged_offline: bool = Field(
        False, description="Judged again from saved evidence (`cifcheck report`): no browser ran, nothing was timed."
    )
    targets: list[TargetResult]
    interrupted: bool = Field(False, description="Stopped by Ctrl-C or SIGTERM; the targets not finished are not_run.")
    fail_on: FailOn = Field(
        "fail",
        description="What makes the exit code 1 (`--fail-on`): a failure, a warning too, or only a new failure "
        "against the baseline (`regression`).",
    )
    baseline_run_id: str | None = Field(
        None,
        description="The run each check's `change` is against (`--baseline`); absent without a baseline, and when "
        "`--baseline latest` found no earlier run (every check is then `new`).",
    )
    shard: Annotated[str, Field(pattern=SHARD_PATTERN)] | None = Field(
        None,
        description="`i/n`: this run is shard i of n of the selected targets (`cifcheck run --shard`), one part of a "
        "run that `cifcheck merge` puts together; null for a whole run, and for a merged one.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Status:
        """The worst verdict of the finished targets; `skip` when none finished (an interrupt before the first) or
        there were none (a shard with no targets): nothing was judged, so nothing passed."""
        finished = [t for t in self.targets if not t.not_run]
        if not finished:
            return "skip"
        return worst(t.status for t in finished)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        each = [target.counts for target in self.targets]  # once per target: a 2,000-target run asks often
        return {s: sum(counts[s] for counts in each) for s in STATUSES}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """130 when interrupted; else 1 on any failure (even beside errors: the org is wrong somewhere), or on a
        warning with `fail_on` warn; with `fail_on` regression only on a new failure against the baseline (an old
        failure alone is 0); else 2 on any error (cifcheck could not decide, so an error may hide a regression too);
        else 0."""
        counts = self.counts
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.fail_on == "regression":
            if self.with_change("new failure"):
                return EXIT_FAIL
        elif counts["fail"] or (self.fail_on == "warn" and counts["warn"]):
            return EXIT_FAIL
        return EXIT_UNDECIDED if counts["error"] else EXIT_OK

    @property
    def not_run(self) -> list[TargetResult]:
        return [target for target in self.targets if target.not_run]

    @property
    def compared(self) -> bool:
        """Whether the checks were marked against a baseline (even one that did not exist yet: all `new`)."""
        return any(check.change for target in self.targets for check in target.checks)

    def with_change(self, change: Change) -> list[tuple[TargetResult, CheckResult]]:
        """Every (target, check) marked `change`, in target and check order."""
        return [(target, check) for target in self.targets for check in target.checks if check.change == change]


def not_run_target(name: str, url: str, app: str, checks: Iterable[tuple[str, str]]) -> TargetResult:
    """A target the run never finished: each of its checks (id, title) skipped, saying why."""
    skipped = [CheckResult(id=id_, title=title, status="skip", reason=NOT_RUN_REASON) for id_, title in checks]
    return TargetResult(target=name, url=url, app=app, checks=skipped, not_run=True)


def change_of(now: Status, was: Status | None) -> Change:
    """How one check moved from its baseline verdict `was` (None: the baseline judged the target, not this check) to
    `now`. A failure is new unless the baseline shows it failing: it passed, warned, was skipped, was not run on the
    target, or could not be decided then (nothing vouches that it failed). An error now is `undecided`: cifcheck could
    not decide, so it is neither a regression nor a fix."""
    if now == "error":
        return "undecided"
    if now == "fail":
        return "still failing" if was == "fail" else "new failure"
    return "fixed" if was == "fail" else "unchanged"


def check_changes(
    now: dict[str, Status], was: dict[str, Status] | None, known: Container[str] | None = None
) -> dict[str, Change]:
    """Each of a target's checks (id -> verdict now) against the same target's verdicts in the baseline (`was`; None:
    the baseline did not judge this target). Every check of a target the baseline did not judge is `new`, and so is a
    check no target of the baseline was judged on (`known`: those check ids; None: all), such as one a newer cifcheck
    added: nothing to compare with, so not a regression."""
    if was is None:
        return dict.fromkeys(now, "new")
    return {
        check_id: "new" if known is not None and check_id not in known else change_of(status, was.get(check_id))
        for check_id, status in now.items()
    }


# A failure outranks an error: the org is wrong somewhere, whatever else could not be decided (the exit code too).
_SEVERITY: dict[str, int] = {"pass": 0, "skip": 0, "warn": 1, "error": 2, "fail": 3}


def worst(statuses: Iterable[Status]) -> Status:
    result: Status = "pass"
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[result]:
            result = status
    return result
