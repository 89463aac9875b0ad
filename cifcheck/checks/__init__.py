"""All checks, in the order of the migration document. `run_checks` judges one target's evidence."""

from __future__ import annotations

from collections.abc import Iterable

from cifcheck.checks import library_loaded, signed_in  # noqa: F401 - importing registers the checks
from cifcheck.checks.registry import REGISTRY, Check, evaluate
from cifcheck.evidence import Evidence
from cifcheck.results import CheckResult

# Migration order: the report and every output list checks this way.
ORDER = ("session.signed_in", "cif.library_loaded")


def all_checks() -> list[Check]:
    return [REGISTRY[check_id] for check_id in ORDER]


def run_checks(evidence: Evidence, selected: Iterable[str] | None = None) -> list[CheckResult]:
    wanted = set(selected) if selected is not None else None
    results: dict[str, CheckResult] = {}
    for check in all_checks():
        if wanted is None or check.id in wanted:
            results[check.id] = evaluate(check, evidence, results)
    return list(results.values())
