"""app.loaded: the requested app (appname or appid) is the one that loaded, in multisession mode."""

from __future__ import annotations

import uuid

from cifcheck.checks.fixes import config_in_use
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.results import Detail


def _guid(text: str | None) -> str | None:
    try:
        return str(uuid.UUID((text or "").strip("{}")))
    except ValueError:
        return None


@check(
    id="app.loaded",
    title="The requested app loaded in multisession mode",
    failure_title="The requested app did not load in multisession mode",
    remediation="Open the app the provider is configured for (Customer Service workspace or Omnichannel for Customer "
    "Service) and make sure the user's security role grants access to it. CIF 2.0 runs only in multisession apps.",
    checked="Reads the loaded app's unique name and id from Xrm and the URL, and counts the session tabs.",
    doc_step="Before you begin: the provider is added to the agent experience profile of a multisession app",
    requires=("app",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    app = evidence.app
    assert app is not None
    expected = evidence.settings.expected_app or evidence.target.app
    facts = Detail(
        kind="facts",
        title="App",
        facts={
            "Requested": expected,
            "Unique name (Xrm)": app.app_unique_name,
            "Display name": app.app_display_name,
            "App id (Xrm)": app.app_id,
            "App id in URL": app.url_app_id,
            "Session tabs": app.session_tabs,
        },
    )
    if not app.xrm_present:
        return Verdict(
            "error",
            "The page has no Xrm object, so which app loaded cannot be read.",
            [facts],
            remediation=f"Check selectors.app_ready in {config_in_use(evidence)}: it should wait for the Unified "
            "Interface shell.",
        )
    wanted_id = _guid(expected)
    if wanted_id:
        loaded = _guid(app.app_id) or _guid(app.url_app_id)
        matches = loaded == wanted_id
    else:
        loaded = app.app_unique_name or app.url_app_name
        matches = (loaded or "").lower() == expected.lower()
    name = app.app_display_name or app.app_unique_name or "an unnamed app"
    if loaded is None:
        return Verdict("error", f"Which app loaded could not be read (wanted {expected}).", [facts])
    if not matches:
        return Verdict("fail", f"{name} ({loaded}) loaded instead of {expected}.", [facts])
    if not app.session_tabs:
        return Verdict(
            "fail",
            f"{name} loaded, but not in multisession mode: no session tabs were found.",
            [facts],
            remediation="CIF 2.0 needs a multisession app. If the session tab markup changed, override "
            f"selectors.session_tab in {config_in_use(evidence)}.",
        )
    tabs = f"{app.session_tabs} session tab{'s' if app.session_tabs != 1 else ''}"
    return Verdict("pass", f"{name} ({loaded}) loaded in multisession mode ({tabs}).", [facts])
