"""An org that fails is an `error` within seconds, never after the whole ready timeout, and never a `fail`; an
error page that recovers by itself is waited for."""

from __future__ import annotations

import socket
import time

import pytest
from playwright.sync_api import Page, Route

from cifcheck.config import Config, Target, Timeouts
from cifcheck.evidence import Navigation
from cifcheck.session import OpenedTarget, open_app

pytestmark = pytest.mark.browser

ORG = "https://contoso.crm.dynamics.com"
APP = "<title>Dashboards</title><script>window.Xrm = { Utility: { getGlobalContext: () => ({}) } };</script>"
RETRIES = "<title>Service Unavailable</title><script>setTimeout(() => location.reload(), 300);</script>"


def _open(page: Page, answers: list[tuple[int, str]]) -> tuple[Navigation, float]:
    """Opens the app with the org answering each main.aspx request with the next (status, body); the last repeats."""

    def answer(route: Route) -> None:
        status, body = answers.pop(0) if len(answers) > 1 else answers[0]
        route.fulfill(status=status, content_type="text/html", body=body)

    page.route(f"{ORG}/**", answer)
    config = Config(targets=[Target(name="org", url=ORG)], timeouts=Timeouts(ready_ms=30_000))
    started = time.monotonic()
    navigation = open_app(
        page, OpenedTarget(config.targets[0], ORG, ("login.microsoftonline.com",)), config, Navigation(), started
    )
    return navigation, time.monotonic() - started


def test_a_503_from_the_app_page_is_an_error_within_seconds(page: Page):
    navigation, took = _open(page, [(503, "<title>Service Unavailable</title>")])
    assert "HTTP 503" in (navigation.error or "")
    assert took < 5


def test_a_404_from_the_app_page_is_an_error_within_seconds(page: Page):
    navigation, took = _open(page, [(404, "<title>App not found</title>")])
    assert "HTTP 404" in (navigation.error or "")
    assert took < 5


def test_an_error_page_that_retries_by_itself_and_then_works_is_the_app(page: Page):
    navigation, _ = _open(page, [(503, RETRIES), (200, APP)])
    assert navigation.app_ready
    assert navigation.error is None


def test_unified_interfaces_own_error_page_is_an_error(page: Page):
    redirect = "<script>location.replace('/errorhandler.aspx?BackUri=x')</script>"
    navigation, took = _open(page, [(200, redirect), (200, "<title>Error</title><p>Something went wrong")])
    assert "errorhandler.aspx" in (navigation.error or "")
    assert took < 5


def test_an_org_that_refuses_connections_is_an_error_at_once(page: Page):
    with socket.socket() as closed:  # bound, never listening: connections to it are refused
        closed.bind(("127.0.0.1", 0))
        org = f"http://127.0.0.1:{closed.getsockname()[1]}"
        config = Config(targets=[Target(name="org", url=org)])
        started = time.monotonic()
        navigation = open_app(page, OpenedTarget(config.targets[0], org, ()), config, Navigation(), started)
    assert "ERR_CONNECTION_REFUSED" in (navigation.error or "")
    assert time.monotonic() - started < 5


FOREIGN = "https://status.contoso-it.example"


def _via_foreign_page(page: Page, foreign_page: str) -> Navigation:
    """The org first sends the browser to a page on another host, which may come back to the org by itself."""

    def answer(route: Route) -> None:
        url = route.request.url
        body = foreign_page if url.startswith(FOREIGN) else APP if "from=foreign" in url else REDIRECT
        route.fulfill(status=200, content_type="text/html", body=body)

    page.route("**/*", answer)
    config = Config(targets=[Target(name="org", url=ORG)], timeouts=Timeouts(ready_ms=30_000))
    opened = OpenedTarget(config.targets[0], ORG, ("login.microsoftonline.com",))
    return open_app(page, opened, config, Navigation(), time.monotonic())


REDIRECT = f"<script>location.replace('{FOREIGN}/notice')</script>"
BACK = f"<script>setTimeout(() => location.replace('{ORG}/main.aspx?from=foreign'), 2500)</script>"


def test_a_foreign_page_with_a_newsletter_form_that_returns_to_the_org_is_not_a_sign_in_page(page: Page):
    notice = f"<title>Notice</title><form><input type=email name=email><button>Subscribe</button></form>{BACK}"
    navigation = _via_foreign_page(page, notice)
    assert navigation.app_ready and not navigation.sign_in_page


def test_a_foreign_page_with_a_password_field_is_a_sign_in_page_at_once(page: Page):
    form = "<title>Sign in</title><form><input name=user><input type=password name=pass></form>"
    started = time.monotonic()
    navigation = _via_foreign_page(page, form)
    assert navigation.sign_in_page and navigation.sign_in_recognised_by == "its sign-in form"
    assert time.monotonic() - started < 4


class _FakeRequest:
    def __init__(self, page: object, url: str, failure: str | None = None) -> None:
        self.frame, self.url, self.failure = page, url, failure

    def is_navigation_request(self) -> bool:
        return True


class _FakeResponse:
    def __init__(self, request: _FakeRequest, status: int) -> None:
        self.request, self.status, self.url = request, status, request.url


class _FakePage:
    def __init__(self) -> None:
        self.main_frame = self
        self.handlers: dict[str, object] = {}

    def on(self, event: str, handler: object) -> None:
        self.handlers[event] = handler


def test_a_late_abort_of_the_replaced_document_does_not_hide_the_error_page_after_it():
    from cifcheck.session import TopDocument

    page = _FakePage()
    top = TopDocument(page)  # type: ignore[arg-type]
    error_page = _FakeRequest(page, f"{ORG}/errorhandler.aspx?BackUri=x")
    page.handlers["response"](_FakeResponse(error_page, 200))  # type: ignore[operator]
    # The script redirect's replaced document reports its abort only now, as a busy machine may deliver it.
    page.handlers["requestfailed"](_FakeRequest(page, f"{ORG}/main.aspx", "net::ERR_ABORTED"))  # type: ignore[operator]
    assert "errorhandler.aspx" in (top.error(ORG, linger_ms=0) or "")
