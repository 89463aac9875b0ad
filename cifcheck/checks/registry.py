"""The check registry: each check is declared metadata plus one pure function `Evidence -> Verdict`.

The runner gives a check only evidence it declared: a probe that failed, or evidence that is absent,
makes the check an `error` (the validator could not decide), never a `fail`. A check whose prerequisite
check did not pass is a `skip` naming that prerequisite. A check that raises becomes an `error` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cifcheck.evidence import Evidence
from cifcheck.results import CheckResult, Detail, Status

MIGRATION_DOC = "Migrate third-party channel configuration data (CIF 1.0 to CIF 2.0)"
MIGRATION_DOC_URL = (
    "https://learn.microsoft.com/dynamics365/channel-integration-framework/v2/administer/migrate-config-data"
)


@dataclass
class Verdict:
    status: Status
    reason: str
    details: list[Detail] = field(default_factory=list)
    # Overrides the check's remediation when a failure has a more specific fix.
    remediation: str | None = None
    # Overrides the check's failure title when the failure is of another kind (an org that cannot be reached is
    # not "not signed in").
    title: str | None = None


Judge = Callable[[Evidence], Verdict]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    failure_title: str
    checked: str
    remediation: str
    doc_step: str
    judge: Judge
    requires: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()
    doc_url: str = MIGRATION_DOC_URL


REGISTRY: dict[str, Check] = {}


def check(
    *,
    id: str,
    title: str,
    failure_title: str,
    checked: str,
    remediation: str,
    doc_step: str,
    requires: tuple[str, ...] = (),
    prerequisites: tuple[str, ...] = (),
) -> Callable[[Judge], Judge]:
    """Register `judge` as the check `id`; registering an id twice is a programming error."""

    def register(judge: Judge) -> Judge:
        if id in REGISTRY:
            raise ValueError(f"check {id!r} is registered twice")
        REGISTRY[id] = Check(id, title, failure_title, checked, remediation, doc_step, judge, requires, prerequisites)
        return judge

    return register


def _result(check_: Check, verdict: Verdict) -> CheckResult:
    title = check_.title if verdict.status in ("pass", "skip") else (verdict.title or check_.failure_title)
    remediation = "" if verdict.status in ("pass", "skip") else (verdict.remediation or check_.remediation)
    return CheckResult(
        id=check_.id,
        title=title,
        status=verdict.status,
        checked=check_.checked,
        reason=verdict.reason,
        remediation=remediation,
        doc_step=check_.doc_step,
        doc_url=check_.doc_url,
        details=verdict.details,
    )


def evaluate(check_: Check, evidence: Evidence, earlier: dict[str, CheckResult]) -> CheckResult:
    for prerequisite in check_.prerequisites:
        before = earlier.get(prerequisite)
        if before is not None and before.status not in ("pass", "warn"):
            return _result(check_, Verdict("skip", f"Not checked: prerequisite {prerequisite} is {before.status}."))
    for name in check_.requires:
        if name in evidence.probe_errors:
            return _result(
                check_,
                Verdict(
                    "error",
                    f"The {name} probe failed, so this could not be decided: {evidence.probe_errors[name]}",
                    remediation=f"Re-run; if the {name} probe fails again, attach evidence.json to a cifcheck issue "
                    f"about {check_.id}.",
                ),
            )
        if getattr(evidence, name, None) is None:
            return _result(
                check_,
                Verdict(
                    "error",
                    f"No {name} evidence was gathered, so this could not be decided.",
                    remediation=f"Re-run; if the {name} evidence is missing again, attach evidence.json to a cifcheck "
                    f"issue about {check_.id}.",
                ),
            )
    try:
        verdict = check_.judge(evidence)
    except Exception as error:  # a check bug must not hide the other verdicts
        verdict = Verdict(
            "error",
            f"The check crashed: {type(error).__name__}: {error}",
            remediation=f"This is a cifcheck bug: attach evidence.json to a cifcheck issue about {check_.id}.",
        )
    return _result(check_, verdict)
