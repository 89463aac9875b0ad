"""The observation model: when the state an org settles into is known, and may be judged.

Real orgs load extensions seconds after their shell, write the profile in steps, and providers change the panel's
mode after their first setMode. A look that comes too early judges a state the org was only passing through. So,
once the app shell is ready, cifcheck watches the CIF state (the library requests, both storage values, the
panel's mode and geometry, every provider frame) and ends the watch when:

- every signal is in and positive (every provider in the profile has its frame), and the state has not changed
  for `timeouts.observe_ms` (a provider's own follow-up setMode falls inside that window), with no CIF request in
  flight, no provider fetch/XHR in flight and no provider one-shot timer still to fire: "every signal";
- or a signal is still absent (or failed: an org may retry the library) `timeouts.absence_ms` after the app
  became idle (`selectors.app_idle`: Unified Interface's own UCWorkBlockTracker.isAppIdle() where the page has
  it; the last time it became idle, and no sooner than its own scripts and documents stopped loading), the state
  unchanged for `observe_ms` and no CIF request in flight: "absence window". A request still in flight is
  awaited, never judged absent;
- or `timeouts.settle_max_ms` after the shell was ready, however busy the page: "time limit".

No fixed sleeps: each look is one round trip for the top frame (storage digests, panel, Xrm.Panel.state) plus what
the frames report by themselves (probes/panel.py FrameReports) and what the network recorder saw. Storage values
are read whole only when their digest changes, and judged by the same checks that give the verdicts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page

from cifcheck.checks import REGISTRY
from cifcheck.checks.panel_docked import geometry_mode
from cifcheck.checks.profile import channel_providers
from cifcheck.config import Config, predicate
from cifcheck.evidence import (
    Box,
    CheckSettings,
    Evidence,
    ModeChange,
    ObservationEvidence,
    PanelEvidence,
    TargetInfo,
)
from cifcheck.probes.network import NetworkRecorder
from cifcheck.probes.panel import FrameReports
from cifcheck.probes.storage import read_storage

POLL_MS = 50
LATE_TIMER_MS = 5_000  # how long past its due time a provider's timer may still fire

# One round trip: digests of the CIF keys' values (not the values), the panel frame's geometry, Xrm.Panel.state.
_LOOK = """([providersPattern, extensionsPattern, providersKey, extensionsKey, panelSelector]) => {
  const keys = Object.keys(sessionStorage);
  const find = (exact, pattern) => keys.includes(exact) ? exact : keys.find((k) => new RegExp(pattern, "i").test(k));
  const digest = (key) => {
    if (key === undefined) return null;
    const value = sessionStorage.getItem(key) || "";
    let hash = 0;
    for (let i = 0; i < value.length; i++) hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
    return [key, value.length, hash];
  };
  let state = null;
  try {
    const panel = typeof Xrm !== "undefined" && Xrm ? Xrm.Panel : undefined;
    state = panel && typeof panel.state === "number" ? panel.state : null;
  } catch (error) {}
  let frame = null;
  try { frame = document.querySelector(panelSelector); } catch (error) {}
  const look = { now: performance.now(), providers: digest(find(providersKey, providersPattern)),
                 extensions: digest(find(extensionsKey, extensionsPattern)), panelFound: !!frame, panelState: state,
                 box: null, visible: false, inViewport: false,
                 hostMessages: window.__cifcheck ? window.__cifcheck.messages.length : 0 };
  if (frame) {
    const r = frame.getBoundingClientRect();
    look.box = { x: r.x, y: r.y, width: r.width, height: r.height };
    look.visible = r.width > 0 && r.height > 0 && getComputedStyle(frame).visibility !== "hidden"
      && (frame.checkVisibility ? frame.checkVisibility() : true);
    look.inViewport = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
  }
  return look;
}"""


def _js_pattern(pattern: str) -> str:
    """A Python regex as JavaScript's RegExp reads it (the inline (?i) flag is passed separately)."""
    return pattern.removeprefix("(?i)")


@dataclass
class _Storage:
    """The storage checks' verdicts on the values behind the last digests."""

    digests: tuple = ()
    providers_ok: bool = False
    loader_ok: bool = False
    providers: int = 0  # how many providers channelProviders lists: each should get a frame


@dataclass
class Watch:
    """One observation of a page after its app shell is ready."""

    page: Page
    config: Config
    settings: CheckSettings
    network: NetworkRecorder
    frames: FrameReports
    target: TargetInfo
    started: float  # the gathering's monotonic start: every time below is on that clock
    navigation_start_ms: float
    evidence: ObservationEvidence = field(default_factory=ObservationEvidence)
    _storage: _Storage = field(default_factory=_Storage)
    _last_mode: tuple = ()
    _provider_frames: set = field(default_factory=set)
    # The top document's clock (performance.now()) minus this watch's clock: the host's message times convert.
    page_offset_ms: float | None = None

    def _ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000 - self.navigation_start_ms, 1)

    def _idle(self) -> tuple[bool, str]:
        expression = self.config.selectors.app_idle
        try:
            return bool(self.page.evaluate(predicate(expression))), "selectors.app_idle"
        except PlaywrightError as error:
            if "SyntaxError" in str(error) or "ReferenceError" in str(error):
                # A broken override must not cost the whole wait: the shell being ready is the idle signal then.
                return True, f"app shell ready (selectors.app_idle failed: {str(error).splitlines()[0][:120]})"
            return False, ""  # the document is being replaced; look again

    def _judge_storage(self, digests: tuple) -> None:
        if digests == self._storage.digests:
            return
        storage = read_storage(self.page, self.settings, redacted=False)
        provisional = Evidence(target=self.target, settings=self.settings, storage=storage)
        self._storage = _Storage(
            digests,
            REGISTRY["profile.channel_providers"].judge(provisional).status == "pass",
            REGISTRY["profile.cif_v2_loader"].judge(provisional).status == "pass",
            len(channel_providers(provisional) or []),
        )

    def _widgets(self) -> tuple[tuple, bool]:
        """Each provider frame's state, and whether every one is decided (CIF init done, or its load failed)."""
        element = self.page.query_selector(self.config.selectors.panel_frame)
        container = element.content_frame() if element else None
        if container is None:
            return (), False
        self._provider_frames = set(container.child_frames)
        states = tuple(self._widget_state(frame) for frame in self._provider_frames)
        return states, bool(states) and all(init_done or failed for _, init_done, failed, _ in states)

    def _in_flight(self) -> list:
        return self.network.in_flight(self._provider_frames, self.config.timeouts.absence_ms / 1000)

    def _timer_due(self) -> bool:
        """Whether a provider frame has a one-shot timer still to fire (its follow-up setMode, say). A timer fires
        late on a busy page: it counts until the frame reports it fired, or `LATE_TIMER_MS` past its due time."""
        due = self.frames.scheduled_until(self._provider_frames) if self.frames is not None else None
        return due is not None and due + LATE_TIMER_MS > time.time() * 1000

    def _widget_state(self, frame: Frame) -> tuple[str, bool, bool, int]:
        url = frame.url
        failed = url.startswith("chrome-error:") or self.network.document_failed(url)
        return url, self.frames.init_done(frame), failed, self.frames.messages(frame)

    def _note_mode(self, look: dict) -> None:
        panel = PanelEvidence(
            found=look["panelFound"],
            visible=look["visible"],
            in_viewport=look["inViewport"],
            box=Box(**look["box"]) if look["box"] else None,
        )
        state = look["panelState"]
        geometry = geometry_mode(panel, self.settings.panel) if panel.found else "no panel"
        if (state, geometry) == self._last_mode:
            return
        before_state, before_geometry = self._last_mode or (object(), object())
        # When the page was looked at, on this watch's clock: later round trips of the same look do not count.
        at = round(look["now"] + (self.page_offset_ms or 0), 1)
        if state != before_state and state is not None:
            label = self.settings.panel.modes.get(str(state), "unknown")
            self.evidence.mode_timeline.append(ModeChange(at_ms=at, what="Xrm.Panel.state", value=f"{state} ({label})"))
        if geometry != before_geometry:
            self.evidence.mode_timeline.append(ModeChange(at_ms=at, what="panel frame", value=geometry))
        self._last_mode = (state, geometry)

    def run(self) -> ObservationEvidence:
        timeouts = self.config.timeouts
        observed = self.evidence
        observed.observe_ms, observed.absence_ms = timeouts.observe_ms, timeouts.absence_ms
        observed.settle_max_ms = timeouts.settle_max_ms
        settings = self.settings
        arguments = [
            _js_pattern(settings.channel_providers_pattern),
            _js_pattern(settings.application_extensions_pattern),
            settings.channel_providers_key,
            settings.application_extensions_key,
            self.config.selectors.panel_frame,
        ]
        limit = self._ms() + timeouts.settle_max_ms
        last_state: object = None
        changed_at = self._ms()
        while True:
            # Idle is asked on every look: an app that is idle a moment, then busy again (booting in phases) counts
            # from when it became idle for the last time.
            idle, signal = self._idle()
            if not idle:
                observed.idle_ms = None
            elif observed.idle_ms is None:
                observed.idle_ms, observed.idle_signal = self._ms(), signal
            try:
                look = self.page.evaluate(_LOOK, arguments)
                looked_at = self._ms()
                # The tightest pairing of the two clocks: the host's message times are on the page's.
                offset = looked_at - look["now"]
                self.page_offset_ms = offset if self.page_offset_ms is None else min(self.page_offset_ms, offset)
                self._judge_storage((look["providers"], look["extensions"]))
                widgets, widgets_done = self._widgets() if look["panelFound"] else ((), False)
            except PlaywrightError:
                look, widgets, widgets_done = None, (), False  # the document is being replaced
            now = self._ms()
            library = self.network.library(self.settings.library_file)
            state = (self.network.cif_changes, library, repr(look and {k: v for k, v in look.items() if k != "now"}))
            state += (widgets, self._storage.digests)
            if state != last_state:
                last_state, changed_at = state, now
            if look is not None:
                self._note_mode(look)
            profile_ok = self._storage.providers_ok and self._storage.loader_ok
            every_frame = len(widgets) >= self._storage.providers
            complete = (
                library == "ok"
                and profile_ok
                and look is not None
                and look["panelFound"]
                and widgets_done
                and every_frame
            )
            settled = now - changed_at >= timeouts.observe_ms and not self._in_flight() and not self._timer_due()
            # Absent signals count from when the app is idle and its own scripts and documents have stopped loading
            # (an app without UCWorkBlockTracker looks idle as soon as its shell is up). A failed library answer
            # counts as absent too: an org may retry it.
            quiet_since = max(
                observed.idle_ms or 0, self.network.last_load_activity_ms(self.started, self.navigation_start_ms)
            )
            absence_over = observed.idle_ms is not None and now - quiet_since >= timeouts.absence_ms
            ended = (
                "every signal"
                if settled and complete
                else "absence window"
                if settled and absence_over
                else "time limit"
                if now >= limit
                else None
            )
            if ended:
                observed.settled_by, observed.ended_ms, observed.last_change_ms = ended, now, changed_at
                observed.in_flight_at_end = [load.url for load in self._in_flight()]
                return observed
            self.page.wait_for_timeout(POLL_MS)


def merge_set_mode_requests(observed: ObservationEvidence, panel: PanelEvidence, page_offset_ms: float) -> None:
    """Adds the setMode requests the host received (on the page's clock) to the mode timeline, in time order."""
    requests = [
        ModeChange(at_ms=round(message.at_ms + page_offset_ms, 1), what="setMode request", value=str(message.value))
        for message in panel.host_messages
        if message.type == "setmode" and message.at_ms is not None
    ]
    observed.mode_timeline = sorted([*observed.mode_timeline, *requests], key=lambda change: change.at_ms)
