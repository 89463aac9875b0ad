"""cif.library_loaded: msdyn_channelintegrationframework.js was requested and answered 2xx, in any frame."""

from __future__ import annotations

from cifcheck.checks.profile import APP_PROFILE_FIX
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import named, org_failed, outcome, succeeded, unanswered
from cifcheck.evidence import Evidence, ResourceLoad
from cifcheck.results import Detail


def _facts(load: ResourceLoad) -> Detail:
    return Detail(
        kind="facts",
        title="Library request",
        facts={
            "URL": load.url,
            "HTTP status": load.status,
            "Network error": load.failure,
            "Frame": load.frame_url,
            "Size (bytes)": load.size,
            "Requested at (ms after navigation)": load.started_ms,
            "Took (ms)": load.duration_ms,
            "Served under a cache token": "%7b" in load.url.lower() or "{" in load.url,
        },
    )


@check(
    id="cif.library_loaded",
    title="CIF 2.0 library loaded",
    failure_title="CIF 2.0 library not loaded",
    remediation=APP_PROFILE_FIX,
    checked="Looks for a request for the CIF 2.0 library from any frame, with or without the cache token, and "
    "its answer.",
    doc_step="Verify step 1: msdyn_channelintegrationframework.js is loaded (DevTools > Sources)",
    requires=("resources",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    library = evidence.settings.library_file
    loads = named(evidence.resources or [], library)
    observation = evidence.observation
    if not loads:
        scripts = sum(load.resource_type == "script" for load in evidence.resources or [])
        waited = f" {observation.waited()}" if observation else ""
        return Verdict(
            "fail",
            f"{library} was never requested (the page loaded {scripts} other scripts;{waited}): the app profile "
            "does not load the CIF 2.0 library.",
        )
    good = next((load for load in loads if succeeded(load)), None)
    if good is not None:
        took = f" in {good.duration_ms:.0f} ms" if good.duration_ms is not None else ""
        return Verdict("pass", f"{library} answered HTTP {good.status}{took}.", [_facts(good)])
    last = loads[-1]
    what = outcome(last)
    details = [_facts(load) for load in loads]
    if org_failed(last):
        if unanswered(last):
            timed_out = observation is not None and observation.settled_by == "time limit"
            limit = f" within {observation.settle_max_ms / 1000:g} s (timeouts.settle_max_ms)" if timed_out else ""
            what = f"got no answer{limit}"
        return Verdict(
            "error",
            f"{library} was requested but {what}: the org did not serve it, so cifcheck cannot tell whether the "
            "migration is right.",
            details,
            remediation="The org or the network to it failed (a 5xx answer, a refused or reset connection, or no "
            "answer). Check that the org is up and reachable from this machine (VPN, proxy), then run cifcheck "
            "again. If it keeps answering 5xx, check the Channel Integration Framework 2.0 solution in the org.",
        )
    return Verdict(
        "fail",
        f"{library} was requested but {what}.",
        details,
        remediation=f"The org does not serve the CIF 2.0 library ({what}). Check that the Channel Integration "
        "Framework 2.0 solution is installed and up to date in the org, and that the msdyn_CIFV2Loader extension "
        f"points at WebResources/{library}, then reload.",
    )
