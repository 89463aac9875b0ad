"""panel.docked: the communication panel is visible and docked, by the host's mode and by its geometry."""

from __future__ import annotations

from cifcheck.checks.profile import channel_providers
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence, PanelEvidence
from cifcheck.results import Detail

MODES = {0: "minimized", 1: "docked", 2: "hidden", 3: "collapsed"}
MINIMIZED_HEIGHT = 60  # the 2023 host minimized the panel to a 34 px bar

SET_MODE_1 = (
    "The channel provider must call Microsoft.CIFramework.setMode(1) once its widget has initialised (after "
    "CIFInitDone) so the panel docks. "
)
SEVERAL = (
    "With several providers, setMode is not supported on the home session: agents open a provider's session, "
    "or the target's expect.panel_mode should say what the home session shows. "
)
DELIBERATE = (
    "If the provider hides or minimizes the panel on purpose (Microsoft's Twilio sample starts hidden), set "
    "expect.panel_mode for this target in playwright.config.json."
)


def geometry_mode(panel: PanelEvidence, min_width: int) -> str:
    if not panel.visible or not panel.in_viewport or panel.box is None:
        return "hidden"
    if panel.box.height < MINIMIZED_HEIGHT:
        return "minimized"
    if panel.box.width < min_width:
        return "collapsed"
    return "docked"


def _facts(panel: PanelEvidence, mode: str, source: str) -> Detail:
    size = (
        f"{panel.box.width:.0f} x {panel.box.height:.0f} px at ({panel.box.x:.0f}, {panel.box.y:.0f})"
        if panel.box
        else None
    )
    set_modes = [m.value for m in panel.host_messages if m.type == "setmode"]
    return Detail(
        kind="facts",
        title="Communication panel",
        facts={
            "Mode": mode,
            "Decided from": source,
            "Xrm.Panel.state": panel.xrm_state,
            "setMode calls seen": ", ".join(str(v) for v in set_modes) or "none",
            "Panel frame": panel.selector,
            "Visible": panel.visible,
            "Size": size,
            "Viewport": f"{panel.viewport_width} x {panel.viewport_height} px",
            "Collapse button visible": panel.collapse_button_visible,
            "Expand button visible": panel.expand_button_visible,
        },
    )


@check(
    id="panel.docked",
    title="Communication panel docked",
    failure_title="Communication panel not docked",
    remediation=SET_MODE_1 + DELIBERATE,
    checked="Reads the panel's mode (Xrm.Panel.state) and the panel frame's geometry, and takes a cropped screenshot.",
    doc_step="Verify step 3: the communication panel is visible and docked (the provider calls setMode(1))",
    requires=("panel",),
    prerequisites=("session.signed_in", "cif.library_loaded", "profile.channel_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    panel = evidence.panel
    assert panel is not None
    expect = evidence.settings.expect
    wanted = expect.get("panel_mode", "docked")
    min_width, min_height = expect.get("min_panel_width", 300), expect.get("min_panel_height", 200)
    if not panel.found:
        return Verdict(
            "fail",
            f"There is no communication panel: nothing matches {panel.selector}.",
            remediation="The CIF 2.0 library loaded and providers are configured, yet no panel was built: the "
            "provider record may be missing or out of sync (remove and re-add it in the app profile). If the "
            "panel's markup changed, override selectors.panel_frame in playwright.config.json.",
        )
    geometry = geometry_mode(panel, min_width)
    if panel.xrm_state is None:
        mode, source = geometry, "the panel's geometry (Xrm.Panel.state is not readable)"
    else:
        mode, source = MODES.get(panel.xrm_state, f"unknown ({panel.xrm_state})"), "Xrm.Panel.state and geometry"
    details = [_facts(panel, mode, source)]
    if panel.screenshot_png_base64:
        details.append(Detail(kind="image", title="Panel screenshot", image_png_base64=panel.screenshot_png_base64))
    if mode == "docked" and geometry != "docked":
        return Verdict("fail", f"Xrm.Panel.state says docked, but the panel frame looks {geometry}.", details)
    if mode != wanted:
        providers = channel_providers(evidence)
        several = SEVERAL if providers and len(providers) > 1 else ""
        state = f" (Xrm.Panel.state = {panel.xrm_state})" if panel.xrm_state is not None else ""
        return Verdict(
            "fail",
            f"The communication panel is {mode}{state}, not {wanted}.",
            details,
            remediation=SET_MODE_1 + several + DELIBERATE,
        )
    if wanted != "docked":
        return Verdict("pass", f"The panel is {mode}, as this target expects (set by the provider).", details)
    assert panel.box is not None
    if panel.box.width < min_width or panel.box.height < min_height:
        return Verdict(
            "fail",
            f"The panel is docked but only {panel.box.width:.0f} x {panel.box.height:.0f} px "
            f"(this target expects at least {min_width} x {min_height}).",
            details,
            remediation="Widen the browser window or lower expect.min_panel_width / min_panel_height.",
        )
    return Verdict("pass", f"The panel is docked: {panel.box.width:.0f} x {panel.box.height:.0f} px, visible.", details)
