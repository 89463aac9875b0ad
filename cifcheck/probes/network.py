"""Every request the page and its frames make, with status, timing, size or network error."""

from __future__ import annotations

import time

from playwright.sync_api import Page, Request, Response

from cifcheck.evidence import ResourceLoad
from cifcheck.redact import redact_url


def _frame_url(request: Request) -> str:
    try:
        return redact_url(request.frame.url)
    except Exception:  # service-worker requests have no frame
        return ""


class NetworkRecorder:
    """Listens from before navigation to the end of the run; `loads()` is the evidence."""

    def __init__(self, page: Page, started_at: float) -> None:
        self._started_epoch_ms = started_at * 1000
        self._loads: dict[Request, ResourceLoad] = {}
        self.changes = 0
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)

    def _on_request(self, request: Request) -> None:
        self._loads[request] = ResourceLoad(
            url=redact_url(request.url),
            resource_type=request.resource_type,
            frame_url=_frame_url(request),
            started_ms=round(time.time() * 1000 - self._started_epoch_ms, 1),
        )
        self.changes += 1

    def _on_response(self, response: Response) -> None:
        load = self._loads.get(response.request)
        if load is None:
            return
        load.status = response.status
        length = response.headers.get("content-length")
        load.size = int(length) if length and length.isdigit() else None
        if 300 <= response.status < 400:
            load.redirected_to = redact_url(response.headers.get("location", "")) or None
        self.changes += 1

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
            self.changes += 1

    def _on_failed(self, request: Request) -> None:
        load = self._loads.get(request)
        if load is not None:
            load.failure = request.failure or "failed"
            self._timing(request, load)
            self.changes += 1

    def finished(self, file_name: str) -> bool:
        """Whether a request for `file_name` got its whole answer (or failed)."""
        suffix = "/" + file_name.lower()
        return any(
            load.url.lower().split("?", 1)[0].endswith(suffix) and (load.duration_ms is not None or load.failure)
            for load in self._loads.values()
        )

    def loads(self) -> list[ResourceLoad]:
        return [load.model_copy() for load in self._loads.values()]
