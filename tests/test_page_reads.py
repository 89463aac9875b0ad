"""cifcheck's reads of a page have time limits that page script cannot take away."""

import time

from playwright.sync_api import BrowserContext

from cifcheck.probes.app import APP_PROPERTIES_MS, read_app
from cifcheck.probes.panel import FrameReports

# An app whose promise never settles, on a page that has replaced the timer and promise functions.
HOSTILE_APP = """<script>
window.setTimeout = () => 0;
Promise.prototype.then = function () { return this; };
window.Promise = function () {};
window.Xrm = { Utility: { getGlobalContext: () => ({
  getClientUrl: () => location.origin, userSettings: { userName: "Agent" },
  getCurrentAppProperties: () => ({ then() {} }) }) } };
</script>"""


def test_reading_the_app_ends_although_its_promise_never_settles_and_timers_are_replaced(context: BrowserContext):
    page = context.new_page()
    FrameReports(page)  # what adds cifcheck's init script, as in a run
    page.route("https://org.example/**", lambda route: route.fulfill(body=HOSTILE_APP, content_type="text/html"))
    page.goto("https://org.example/main.aspx?appname=x")
    started = time.monotonic()
    info = read_app(page, "li")
    assert time.monotonic() - started < APP_PROPERTIES_MS / 1000 + 2
    assert info.user_name == "Agent" and info.app_unique_name is None
