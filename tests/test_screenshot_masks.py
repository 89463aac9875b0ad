"""Every screenshot cifcheck takes hides password fields, in the page and in every frame (provider widgets are
cross-origin frames inside the panel frame)."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, Route

from cifcheck.config import Selectors
from cifcheck.probes.panel import read_panel

pytestmark = pytest.mark.browser

ORG = "https://contoso.crm.dynamics.com"
WIDGET = "https://widget.contoso-phone.example"
FIELD = "<input type=PassWord value='{value}' style='width: 260px; font-size: 20px'>"


def _panel_screenshot(page: Page, secret: str) -> bytes:
    """The panel's screenshot with `secret` typed into a password field in the page, in the (cross-origin) panel
    frame and in a frame inside that."""
    pages = {
        f"{ORG}/": f"<body style='margin: 0'>{FIELD}<iframe id=SidePanelIFrame src='{WIDGET}/panel'"
        " style='position: absolute; left: 0; top: 40px; width: 400px; height: 300px; border: 0'></iframe>",
        f"{WIDGET}/panel": f"<body style='margin: 0'>{FIELD}<iframe src='{WIDGET}/inner'"
        " style='width: 380px; height: 100px; border: 0'></iframe>",
        f"{WIDGET}/inner": f"<body style='margin: 0'>{FIELD}",
    }

    def answer(route: Route) -> None:
        body = pages[route.request.url].replace("{value}", secret)
        route.fulfill(status=200, content_type="text/html", body=body)

    page.route("**/*", answer)
    page.goto(f"{ORG}/")
    page.frame_locator("#SidePanelIFrame").frame_locator("iframe").locator("input").wait_for()
    panel = read_panel(page, Selectors(panel_frame="#SidePanelIFrame"))
    assert panel.visible and panel.screenshot_png_base64
    return base64.b64decode(panel.screenshot_png_base64)


def test_password_fields_are_masked_in_the_panel_screenshot_in_the_page_and_in_every_frame(browser):
    shots = []
    for secret in ("a", "a-much-longer-marker-password"):
        page = browser.new_page(viewport={"width": 800, "height": 400})
        try:
            shots.append(_panel_screenshot(page, secret))
            # The same view unmasked differs with the secret's length: the comparison below can fail.
            shots.append(page.screenshot(clip={"x": 0, "y": 0, "width": 416, "height": 356}))
        finally:
            page.close()
    masked_short, plain_short, masked_long, plain_long = shots
    assert plain_short != plain_long
    assert masked_short == masked_long, "what a password field holds never shows"
