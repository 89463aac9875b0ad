"""Page text in the HTML report, the run history and junit.xml: escaped, bidi-isolated, never a control."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from cifcheck.checks import judge_target
from cifcheck.report.html import render_html
from cifcheck.report.junit import render_junit
from cifcheck.results import RunResult
from tests.hostile_text import BIDI_OVERRIDE, HOSTILE, LONE_SURROGATE, REDACTED, hostile_evidence, unsafe_characters

TEMPLATES = Path(__file__).resolve().parents[2] / "cifcheck" / "report" / "templates"


def hostile_run(label: str = HOSTILE) -> tuple[RunResult, list]:
    evidence = hostile_evidence(label)
    evidence.target.app = BIDI_OVERRIDE  # shown in the header and the target's heading
    result = RunResult(
        run_id="20261125-120000-000",
        cifcheck_version="0",
        started_at="2026-11-25T12:00:00+00:00",
        duration_ms=1,
        targets=[judge_target(evidence)],
    )
    return result, [evidence]


def test_the_html_report_shows_no_control_or_bidi_character_from_the_page():
    page = render_html(*hostile_run(HOSTILE + LONE_SURROGATE))
    assert unsafe_characters(page, keep="\n\t") == []
    assert "\u202e" not in page
    assert "\\u202eexe.txt" in page and "\\u001b]0;owned\\u0007" in page  # shown, as code points
    assert "[link=file:///etc/passwd]x[/link]" in page and REDACTED in page
    page.encode("utf-8")  # the lone surrogate is written as text, not as an unencodable character


def test_page_text_sharing_a_line_with_cifcheck_words_is_bidi_isolated():
    page = render_html(*hostile_run())
    heading = re.search(r"<h2>(.*?)</h2>", page).group(1)
    assert "<bdi>\\u202eexe.txt" in heading and "at <bdi>https://contoso.crm.dynamics.com</bdi>" in heading
    assert re.search(r"bdi, code \{ unicode-bidi: isolate; \}", page)


def test_the_raw_evidence_is_still_the_same_json_after_escaping():
    page = render_html(*hostile_run())
    raw = re.search(r'<details class="raw">.*?<pre>(.*?)</pre>', page, re.S).group(1)
    data = json.loads(html.unescape(raw))
    assert data["app"]["user_name"] == HOSTILE


def test_no_template_marks_anything_safe():
    for template in TEMPLATES.glob("*.j2"):
        assert not re.search(r"\|\s*safe\b", template.read_text()), template.name


def test_junit_parses_and_carries_no_control_or_bidi_character():
    xml = render_junit(hostile_run(HOSTILE + LONE_SURROGATE)[0])
    assert unsafe_characters(xml, keep="\n\t") == []
    root = ET.fromstring(xml.encode("utf-8"))
    for element in root.iter():
        for text in [element.text or "", *element.attrib.values()]:
            assert unsafe_characters(text, keep="\n\t") == [], element.tag
    warning = root.find(".//testcase[@name='console.cif_errors']/system-out")
    assert "\\u202eexe.txt" in warning.text and REDACTED in warning.text
    user = root.find(".//property[@name='user']").get("value")
    assert "\n" not in user and "\\u000a" in user  # a message or name stays one line
