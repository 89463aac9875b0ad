"""The HTML report as an admin sees it: opened in real Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cifcheck.checks import judge_target
from cifcheck.config import Config, Target
from cifcheck.report import write_run
from cifcheck.results import RunResult
from cifcheck.runner import run
from tests.evidence_factory import PROVIDERS, healthy_evidence, storage
from tests.short_waits import SHORT_WAITS

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
HOSTILE_LABEL = "<script>alert(1)</script>"
SECRET = "s3cr3t-widget-token-77"


@pytest.fixture(scope="module")
def failing_report(sandbox, browser, tmp_path_factory) -> Path:
    target = Target(name="trusted-domain-mismatch", url="sandbox://trusted-domain-mismatch")
    config = Config(targets=[target], timeouts=SHORT_WAITS)  # the report is the subject, not the waiting
    output = run(config, sandbox=sandbox, browser=browser)
    return write_run(output.result, output.evidence, tmp_path_factory.mktemp("reports"))


def test_the_report_shows_the_failing_verdict_and_its_fix(page: Page, failing_report: Path):
    page.goto((failing_report / "index.html").as_uri())
    expect(page.locator("header.run .badge")).to_have_text("fail")
    card = page.locator("article", has=page.locator(".id", has_text="widget.loaded"))
    expect(card.locator(".badge")).to_have_text("fail")
    expect(card.locator(".reason")).to_contain_text("not the channel URL's domain")
    expect(card.locator(".fix")).to_contain_text("Trusted Domain field")
    passing = page.locator("article", has=page.locator(".id", has_text="cif.library_loaded"))
    expect(passing.locator(".badge")).to_have_text("pass")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-trusted-domain-mismatch.png"), full_page=True)


def test_the_report_is_self_contained(failing_report: Path):
    html = (failing_report / "index.html").read_text()
    assert "<script" not in html
    assert "http://" not in html.split("<style>")[1].split("</style>")[0]
    assert "<link" not in html


def hostile_evidence():
    evidence = healthy_evidence()
    provider = dict(PROVIDERS[0], label=HOSTILE_LABEL, customParams=json.dumps({"queue": "q1", "token": SECRET}))
    evidence.storage = storage(
        channelProviders=json.dumps([provider]),
        applicationExtensions=evidence.storage.values["applicationExtensions"],
    )
    return evidence


def test_page_text_is_escaped_and_secrets_redacted(page: Page, tmp_path: Path):
    evidence = hostile_evidence()
    result = RunResult(
        run_id="20261125-120000-000",
        cifcheck_version="0",
        started_at="now",
        duration_ms=1,
        targets=[judge_target(evidence)],
    )
    run_dir = write_run(result, [evidence], tmp_path)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((run_dir / "index.html").as_uri())
    card = page.locator("article", has=page.locator(".id", has_text="profile.channel_providers"))
    expect(card).to_contain_text(HOSTILE_LABEL)
    assert dialogs == []
    for written in run_dir.rglob("*"):
        if written.is_file():
            assert SECRET not in written.read_text(), written.name
    assert "[redacted]" in (run_dir / "index.html").read_text()
