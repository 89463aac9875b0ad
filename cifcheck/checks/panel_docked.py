"""panel.docked: the communication panel is visible and docked, by the host's mode and by its geometry."""

from __future__ import annotations

from cifcheck.checks.fixes import config_in_use
from cifcheck.checks.profile import channel_providers
from cifcheck.checks.registry import Verdict, check
from cifcheck.config import PanelFacts
from cifcheck.evidence import Evidence, PanelEvidence
from cifcheck.results import Detail

SET_MODE = {"docked": 1, "minimized": 0, "hidden": 2, "collapsed": 3}
SEVERAL = (
    "With several providers, setMode is not supported on the home session: agents open a provider's session, "
    "or the target's expect.panel_mode should say what the home session shows. "
)


def deliberate(evidence: Evidence) -> str:
    return (
        "If the provider hides or minimizes the panel on purpose (Microsoft's Twilio sample starts hidden), set "
        f"expect.panel_mode for this target in {config_in_use(evidence)}."
    )


def set_mode_fix(wanted: str) -> str:
    return (
        f"The channel provider must call Microsoft.CIFramework.setMode({SET_MODE[wanted]}) once its widget has "
        f"initialised (after CIFInitDone) so the panel is {wanted}. "
    )


def geometry_mode(panel: PanelEvidence, facts: PanelFacts) -> str:
    if not panel.visible or not panel.in_viewport or panel.box is None:
        return "hidden"
    if panel.box.height <= facts.minimized_max_height:
        return "minimized"
    if panel.box.width <= facts.collapsed_max_width:
        return "collapsed"
    return "docked"


def get_mode_answers(panel: PanelEvidence) -> list[int | float | str]:
    """What the host answered to the widgets' getMode requests (requests and answers paired by correlation id)."""
    asked = {m.correlation for m in panel.host_messages if m.type == "getmode" and m.correlation}
    return [
        m.value
        for widget in panel.widgets
        for m in widget.messages
        if m.correlation in asked and m.outcome == "success" and m.value is not None
    ]


def _facts(panel: PanelEvidence, mode: str, source: str) -> Detail:
    box = panel.box
    size = f"{box.width:.0f} x {box.height:.0f} px at ({box.x:.0f}, {box.y:.0f})" if box else None
    set_modes = [m.value for m in panel.host_messages if m.type == "setmode"]
    return Detail(
        kind="facts",
        title="Communication panel",
        facts={
            "Mode": mode,
            "Decided from": source,
            "Xrm.Panel.state": panel.xrm_state,
            "setMode calls seen": ", ".join(str(v) for v in set_modes) or "none",
            "getMode answers seen": ", ".join(str(v) for v in get_mode_answers(panel)) or "none",
            "Panel frame": panel.selector,
            "Visible": panel.visible,
            "Size": size,
            "Viewport": f"{panel.viewport_width} x {panel.viewport_height} px",
            "Collapse button visible": panel.collapse_button_visible,
            "Expand button visible": panel.expand_button_visible,
        },
    )


def _timeline(evidence: Evidence) -> Detail | None:
    """The panel's mode over the watch: each setMode request and each change of state or geometry, so an admin
    sees a provider that docks the panel and minimizes it a second later."""
    observation = evidence.observation
    if observation is None or not observation.mode_timeline:
        return None
    return Detail(
        kind="table",
        title="Panel mode over time",
        headings=[
            {"key": "at", "label": "ms after navigation", "type": "text"},
            {"key": "what", "label": "Seen", "type": "text"},
            {"key": "value", "label": "Value", "type": "code"},
        ],
        rows=[
            {"at": f"{change.at_ms:,.0f}", "what": change.what, "value": change.value}
            for change in observation.mode_timeline
        ],
    )


def _mode(panel: PanelEvidence, facts: PanelFacts, geometry: str) -> tuple[str, str]:
    if panel.xrm_state is not None:
        return facts.modes.get(str(panel.xrm_state), f"unknown ({panel.xrm_state})"), "Xrm.Panel.state and geometry"
    return geometry, "the panel's geometry (Xrm.Panel.state is not readable)"


def _screenshot(panel: PanelEvidence) -> Detail:
    """The panel's picture when an agent can see the panel (older evidence may hold a crop of a hidden one: it shows
    only the page behind it), else why there is none."""
    why_not = panel.why_not_seen() or panel.screenshot_note
    if panel.screenshot_png_base64 and not panel.why_not_seen():
        return Detail(kind="image", title="Panel screenshot", image_png_base64=panel.screenshot_png_base64)
    return Detail(kind="facts", title="Panel screenshot", facts={"No picture": why_not or "none was taken"})


@check(
    id="panel.docked",
    title="Communication panel docked",
    failure_title="Communication panel not docked",
    checked="Reads the panel's mode (Xrm.Panel.state, the answers to getMode) and the panel frame's geometry, and "
    "takes a cropped screenshot.",
    remediation=set_mode_fix("docked"),
    doc_step="Verify step 3: the communication panel is visible and docked (the provider calls setMode(1))",
    requires=("panel",),
    prerequisites=("session.signed_in", "cif.library_loaded", "profile.channel_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    panel = evidence.panel
    assert panel is not None
    expect, facts = evidence.settings.expect, evidence.settings.panel
    wanted = expect.panel_mode
    if not panel.found:
        return Verdict(
            "fail",
            f"There is no communication panel: nothing matches {panel.selector}.",
            remediation="The CIF 2.0 library loaded and providers are configured, yet no panel was built: the "
            "provider record may be missing or out of sync (remove and re-add it in the app profile). If the "
            f"panel's markup changed, override selectors.panel_frame in {config_in_use(evidence)}.",
        )
    geometry = geometry_mode(panel, facts)
    mode, source = _mode(panel, facts, geometry)
    details = [_facts(panel, mode, source)]
    timeline = _timeline(evidence)
    if timeline is not None:
        details.append(timeline)
    details.append(_screenshot(panel))
    if mode == "docked" and geometry != "docked":
        return Verdict(
            "fail",
            f"Xrm.Panel.state says docked, but the panel frame looks {geometry}.",
            details,
            remediation="The host's mode and the panel's geometry disagree: look at the screenshot. A customization "
            "may cover or shrink the panel, or this org's panel sizes do not fit panel.minimized_max_height and "
            f"panel.collapsed_max_width in {config_in_use(evidence)}.",
        )
    requested = [m.value for m in panel.host_messages if m.type == "setmode"]
    by_provider = f" by the provider (it called setMode({requested[-1]}))" if requested else ""
    if len(set(requested)) > 1:
        calls = ", then ".join(f"setMode({value})" for value in requested)
        by_provider = f" by the provider (it called {calls}; the last one decides)"
    if mode != wanted:
        several = SEVERAL if len(channel_providers(evidence) or []) > 1 else ""
        state = f", Xrm.Panel.state = {panel.xrm_state}" if panel.xrm_state is not None else ""
        fix = (set_mode_fix(wanted) if wanted in SET_MODE else "") + several + deliberate(evidence)
        return Verdict("fail", f"The communication panel is {mode}{by_provider}{state}, not {wanted}.", details, fix)
    if wanted != "docked":
        return Verdict("pass", f"The panel is {mode}{by_provider}, as this target expects.", details)
    assert panel.box is not None
    if panel.box.width < expect.min_panel_width or panel.box.height < expect.min_panel_height:
        return Verdict(
            "fail",
            f"The panel is docked but only {panel.box.width:.0f} x {panel.box.height:.0f} px "
            f"(this target expects at least {expect.min_panel_width} x {expect.min_panel_height}).",
            details,
            remediation="Widen the browser window (browser.viewport_width) or lower expect.min_panel_width / "
            f"expect.min_panel_height for this target, in {config_in_use(evidence)}.",
        )
    return Verdict("pass", f"The panel is docked: {panel.box.width:.0f} x {panel.box.height:.0f} px, visible.", details)
