"""A page that sends its head and then streams its body for ever never finishes parsing: every one-off read of it
has a time limit, so the run still ends in bounded time with a verdict."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

import pytest

from cifcheck.config import Config, Target, Timeouts
from cifcheck.runner import run

from .local_site import serving

pytestmark = pytest.mark.browser

# An app shell whose getCurrentAppProperties() never answers either.
APP = """<script>
  window.Xrm = { Utility: { getGlobalContext: () => ({ getCurrentAppProperties: () => new Promise(() => {}) }) } };
</script>"""


def _streaming(head: str) -> type[BaseHTTPRequestHandler]:
    class Streams(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/api/"):  # Dataverse answers; only the page streams
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            try:
                start = f"<!doctype html><html><head><title>Streams for ever</title>{head}</head><body>"
                self.wfile.write(start.encode())
                while True:  # until the browser goes away
                    self.wfile.write(b"<p>more</p>\n" * 20)
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                return

        def log_message(self, *args: object) -> None:
            pass

    return Streams


@pytest.mark.timeout(90)
@pytest.mark.parametrize("head", ["", APP], ids=["never the app", "the app, still parsing"])
def test_a_page_that_streams_for_ever_ends_in_bounded_time_with_a_verdict(browser, head):
    with serving(_streaming(head)) as port:
        org = f"http://127.0.0.1:{port}"
        timeouts = Timeouts(ready_ms=3_000, observe_ms=500, absence_ms=1_000, settle_max_ms=5_000)
        config = Config(targets=[Target(name="streams", url=org)], timeouts=timeouts)
        started = time.monotonic()
        output = run(config, browser=browser)
        took = time.monotonic() - started
    evidence = output.evidence[0]
    assert evidence.navigation.title == "Streams for ever"
    assert output.result.targets[0].status in ("error", "fail")
    assert not evidence.probe_errors, "every read answered, if only with what it had by its time limit"
    assert took < 30, f"took {took:.0f} s"
