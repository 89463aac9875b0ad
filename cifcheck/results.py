"""Verdicts: what each check decided for each target, and the run as a whole."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, computed_field, model_validator

Status = Literal["pass", "fail", "warn", "skip", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "skip", "error")


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


class TargetResult(BaseModel):
    target: str
    url: str
    app: str
    user: str | None = Field(None, description="The signed-in user, as the page names it.")
    opened_url: str = ""
    duration_ms: float = 0
    checks: list[CheckResult]
    evidence_file: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Status:
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Status:
        return worst(t.status for t in self.targets)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(t.counts[s] for t in self.targets) for s in STATUSES}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """0 when everything passed, warned or was skipped; 1 on any failure; 2 on any error."""
        return {"error": 2, "fail": 1}.get(self.status, 0)


_SEVERITY: dict[str, int] = {"pass": 0, "skip": 0, "warn": 1, "fail": 2, "error": 3}


def worst(statuses: Iterable[Status]) -> Status:
    result: Status = "pass"
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[result]:
            result = status
    return result
