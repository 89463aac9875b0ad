"""Console messages and uncaught page errors from the page and every frame (redacted by the evidence model)."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Error, Page

from cifcheck.evidence import ConsoleEntry

MAX_ENTRIES = 500


class ConsoleRecorder:
    def __init__(self, page: Page) -> None:
        self._entries: list[ConsoleEntry] = []
        self.dropped = 0
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _add(self, entry: ConsoleEntry) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self.dropped += 1
            return
        self._entries.append(entry)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning", "trace", "assert"):
            return
        location = message.location or {}
        try:
            frame_url = message.page.main_frame.url if message.page else ""
        except Exception:
            frame_url = ""
        self._add(
            ConsoleEntry(
                level=message.type,
                text=message.text,
                frame_url=frame_url,
                source_url=location.get("url", ""),
            )
        )

    def _on_page_error(self, error: Error) -> None:
        self._add(ConsoleEntry(level="pageerror", text=f"{error.name}: {error.message}"))

    def entries(self) -> list[ConsoleEntry]:
        return list(self._entries)
