"""cif.library_loaded: msdyn_channelintegrationframework.js was requested and answered 2xx, in any frame."""

from __future__ import annotations

from cifcheck.checks.profile import APP_PROFILE_FIX
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import named, outcome, succeeded
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
    if not loads:
        scripts = sum(load.resource_type == "script" for load in evidence.resources or [])
        return Verdict(
            "fail",
            f"{library} was never requested (the page loaded {scripts} other scripts): the app profile does not "
            "load the CIF 2.0 library.",
        )
    good = next((load for load in loads if succeeded(load)), None)
    if good is not None:
        took = f" in {good.duration_ms:.0f} ms" if good.duration_ms is not None else ""
        return Verdict("pass", f"{library} answered HTTP {good.status}{took}.", [_facts(good)])
    last = loads[-1]
    what = outcome(last)
    return Verdict(
        "fail",
        f"{library} was requested but {what}.",
        [_facts(load) for load in loads],
        remediation=f"The org could not serve the CIF 2.0 library ({what}). Check that the Channel Integration "
        "Framework 2.0 solution is installed and up to date in the org, then reload. " + APP_PROFILE_FIX,
    )
