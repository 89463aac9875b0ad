"""Screenshots with every field a value can be typed into masked (password, account name, one-time code), in the
page and in every frame: the panel's crop, and what the browser showed when gathering ended (the picture an `error`
carries in the report). A page that shows a known secret as text gets no picture at all."""

from __future__ import annotations

import base64
import time
from typing import Literal

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cifcheck.redact import any_known_secret, known_leaks

# Every field a person or cifcheck types into: the password, but also the account name and the one-time code
# (`type=tel` on Microsoft's page), which a failed sign-in leaves on the screen. Buttons keep their labels.
MASKED_FIELDS = (
    "input:not([type=hidden i]):not([type=submit i]):not([type=button i]):not([type=reset i]):not([type=image i]),"
    " textarea, [contenteditable]:not([contenteditable=false i])"
)
SCREENSHOT_MS = 10_000
# The end-of-load picture is for a person to recognise the page (a sign-in form, an error page, a half-loaded app):
# JPEG at this quality keeps a 1366 x 768 viewport near 30-60 kB, where a PNG of it is 100-300 kB.
PAGE_JPEG_QUALITY = 55


def _frames(page: Page) -> list[Frame]:
    """The frames that have a document. A frame whose document never came (still about:blank) can show nothing,
    and asking it would hold the screenshot until it times out."""
    return [
        frame
        for frame in page.frames
        if frame == page.main_frame or frame.url.startswith(("http://", "https://", "about:srcdoc"))
    ]


def _masked_fields(page: Page) -> list[Locator]:
    """The fields of every frame, for a screenshot's mask (a frame's locator masks inside that frame)."""
    return [frame.locator(MASKED_FIELDS) for frame in _frames(page)]


def _shows_a_known_secret(page: Page, deadline: float) -> bool:
    """Whether any frame's text holds a known secret (a token printed on an error page, a cookie echoed); also
    when a frame's text cannot be read by `deadline`: no picture rather than one that may show a secret."""
    if not any_known_secret():
        return False
    for frame in _frames(page):
        remaining_ms = (deadline - time.monotonic()) * 1000
        if remaining_ms <= 0:
            return True
        try:
            text = frame.locator(":root").inner_text(timeout=remaining_ms)
        except PlaywrightError:
            return True
        if known_leaks(text):
            return True
    return False


def masked_screenshot(page: Page, clip: dict | None = None, kind: Literal["png", "jpeg"] = "png") -> str:
    """A screenshot of the viewport (or `clip`) as base64, every field masked; "" when none could be taken in
    about `SCREENSHOT_MS`, or the page shows a known secret. Never without the mask: no picture rather than an
    unmasked one."""
    quality = PAGE_JPEG_QUALITY if kind == "jpeg" else None
    deadline = time.monotonic() + SCREENSHOT_MS / 1000

    def take() -> bytes:
        timeout = max((deadline - time.monotonic()) * 1000, 1)
        return page.screenshot(
            clip=clip, type=kind, quality=quality, animations="disabled", mask=_masked_fields(page), timeout=timeout
        )

    try:
        shot = take()
    except PlaywrightTimeoutError:
        return ""  # a page that does not paint in time will not paint for a second try: one timeout, not two
    except PlaywrightError:
        # A frame went away between listing the frames and the screenshot ("Frame was detached"): once more.
        try:
            shot = take()
        except PlaywrightError:
            return ""
    if _shows_a_known_secret(page, deadline + 2):
        return ""
    return base64.b64encode(shot).decode("ascii")


def page_screenshot(page: Page) -> str:
    """What the browser shows now, the viewport as JPEG (base64), fields masked; "" when the page is gone."""
    return masked_screenshot(page, kind="jpeg")
