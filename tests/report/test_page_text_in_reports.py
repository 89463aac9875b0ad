"""Page text in the HTML report, the run history and junit.xml: escaped, bidi-isolated, never a control."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from cifcheck.checks import judge_target
from cifcheck.report import write_run
from cifcheck.report.history import render_history
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
    result, evidence = hostile_run()
    page = render_html(result, evidence)
    raw = re.search(r'<details class="raw">.*?<pre>(.*?)</pre>', page, re.S).group(1)
    data = json.loads(html.unescape(raw))
    assert data["app"]["user_name"] == evidence[0].app.user_name  # as the evidence holds it: redacted and capped


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


def plant(output_dir: Path, folder: str, run_id: str, **changes: str) -> None:
    result, _ = hostile_run()
    result = result.model_copy(update={"run_id": run_id, **changes})
    (output_dir / folder).mkdir()
    (output_dir / folder / "result.json").write_text(result.model_dump_json(), encoding="utf-8")


def test_the_history_links_only_run_ids_cifcheck_writes(tmp_path: Path):
    plant(tmp_path, "20261125-100000-000", "javascript:alert(1)")
    plant(tmp_path, "20261125-110000-000", "../../x")
    plant(tmp_path, "20261125-120000-000", "20261125-120000-000\n")
    plant(tmp_path, "20261125-130000-000", "20261125-090000-000")  # not its own folder
    plant(tmp_path, "20261125-140000-000", "20261125-140000-000", started_at="\u202e\x1b]0;owned\x07")
    history = render_history(tmp_path)
    assert re.findall(r'href="([^"]*)"', history) == ["20261125-140000-000/index.html"]
    assert "javascript" not in history and "../" not in history and "090000" not in history
    assert unsafe_characters(history, keep="\n") == [] and "\\u202e\\u001b]0;owned\\u0007" in history


def test_a_report_written_with_hostile_page_text_holds_no_bidi_control(tmp_path: Path):
    run_dir = write_run(*hostile_run(), tmp_path)
    for name in ("index.html", "junit.xml"):
        assert unsafe_characters((run_dir / name).read_text(encoding="utf-8"), keep="\n\t") == [], name
    assert unsafe_characters((tmp_path / "index.html").read_text(encoding="utf-8"), keep="\n") == []
