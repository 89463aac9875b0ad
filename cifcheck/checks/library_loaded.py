"""cif.library_loaded: msdyn_channelintegrationframework.js was requested and answered 2xx, in any frame."""

from __future__ import annotations

from cifcheck.checks import cif_v2_loader
from cifcheck.checks.fixes import config_in_use, org_failure
from cifcheck.checks.profile import APP_PROFILE_FIX
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import named, org_failed, outcome, succeeded, unanswered
from cifcheck.evidence import Evidence, ResourceLoad
from cifcheck.results import Detail


def _never_requested_fix(evidence: Evidence) -> str:
    """The app profile's loader requests the library: when the loader is wrong, its card has the fix."""
    library = evidence.settings.library_file
    loader = evidence.settings.loader_name
    if evidence.storage is None:
        return APP_PROFILE_FIX
    if cif_v2_loader.judge(evidence).status != "pass":
        return (
            f"Nothing requests {library} because the app profile's {loader} extension, which loads it, is missing "
            f"or points elsewhere: fix the profile as profile.cif_v2_loader says, then reload the app."
        )
    return (
        f"The profile names {loader}, yet the app never ran it: the app may not load its extensions, or the "
        f"session storage profile is stale. {APP_PROFILE_FIX}"
    )


def _missing_fix(library: str, what: str) -> str:
    return (
        f"The org has no web resource {library} ({what}): the Channel Integration Framework 2.0 solution is not "
        "installed in this org, or not up to date. Install or update it (Power Platform admin center > the "
        "environment > Dynamics 365 apps), then reload; changing the app profile cannot fix a missing web resource."
    )


def _refused_fix(library: str, what: str) -> str:
    return (
        f"The org refused {library} ({what}): the signed-in user may not read this web resource. Check the user's "
        "security roles for this app, and that the session did not end during the run."
    )


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
            remediation=_never_requested_fix(evidence),
        )
    good = next((load for load in loads if succeeded(load)), None)
    if good is not None:
        took = f" in {good.duration_ms:.0f} ms" if good.duration_ms is not None else ""
        return Verdict("pass", f"{library} answered HTTP {good.status}{took}.", [_facts(good)])
    last = loads[-1]
    what = outcome(last)
    details = [_facts(load) for load in loads]
    if org_failed(last):
        return _org_failed(evidence, last, what, details)
    if last.status in (404, 410):
        return Verdict("fail", f"{library} was requested but {what}.", details, _missing_fix(library, what))
    if last.status in (401, 403):
        return Verdict("fail", f"{library} was requested but {what}.", details, _refused_fix(library, what))
    return Verdict(
        "fail",
        f"{library} was requested but {what}.",
        details,
        remediation=f"The org does not serve the CIF 2.0 library ({what}). Check that the Channel Integration "
        "Framework 2.0 solution is installed and up to date in the org, and that the msdyn_CIFV2Loader extension "
        f"points at WebResources/{library}, then reload.",
    )


def _org_failed(evidence: Evidence, last: ResourceLoad, what: str, details: list[Detail]) -> Verdict:
    """The org did not serve the library (5xx, a network error, no answer): cifcheck could not decide."""
    library = evidence.settings.library_file
    observation = evidence.observation

    def reason(what: str) -> str:
        return f"{library} was requested but {what}: the org did not serve it, so the migration cannot be judged."

    if unanswered(last):
        timed_out = observation is not None and observation.settled_by == "time limit"
        limit = f" within {observation.settle_max_ms / 1000:g} s (timeouts.settle_max_ms)" if timed_out else ""
        return Verdict(
            "error",
            reason(f"got no answer{limit}"),
            details,
            remediation="The org was still working on the request when cifcheck stopped watching: a slow or stuck "
            f"org. Re-run; for an org this slow, raise timeouts.settle_max_ms in {config_in_use(evidence)}.",
            title="Org too slow: the CIF library got no answer",
        )
    if last.status is not None:
        return Verdict(
            "error",
            reason(what),
            details,
            remediation=f"The org failed while serving {library} ({what}): a failure of the org, not of the "
            "migration. Retry later; if it keeps answering 5xx, check the environment's state in the Power Platform "
            "admin center, then the Channel Integration Framework 2.0 solution.",
            title="Org unavailable: the CIF library answered a server error",
        )
    failure = org_failure(last.failure or "", last.url, config_in_use(evidence))
    return Verdict(
        "error",
        reason(what),
        details,
        remediation=f"The org stopped answering during the run ({last.failure}): the app page had loaded from it, so "
        "its address is right. Re-run once it answers again; if this keeps happening, check the network, VPN or proxy "
        "to the org.",
        title=failure.title if failure else "Org unreachable: the CIF library request failed",
    )
