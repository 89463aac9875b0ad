"""A page that is still loading can be closed: a verdict may come before the page has finished."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from playwright.sync_api import BrowserContext

from cifcheck.browser import close_page

from .local_site import serving


class _SlowPage(BaseHTTPRequestHandler):
    """A page whose first bytes come at once and whose last come a second later: it stays loading."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(b"<title>Sign in</title><input name='loginfmt'>")
            self.wfile.flush()
            time.sleep(1)
            self.wfile.write(b"<p>done</p>")
        except OSError:
            pass  # the browser left

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def slow_page_url() -> Iterator[str]:
    with serving(_SlowPage) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.mark.browser
@pytest.mark.timeout(
    60
)  # without the fix, Chromium 156 ignores about one such close in five, and close() never returns
def test_a_page_closed_while_its_document_is_still_loading_closes(context: BrowserContext, slow_page_url: str):
    for _ in range(20):
        page = context.new_page()
        page.goto(slow_page_url, wait_until="commit")
        close_page(page)
        assert page.is_closed()
