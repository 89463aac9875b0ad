"""Every request the page and its frames make, with status, timing, size or network error."""

from __future__ import annotations

import time

from playwright.sync_api import Page, Request, Response

from cifcheck.evidence import ResourceLoad
from cifcheck.redact import redact_url

WIDGET_LIBRARY = "msdyn_cilibrary.js"


def _frame_url(request: Request) -> str:
    try:
        return redact_url(request.frame.url)
    except Exception:  # service-worker requests have no frame
        return ""


class NetworkRecorder:
    """Listens from before navigation to the end of the run; `loads()` is the evidence."""

    def __init__(self, page: Page, started_at: float, library_file: str) -> None:
        self._started_epoch_ms = started_at * 1000
        self._watched = (library_file.lower(), WIDGET_LIBRARY)
        self._loads: dict[Request, ResourceLoad] = {}
        # Bumped by every event about a document or a CIF script: what the settle wait calls progress.
        # Other traffic (telemetry, polling) is ignored there, or a busy org would never look settled.
        self.cif_changes = 0
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)

    def _changed(self, load: ResourceLoad) -> None:
        name = load.url.lower().split("?", 1)[0]
        if load.resource_type == "document" or name.endswith(self._watched):
            self.cif_changes += 1

    def _on_request(self, request: Request) -> None:
        load = ResourceLoad(
            url=redact_url(request.url),
            resource_type=request.resource_type,
            frame_url=_frame_url(request),
            started_ms=round(time.time() * 1000 - self._started_epoch_ms, 1),
        )
        self._loads[request] = load
        self._changed(load)

    def _on_response(self, response: Response) -> None:
        load = self._loads.get(response.request)
        if load is None:
            return
        load.status = response.status
        length = response.headers.get("content-length")
        load.size = int(length) if length and length.isdigit() else None
        if 300 <= response.status < 400:
            load.redirected_to = redact_url(response.headers.get("location", "")) or None
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
        self._changed(load)

    def _timing(self, request: Request, load: ResourceLoad) -> None:
        timing = request.timing
        if timing.get("startTime", -1) > 0:
            load.started_ms = round(timing["startTime"] - self._started_epoch_ms, 1)
        if timing.get("responseEnd", -1) >= 0:
            load.duration_ms = round(timing["responseEnd"], 1)

    def _on_finished(self, request: Request) -> None:
        load = self._loads.get(request)
        if load is not None:
            self._timing(request, load)
            self._changed(load)

    def _on_failed(self, request: Request) -> None:
        load = self._loads.get(request)
        if load is not None:
            load.failure = request.failure or "failed"
            self._timing(request, load)
            self._changed(load)

    def _named(self, file_name: str) -> list[ResourceLoad]:
        suffix = "/" + file_name.lower()
        return [load for load in self._loads.values() if load.url.lower().split("?", 1)[0].endswith(suffix)]

    def finished(self, file_name: str) -> bool:
        """Whether a request for `file_name` got its whole answer (or failed)."""
        return any(load.duration_ms is not None or load.failure for load in self._named(file_name))

    def succeeded(self, file_name: str) -> bool:
        return any(
            load.status is not None and 200 <= load.status < 300 and load.duration_ms is not None
            for load in self._named(file_name)
        )

    def document_failed(self, url: str) -> bool:
        """Whether the document request for `url` (a frame's src) failed or answered an error."""
        return any(
            load.resource_type == "document"
            and load.url == url
            and (load.failure is not None or (load.status is not None and load.status >= 400) or load.frame_options)
            for load in self._loads.values()
        )

    def loads(self) -> list[ResourceLoad]:
        return [load.model_copy() for load in self._loads.values()]
