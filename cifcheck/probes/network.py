"""Every request the page and its frames make, with status, timing, size or network error."""

from __future__ import annotations

import time
from collections.abc import Collection
from urllib.parse import urljoin

from playwright.sync_api import Frame, Page, Request, Response

from cifcheck.checks.resources import succeeded
from cifcheck.evidence import ResourceLoad

WIDGET_LIBRARY = "msdyn_cilibrary.js"


def _path_of(url: str) -> str:
    """The URL lower-cased without its query and fragment: what a file name is matched against."""
    return url.lower().split("?", 1)[0].split("#", 1)[0]


def _frame_of(request: Request) -> Frame | None:
    try:
        return request.frame
    except Exception:  # service-worker requests have no frame
        return None


def _frame_url(request: Request) -> str:
    try:
        return request.frame.url
    except Exception:  # service-worker requests have no frame
        return ""


class NetworkRecorder:
    """Listens from before navigation to the end of the run; `loads()` is the evidence."""

    def __init__(self, page: Page, started_at: float, library_file: str) -> None:
        self._started_epoch_ms = started_at * 1000
        self._watched = (library_file.lower(), WIDGET_LIBRARY)
        self._loads: dict[Request, ResourceLoad] = {}
        self._open: set[Request] = set()  # asked, neither answered in full nor failed
        self._asked: dict[Request, float] = {}  # when each request was made (monotonic)
        self._frames: dict[Frame, int] = {}
        self._failed_documents: set[str] = set()  # raw URLs (no fragment) of documents that failed or answered an error
        self._last_load_activity = 0.0  # monotonic time of the last document or script event
        # Bumped by every event about a document or a CIF script: what the settle wait calls progress.
        # Other traffic (telemetry, polling) is ignored there, or a busy org would never look settled.
        self.cif_changes = 0
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)

    def _changed(self, request: Request, load: ResourceLoad) -> None:
        if load.resource_type in ("document", "script"):
            self._last_load_activity = time.monotonic()
        if load.resource_type == "document" and (
            load.failure is not None or (load.status is not None and load.status >= 400) or load.frame_options
        ):
            self._failed_documents.add(request.url.split("#", 1)[0])
        if load.resource_type == "document" or _path_of(load.url).endswith(self._watched):
            self.cif_changes += 1

    def _on_request(self, request: Request) -> None:
        load = ResourceLoad(
            url=request.url,
            resource_type=request.resource_type,
            frame_url=_frame_url(request),
            frame_index=self.frame_index(_frame_of(request)),
            started_ms=round(time.time() * 1000 - self._started_epoch_ms, 1),
        )
        self._loads[request] = load
        self._open.add(request)
        self._asked[request] = time.monotonic()
        self._changed(request, load)

    def _on_response(self, response: Response) -> None:
        load = self._loads.get(response.request)
        if load is None:
            return
        load.status = response.status
        length = response.headers.get("content-length")
        load.size = int(length) if length and length.isdigit() else None
        if 300 <= response.status < 400:
            # A Location may be relative ("index.html?..."): kept as the absolute URL the browser goes to next.
            location = response.headers.get("location", "")
            load.redirected_to = urljoin(response.url, location) if location else None
        if load.resource_type == "document":
            framing = [
                f"X-Frame-Options: {response.headers['x-frame-options']}"
                if "x-frame-options" in response.headers
                else "",
                *(
                    f"CSP {part.strip()}"
                    for part in response.headers.get("content-security-policy", "").split(";")
                    if part.strip().lower().startswith("frame-ancestors")
                ),
            ]
            load.frame_options = "; ".join(part for part in framing if part) or None
        self._changed(response.request, load)

    def _timing(self, request: Request, load: ResourceLoad) -> None:
        timing = request.timing
        if timing.get("startTime", -1) > 0:
            load.started_ms = round(timing["startTime"] - self._started_epoch_ms, 1)
        if timing.get("responseEnd", -1) >= 0:
            load.duration_ms = round(timing["responseEnd"], 1)

    def _on_finished(self, request: Request) -> None:
        self._open.discard(request)
        load = self._loads.get(request)
        if load is not None:
            self._timing(request, load)
            self._changed(request, load)

    def _on_failed(self, request: Request) -> None:
        self._open.discard(request)
        load = self._loads.get(request)
        if load is not None:
            load.failure = request.failure or "failed"
            self._timing(request, load)
            self._changed(request, load)

    def _named(self, file_name: str) -> list[tuple[Request, ResourceLoad]]:
        suffix = "/" + file_name.lower()
        return [(request, load) for request, load in self._loads.items() if _path_of(load.url).endswith(suffix)]

    def succeeded(self, file_name: str) -> bool:
        """Whether a request for `file_name` got its whole answer, 2xx or 304."""
        return any(succeeded(load) and request not in self._open for request, load in self._named(file_name))

    def document_failed(self, url: str) -> bool:
        """Whether the document request for `url` (a frame's src or URL) failed or answered an error. A fragment
        is never sent: `…/agent.html#/home` is requested as `…/agent.html`. `url` as the browser has it."""
        return url.split("#", 1)[0] in self._failed_documents

    def library(self, file_name: str) -> str:
        """How the requests for `file_name` went: ok, in flight, failed, or absent (never requested)."""
        named = self._named(file_name)
        if self.succeeded(file_name):
            return "ok"
        if any(request in self._open for request, _ in named):
            return "in flight"
        return "failed" if named else "absent"

    def frame_index(self, frame: Frame | None) -> int | None:
        """A frame's number, the same in every request it makes, whatever URL it moves to (a widget that redirects
        itself by script keeps its number)."""
        if frame is None:
            return None
        return self._frames.setdefault(frame, len(self._frames))

    def last_load_activity_ms(self, started: float, offset_ms: float) -> float:
        """When a document or script was last asked for or answered: ms after `started` (monotonic), less
        `offset_ms`. The app's own loading counts as busy where it has no idle signal of its own."""
        if not self._last_load_activity:
            return 0.0
        return (self._last_load_activity - started) * 1000 - offset_ms

    def in_flight(self, provider_frames: Collection[Frame] = (), provider_wait_s: float = 0) -> list[ResourceLoad]:
        """Requests still awaited that can change the CIF state: documents (frames navigating), scripts (extensions
        loading) and the CIF libraries; and a provider frame's own fetch/XHR calls (a provider may set the mode once
        its back end answers), each for at most `provider_wait_s` (a long poll is background). Other traffic
        (telemetry, polling, streams of the app) is the page's background."""
        now = time.monotonic()
        return [
            load
            for request in self._open
            if (load := self._loads.get(request)) is not None
            and (
                load.resource_type in ("document", "script")
                or _path_of(load.url).endswith(self._watched)
                or (
                    load.resource_type in ("fetch", "xhr")
                    and now - self._asked.get(request, now) < provider_wait_s
                    and _frame_of(request) in provider_frames
                )
            )
        ]

    def loads(self) -> list[ResourceLoad]:
        return [load.model_copy() for load in self._loads.values()]
