"""widget.loaded: every provider frame in the panel loaded its channel URL, loaded msdyn_ciLibrary.js and
completed CIF initialisation; the host accepted its messages."""

from __future__ import annotations

from dataclasses import dataclass

from cifcheck.checks.fixes import config_in_use
from cifcheck.checks.profile import channel_providers
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import canonical, file_name, host, outcome, same_page, succeeded, unanswered
from cifcheck.evidence import Evidence, ResourceLoad, WidgetFrame
from cifcheck.results import Detail

WIDGET_LIBRARY = "msdyn_cilibrary.js"
REFUSED_SENDER = "sender domain is not a recognised"
IGNORED_SENDER = "ignoring message from unknown event source"

FIX_URL = (
    "Correct the channel URL in the channel provider record (copy it from the CIF 1.0 provider; deploying or "
    "updating the Customer Service workspace profile can overwrite the Omnichannel channel URL; after an org "
    "rename the URL must be updated). The channel URL must be HTTPS."
)
FIX_FRAMING = (
    "The provider's web server forbids being framed. It must allow the org: drop X-Frame-Options DENY/SAMEORIGIN "
    "and list the org in Content-Security-Policy frame-ancestors."
)
FIX_TRUSTED = (
    "The widget's messages come from a domain that is neither the channel URL's nor a trusted domain. Add the "
    "widget's final domain to the provider's Trusted Domain field (msdyn_trusteddomain), or set the channel URL "
    "to the final domain instead of a landing page that redirects."
)
FIX_LIBRARY = (
    "The provider page must include msdyn_ciLibrary.js from the org (/webresources/Widget/msdyn_ciLibrary.js) "
    "with data-crmurl set to the org URL, or pass ?ucilib=<org>/webresources/Widget/msdyn_ciLibrary.js."
)
FIX_COOKIES = (
    "msdyn_ciLibrary.js was redirected, typically to sign-in because third-party cookies are blocked in the "
    "browser: allow third-party cookies for the org (Docs issue #1946)."
)
FIX_INIT = (
    "The widget never completed CIF initialisation (no CIFInitDone). Check the provider page's console, that it "
    "is HTTPS, has microphone and pop-up permissions, and that the browser is supported."
)


@dataclass
class Finding:
    reason: str
    remediation: str
    # Nothing went wrong yet, the widget only had not finished: after a watch that ran out of time, cifcheck cannot
    # tell a slow widget from a broken one.
    unfinished: bool = False


class Requests:
    """The network evidence indexed once: document requests by canonical URL, msdyn_ciLibrary.js requests by the
    frame that made them. A profile of 300 providers is judged as fast as one."""

    def __init__(self, resources: list[ResourceLoad]) -> None:
        self.documents: dict[str, list[ResourceLoad]] = {}
        self.libraries: dict[str, list[ResourceLoad]] = {}
        # By the frame that made them: a widget that moves on by script (location.replace, a meta refresh) or
        # rewrites its URL (history.replaceState) is still the same frame.
        self.frame_documents: dict[int, list[ResourceLoad]] = {}
        self.frame_libraries: dict[int, list[ResourceLoad]] = {}
        for load in resources:
            if load.resource_type == "document":
                self.documents.setdefault(canonical(load.url), []).append(load)
                if load.frame_index is not None:
                    self.frame_documents.setdefault(load.frame_index, []).append(load)
            if file_name(load.url) == WIDGET_LIBRARY:
                self.libraries.setdefault(canonical(load.frame_url), []).append(load)
                if load.frame_index is not None:
                    self.frame_libraries.setdefault(load.frame_index, []).append(load)

    def of(self, widget: WidgetFrame) -> tuple[list[ResourceLoad], list[ResourceLoad]]:
        """The documents the widget's frame loaded, in order, and its msdyn_ciLibrary.js requests."""
        if widget.frame_index is not None and widget.frame_index in self.frame_documents:
            index = widget.frame_index
            return self.frame_documents[index], self.frame_libraries.get(index, [])
        chain = self.chain(widget.src)
        return chain, self.libraries.get(canonical(chain[-1].url), []) if chain else []

    def chain(self, url: str) -> list[ResourceLoad]:
        """The document requests for a frame's src, following redirects (relative ones were made absolute)."""
        chain: list[ResourceLoad] = []
        while url and len(chain) < 10:
            load = next((d for d in self.documents.get(canonical(url), []) if d not in chain), None)
            if load is None:
                break
            chain.append(load)
            url = load.redirected_to or ""
        return chain


def _finding(widget: WidgetFrame, evidence: Evidence, requests: Requests) -> Finding | None:
    name = widget.title or widget.src or "A provider frame"
    chain, library = requests.of(widget)
    final = chain[-1] if chain else None
    framing = next((load.frame_options for load in chain if load.frame_options), None)
    if framing or (
        widget.url.startswith("chrome-error:")
        and any("refused to display" in c.text.lower() for c in evidence.console or [])
    ):
        return Finding(
            f"{name}: the channel URL refused to be framed ({framing or 'browser refused it'}).", FIX_FRAMING
        )
    if final is not None and not succeeded(final):
        return Finding(
            f"{name}: the channel URL {outcome(final)} ({final.url}).", FIX_URL, unfinished=unanswered(final)
        )
    if widget.error or final is None:
        return Finding(
            f"{name}: the frame did not load its channel URL ({widget.url or 'no document'}).", FIX_URL, unfinished=True
        )
    refusals = [m.text or "" for m in widget.messages if m.outcome == "failure"]
    refusals += [
        c.text for c in evidence.console or [] if REFUSED_SENDER in c.text.lower() or IGNORED_SENDER in c.text.lower()
    ]
    if any(REFUSED_SENDER in text.lower() or IGNORED_SENDER in text.lower() for text in refusals):
        return Finding(
            f"{name}: the host refused its messages — the widget at {host(final.url)} is not the channel URL's "
            f"domain ({host(widget.src)}) nor a trusted domain.",
            FIX_TRUSTED,
        )
    if not library:
        return Finding(f"{name}: the page never requested msdyn_ciLibrary.js.", FIX_LIBRARY)
    if not any(succeeded(load) for load in library):
        redirected = next((load for load in library if load.redirected_to), None)
        if redirected:
            return Finding(f"{name}: msdyn_ciLibrary.js was redirected to {redirected.redirected_to}.", FIX_COOKIES)
        last = library[-1]
        return Finding(f"{name}: msdyn_ciLibrary.js {outcome(last)}.", FIX_LIBRARY, unfinished=unanswered(last))
    if not widget.cif_init_done:
        return Finding(f"{name}: CIF initialisation never completed (no CIFInitDone).", FIX_INIT, unfinished=True)
    return None


def _without_frames(providers: list, widgets: list[WidgetFrame]) -> list:
    """The providers left without a frame when each frame is given to one provider only: the exact channel URL
    first, then the label, then the URL as hosts rewrite it (same_page), so one frame never stands for two."""
    free = list(widgets)
    unmatched = list(providers)
    tests = (
        lambda provider, widget: canonical(provider.channel_url) == canonical(widget.src),
        lambda provider, widget: (
            bool(provider.label or provider.name) and widget.title == (provider.label or provider.name)
        ),
        lambda provider, widget: same_page(provider.channel_url, widget.src),
    )
    for test in tests:
        for provider in list(unmatched):
            widget = next((w for w in free if test(provider, w)), None)
            if widget is not None:
                free.remove(widget)
                unmatched.remove(provider)
    return unmatched


def _table(widgets: list[WidgetFrame], requests: Requests) -> Detail:
    rows = []
    for widget in widgets:
        chain, _ = requests.of(widget)
        rows.append(
            {
                "title": widget.title,
                "src": widget.src,
                "final": chain[-1].url if chain else widget.url,
                "status": chain[-1].status if chain else None,
                "init": widget.cif_init_done,
                "domains": ", ".join(dict.fromkeys(widget.allowed_domains)),
            }
        )
    return Detail(
        kind="table",
        title="Provider frames",
        headings=[
            {"key": "title", "label": "Frame title", "type": "text"},
            {"key": "src", "label": "Channel URL", "type": "url"},
            {"key": "final", "label": "Loaded URL", "type": "url"},
            {"key": "status", "label": "HTTP", "type": "text"},
            {"key": "init", "label": "CIFInitDone", "type": "text"},
            {"key": "domains", "label": "Allowed domains", "type": "code"},
        ],
        rows=rows,
    )


@check(
    id="widget.loaded",
    title="Provider widgets loaded",
    failure_title="A provider widget did not load",
    remediation=FIX_URL,
    checked="Follows each provider frame in the panel: its channel URL's answer, msdyn_ciLibrary.js, "
    "CIFInitDone, and the host's answers to its messages.",
    doc_step="Verify step 3: the provider's widget shows in the communication panel",
    requires=("panel", "resources"),
    prerequisites=("session.signed_in", "cif.library_loaded", "profile.channel_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    panel = evidence.panel
    assert panel is not None
    widgets = panel.widgets
    if not widgets:
        where = "there is no communication panel" if not panel.found else "the panel holds no provider frame"
        return Verdict("fail", f"No provider widget loaded: {where}.")
    requests = Requests(evidence.resources or [])
    details = [_table(widgets, requests)]
    findings = [finding for widget in widgets if (finding := _finding(widget, evidence, requests))]
    providers = channel_providers(evidence)
    for provider in _without_frames(providers or [], widgets):
        findings.append(Finding(f"{provider.display}: configured, but the panel has no frame for it.", FIX_URL))
    observation = evidence.observation
    if (
        findings
        and observation is not None
        and observation.settled_by == "time limit"
        and all(finding.unfinished for finding in findings)
    ):
        return Verdict(
            "error",
            f"{len(findings)} provider widget(s) had not finished loading when cifcheck stopped watching "
            f"({observation.waited()}): {findings[0].reason}",
            details,
            remediation="The page was still busy when the watch ended. Raise timeouts.settle_max_ms for this org in "
            f"{config_in_use(evidence)}, or check what keeps it loading (the network table in the evidence).",
        )
    if findings:
        reason = " ".join(f.reason for f in findings)
        remediation = " ".join(dict.fromkeys(f.remediation for f in findings))
        return Verdict("fail", reason, details, remediation=remediation)
    count = f"{len(widgets)} provider widget{'s' if len(widgets) != 1 else ''}"
    return Verdict(
        "pass",
        f"{count} loaded and completed CIF initialisation: {', '.join(w.title or w.src for w in widgets)}.",
        details,
    )
