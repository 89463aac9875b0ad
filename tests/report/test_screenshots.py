"""Screenshots from real runs: the panel only when it can be seen, and what the browser showed for every error."""

from __future__ import annotations

import base64
import socket
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from cifcheck.config import Config, Target
from cifcheck.evidence import Evidence
from cifcheck.probes import screenshot
from cifcheck.probes.screenshot import page_screenshot
from cifcheck.redact import register_secret
from cifcheck.report import write_run
from cifcheck.runner import run
from tests.report.html_tree import Element, parse
from tests.short_waits import SHORT_WAITS

pytestmark = pytest.mark.browser
JPEG_START = b"\xff\xd8\xff"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture(scope="module")
def written(sandbox, browser, tmp_path_factory) -> tuple[Path, dict[str, Evidence]]:
    targets = [
        Target(name="panel-hidden", url="sandbox://panel-hidden"),
        Target(name="healthy", url="sandbox://healthy-csw"),
        Target(name="signed-out", url="sandbox://signed-out"),
        Target(name="unreachable", url=f"http://127.0.0.1:{closed_port()}"),
    ]
    output = run(Config(targets=targets, timeouts=SHORT_WAITS), sandbox=sandbox, browser=browser)  # pictures, not waits
    run_dir = write_run(output.result, output.evidence, tmp_path_factory.mktemp("reports"))
    evidence = {path.stem: Evidence.model_validate_json(path.read_text()) for path in (run_dir / "evidence").iterdir()}
    return run_dir, evidence


def report(run_dir: Path) -> Element:
    return parse((run_dir / "index.html").read_text())


def test_a_hidden_panel_gets_no_screenshot_and_its_card_says_why(written):
    run_dir, evidence = written
    assert evidence["panel-hidden"].panel.screenshot_png_base64 == ""
    card = report(run_dir).by_id("panel-hidden-panel.docked")
    assert not card.find_all("img")
    assert "the panel is not visible (0 x 0 px)" in card.text


def test_a_docked_panel_gets_its_screenshot(written):
    run_dir, evidence = written
    assert base64.b64decode(evidence["healthy"].panel.screenshot_png_base64).startswith(b"\x89PNG")
    assert report(run_dir).by_id("healthy-panel.docked").find("img")


@pytest.mark.parametrize("name", ["signed-out", "unreachable"])
def test_an_error_carries_a_jpeg_of_what_the_browser_showed(written, name):
    run_dir, evidence = written
    picture = base64.b64decode(evidence[name].screenshot_jpeg_base64)
    assert picture.startswith(JPEG_START) and len(picture) < 150_000
    image = report(run_dir).by_id(f"{name}-session.signed_in").find("img")
    assert image.attrs["src"].startswith("data:image/jpeg;base64,/9j/")


def test_targets_without_an_error_keep_no_end_screenshot(written):
    _, evidence = written
    assert evidence["healthy"].screenshot_jpeg_base64 == "" and evidence["panel-hidden"].screenshot_jpeg_base64 == ""


def test_the_end_screenshot_masks_password_fields(page: Page):
    shots = []
    for secret in ("a", "a-much-longer-marker-password"):
        page.set_content(f"<input type=password value='{secret}' style='width: 300px; font-size: 20px'>")
        shots.append(page_screenshot(page))
    assert shots[0] and shots[0] == shots[1], "what a password field holds never shows"


@pytest.mark.parametrize(
    "field",
    [
        "<input name=otc type=tel value='{value}'>",  # the one-time code cifcheck typed
        "<input name=loginfmt type=email value='{value}'>",  # the account name
        "<input value='{value}'>",
        "<textarea>{value}</textarea>",
        "<div contenteditable>{value}</div>",
    ],
)
def test_the_end_screenshot_masks_every_field_a_value_is_typed_into(page: Page, field):
    shots = []
    for value in ("1", "98765432-a-much-longer-value"):
        page.set_content(f"<body style='font-size: 20px'>{field.replace('{value}', value)}")
        shots.append(page_screenshot(page))
    assert shots[0] and shots[0] == shots[1], "what a field holds never shows"


def test_no_screenshot_of_a_page_that_shows_a_known_secret_as_text(page: Page):
    secret = "shown-on-the-page-7f3a9c21e8"
    register_secret(secret)
    page.set_content("<iframe srcdoc='<p>x</p>'></iframe>")
    page.frames[1].set_content(f"<p>Your token: {secret}</p>")
    assert page_screenshot(page) == ""
    page.frames[1].set_content("<p>nothing secret here</p>")
    assert page_screenshot(page).startswith("/9j/")


def test_a_page_that_never_paints_costs_one_screenshot_timeout_not_two(page: Page, monkeypatch):
    monkeypatch.setattr(screenshot, "SCREENSHOT_MS", 1_000)
    page.set_content("<p>busy</p>")
    page.evaluate("setTimeout(() => { while (true) {} }, 50)")
    page.wait_for_timeout(200)
    started = time.monotonic()
    assert page_screenshot(page) == ""
    assert time.monotonic() - started < 1.8
