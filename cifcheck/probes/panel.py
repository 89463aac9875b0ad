"""The communication panel: its frame, mode, geometry and a cropped screenshot; and the provider frames in it.

Selectors come from the config (cif-facts.md: today's DOM is UNKNOWN in detail). Widget frames are found
structurally too: every child frame of the panel frame counts when the widget selector matches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from playwright.sync_api import Frame, Page

from cifcheck.config import Selectors
from cifcheck.evidence import Box, CifMessage, PanelEvidence, WidgetFrame
from cifcheck.probes.screenshot import masked_screenshot

_OBSERVER = (Path(__file__).parent / "observer.js").read_text(encoding="utf-8")
_BINDING = "__cifcheckObserved"


class FrameReports:
    """What each frame's observer last reported: CIFInitDone (with its detail) and the CIF messages it received.

    Install it on a fresh page before navigating. The frames report themselves, so following 300 provider frames
    costs no round trips; a frame's report is forgotten when it navigates."""

    def __init__(self, page: Page) -> None:
        self.reports: dict[Frame, dict] = {}
        page.on("framenavigated", lambda frame: self.reports.pop(frame, None))
        page.on("framedetached", lambda frame: self.reports.pop(frame, None))
        page.expose_binding(_BINDING, self._on_report)
        page.add_init_script(f"({_OBSERVER})({json.dumps(_BINDING)});")

    def _on_report(self, source: dict[str, object], report: object) -> None:
        frame = source.get("frame")
        if not isinstance(frame, Frame) or not isinstance(report, dict):
            return
        init_done, messages, until = report.get("initDone"), report.get("messages"), report.get("pendingUntil")
        well_formed = init_done is None or (isinstance(init_done, dict) and isinstance(init_done.get("detail"), list))
        if not isinstance(until, int | float) or isinstance(until, bool):
            until = None
        if well_formed and isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
            self.reports[frame] = {"initDone": init_done, "messages": messages, "pendingUntil": until}

    def scheduled_until(self, frames: Iterable[Frame]) -> float | None:
        """The latest time (epoch ms) a one-shot timer is due in any of `frames`, if one is."""
        dues = [due for frame in frames if (due := self.reports.get(frame, {}).get("pendingUntil")) is not None]
        return max(dues) if dues else None

    def observed(self, frame: Frame) -> dict | None:
        return self.reports.get(frame)

    def init_done(self, frame: Frame) -> bool:
        return bool(self.reports.get(frame, {}).get("initDone"))

    def messages(self, frame: Frame) -> int:
        return len(self.reports.get(frame, {}).get("messages", ()))


_READ_PANEL = """([panelSelector, collapseSelector, expandSelector]) => {
  const shown = (element) => {
    if (!element) return null;
    const r = element.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(element).visibility !== "hidden";
  };
  const panel = typeof Xrm !== "undefined" ? Xrm.Panel : undefined;
  const state = panel && typeof panel.state === "number" ? panel.state : null;
  const observed = window.__cifcheck || { messages: [] };
  const out = { found: false, selector: panelSelector, xrm_state: state, viewport_width: innerWidth,
                viewport_height: innerHeight, host_messages: observed.messages,
                collapse_button_visible: shown(document.querySelector(collapseSelector)),
                expand_button_visible: shown(document.querySelector(expandSelector)) };
  const frame = document.querySelector(panelSelector);
  if (!frame) return out;
  const r = frame.getBoundingClientRect();
  out.found = true;
  out.box = { x: r.x, y: r.y, width: r.width, height: r.height };
  out.visible = !!shown(frame) && (frame.checkVisibility ? frame.checkVisibility() : true);
  out.in_viewport = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
  return out;
}"""

_READ_WIDGET_ELEMENT = """(element) => {
  const r = element.getBoundingClientRect();
  const tab = element.closest("[role=tabpanel]");
  // The src property is the absolute URL as the browser requests it; the attribute is as the host wrote it.
  return { title: element.title || "", src: element.src || element.getAttribute("src") || "", tab_id: tab ? tab.id : "",
           visible: r.width > 0 && r.height > 0 && (element.checkVisibility ? element.checkVisibility() : true),
           box: { x: r.x, y: r.y, width: r.width, height: r.height } };
}"""


def panel_frame(page: Page, selectors: Selectors) -> Frame | None:
    element = page.query_selector(selectors.panel_frame)
    return element.content_frame() if element else None


def _widget_frames(page: Page, selectors: Selectors) -> tuple[list[dict], list[Frame | None]]:
    """The provider iframes inside the panel frame, by the configured selector, else all its iframes: each one's
    facts (read in one round trip) and its frame."""
    container = panel_frame(page, selectors)
    if container is None:
        return [], []
    selector = selectors.widget_frame if container.query_selector(selectors.widget_frame) else "iframe"
    facts = container.eval_on_selector_all(selector, f"(elements) => elements.map({_READ_WIDGET_ELEMENT})")
    frames = [element.content_frame() for element in container.query_selector_all(selector)]
    return facts, frames


def observed_in(frame: Frame | None, reports: FrameReports | None = None) -> dict | None:
    """What the frame's observer saw, as it reported it. A frame never asked: one whose document never arrives
    would hold the question forever. A loaded frame that reported nothing saw nothing; a frame with no document (an
    error page, a navigation that never committed) is None."""
    if frame is None:
        return None
    reported = reports.observed(frame) if reports is not None else None
    if reported is not None:
        return reported
    if frame.url.startswith(("http://", "https://")):
        return {"initDone": None, "messages": []}
    return None


def _messages(raw: list[dict]) -> list[CifMessage]:
    return [CifMessage.model_validate(message | {"text": message.get("text") or None}) for message in raw]


def _widget(
    facts: dict, frame: Frame | None, reports: FrameReports | None, frame_index: Callable[[Frame | None], int | None]
) -> WidgetFrame:
    widget = WidgetFrame(
        frame_index=frame_index(frame),
        title=facts["title"],
        src=facts["src"],
        url=frame.url if frame else "",
        tab_id=facts["tab_id"],
        visible=facts["visible"],
        box=Box(**facts["box"]),
    )
    observed = observed_in(frame, reports)
    if observed is None:
        widget.error = "the frame's document could not be read (an error page, or it never loaded)"
        return widget
    if observed["initDone"]:
        widget.cif_init_done = True
        widget.allowed_domains = observed["initDone"]["detail"]
    widget.messages = _messages(observed["messages"])
    return widget


def read_panel(
    page: Page,
    selectors: Selectors,
    reports: FrameReports | None = None,
    frame_index: Callable[[Frame | None], int | None] = lambda frame: None,
    screenshot: bool = True,
) -> PanelEvidence:
    raw = page.evaluate(_READ_PANEL, [selectors.panel_frame, selectors.collapse_button, selectors.expand_button])
    raw["host_messages"] = _messages(raw["host_messages"])
    panel = PanelEvidence.model_validate(raw)
    facts, frames = _widget_frames(page, selectors)
    panel.widgets = [_widget(fact, frame, reports, frame_index) for fact, frame in zip(facts, frames, strict=False)]
    if screenshot:
        panel.screenshot_png_base64 = _screenshot(page, panel)
    return panel


def _screenshot(page: Page, panel: PanelEvidence) -> str:
    """The panel cropped, with a margin, when it can be seen; else none (a crop of where a hidden panel would be
    shows only the page behind it), and the evidence says why. Password fields are masked in every frame: the
    provider widgets inside the panel may show a sign-in form."""
    panel.screenshot_note = panel.why_not_seen()
    if panel.screenshot_note or panel.box is None:
        return ""
    box = panel.box
    x, y = max(box.x - 8, 0), max(box.y - 8, 0)
    clip = {
        "x": x,
        "y": y,
        "width": min(box.width + 16, panel.viewport_width - x),
        "height": min(box.height + 16, panel.viewport_height - y),
    }
    shot = masked_screenshot(page, clip)
    if not shot:
        panel.screenshot_note = "the screenshot could not be taken (the page changed while it was taken)"
    return shot
