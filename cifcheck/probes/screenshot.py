"""Screenshots with every password field masked, in the page and in every frame: the panel's crop, and what the
browser showed when gathering ended (the picture an `error` carries in the report)."""

from __future__ import annotations

import base64
from typing import Literal

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

PASSWORD_FIELDS = "input[type=password i]"
SCREENSHOT_MS = 10_000
# The end-of-load picture is for a person to recognise the page (a sign-in form, an error page, a half-loaded app):
# JPEG at this quality keeps a 1366 x 768 viewport near 30-60 kB, where a PNG of it is 100-300 kB.
PAGE_JPEG_QUALITY = 55


def _password_fields(page: Page) -> list[Locator]:
    """The password fields of every frame that has a document, for a screenshot's mask (a frame's locator masks
    inside that frame). A frame whose document never came (still about:blank) can show no field, and asking it
    would hold the screenshot until it times out."""
    return [
        frame.locator(PASSWORD_FIELDS)
        for frame in page.frames
        if frame == page.main_frame or frame.url.startswith(("http://", "https://", "about:srcdoc"))
    ]


def masked_screenshot(page: Page, clip: dict | None = None, kind: Literal["png", "jpeg"] = "png") -> str:
    """A screenshot of the viewport (or `clip`) as base64, password fields masked; "" when none could be taken.
    Never without the mask: no picture rather than an unmasked one."""
    quality = PAGE_JPEG_QUALITY if kind == "jpeg" else None

    def take() -> bytes:
        mask = _password_fields(page)
        return page.screenshot(
            clip=clip, type=kind, quality=quality, animations="disabled", mask=mask, timeout=SCREENSHOT_MS
        )

    try:
        shot = take()
    except PlaywrightError:
        # A frame went away between listing the frames and the screenshot ("Frame was detached"): once more.
        try:
            shot = take()
        except PlaywrightError:
            return ""
    return base64.b64encode(shot).decode("ascii")


def page_screenshot(page: Page) -> str:
    """What the browser shows now, the viewport as JPEG (base64), password fields masked; "" when the page is gone."""
    return masked_screenshot(page, kind="jpeg")
