"""All checks, in the order of the migration document. `run_checks` judges one target's evidence."""

from __future__ import annotations

from collections.abc import Iterable

from cifcheck.checks import (  # noqa: F401 - importing registers the checks
    active_providers_view,
    app_loaded,
    channel_providers,
    cif_v2_loader,
    console_errors,
    library_loaded,
    loader_extension,
    panel_docked,
    profile_providers,
    provider_parity,
    session_providers,
    signed_in,
    user_assigned,
    v1_absent,
    widget_loaded,
)
from cifcheck.checks.registry import REGISTRY, Check, evaluate
from cifcheck.evidence import Evidence
from cifcheck.results import CheckResult, TargetResult

# Migration order: the report and every output list checks this way.
ORDER = (
    "session.signed_in",
    "app.loaded",
    "cif.library_loaded",
    "profile.channel_providers",
    "profile.cif_v2_loader",
    "panel.docked",
    "widget.loaded",
    "cif.v1_absent",
    "console.cif_errors",
    "records.provider_parity",
    "records.profile_providers",
    "records.user_assigned",
    "records.loader_extension",
    "records.active_providers_view",
    "records.session_providers",
)


def all_checks() -> list[Check]:
    return [REGISTRY[check_id] for check_id in ORDER]


def _with_prerequisites(selected: set[str]) -> set[str]:
    needed = set(selected)
    for check_id in ORDER[::-1]:  # prerequisites come earlier in the order
        if check_id in needed:
            needed.update(REGISTRY[check_id].prerequisites)
    return needed


def run_checks(evidence: Evidence, selected: Iterable[str] | None = None) -> list[CheckResult]:
    """The selected checks' verdicts (all checks when None). Prerequisites of a selected check are judged
    too, so that a check is still skipped when its prerequisite fails; only the selected are returned, and any
    prerequisite that failed or erred: otherwise an expired session or a missing library left nothing but skips,
    and the target passed."""
    wanted = set(selected) if selected is not None else set(ORDER)
    judged = _with_prerequisites(wanted)
    results: dict[str, CheckResult] = {}
    for check in all_checks():
        if check.id in judged:
            results[check.id] = evaluate(check, evidence, results)
    return [r for check_id, r in results.items() if check_id in wanted or r.status in ("fail", "error")]


def judge_target(evidence: Evidence, selected: Iterable[str] | None = None) -> TargetResult:
    """The verdicts on one target's evidence, as every output shows them; by default on the checks the
    target selected when its evidence was gathered."""
    if selected is None:
        selected = evidence.settings.checks
    return TargetResult(
        target=evidence.target.name,
        url=evidence.target.url,
        app=evidence.target.app,
        user=evidence.app.user_name if evidence.app else None,
        opened_url=evidence.target.opened_url,
        duration_ms=evidence.duration_ms,
        checks=run_checks(evidence, selected),
        evidence_file=f"evidence/{evidence.target.name}.json",
    )
