"""The HTML report's structure, read by parsing it: what needs doing first, passes folded, the summary's links."""

from __future__ import annotations

from cifcheck.checks import judge_target
from cifcheck.evidence import ConsoleEntry, Evidence
from cifcheck.report import write_run
from cifcheck.report.html import render_html
from cifcheck.results import RunResult
from tests.evidence_factory import healthy_evidence
from tests.report.html_tree import Element, parse

JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP"  # the start of a JPEG, base64


def hidden_panel_with_a_console_error(name: str = "contoso") -> Evidence:
    """panel.docked fails (card 6 of 9 in migration order) and console.cif_errors warns (card 9)."""
    evidence = healthy_evidence()
    evidence.target.name = name
    evidence.panel.xrm_state = 2
    evidence.panel.visible = False
    evidence.console = [ConsoleEntry(level="error", text="CIF: Failed to load msdyn_channelintegrationframework.js")]
    return evidence


def signed_out(name: str = "signed-out") -> Evidence:
    evidence = healthy_evidence()
    evidence.target.name = name
    evidence.navigation.app_ready = False
    evidence.navigation.sign_in_page = True
    evidence.screenshot_jpeg_base64 = JPEG
    return evidence


def healthy(name: str) -> Evidence:
    evidence = healthy_evidence()
    evidence.target.name = name
    return evidence


def run_of(*evidence: Evidence) -> tuple[RunResult, list[Evidence]]:
    result = RunResult(
        run_id="20261201-120000-000",
        cifcheck_version="0",
        started_at="2026-12-01T12:00:00+00:00",
        duration_ms=1000,
        targets=[judge_target(item) for item in evidence],
    )
    return result, list(evidence)


def page_of(*evidence: Evidence) -> Element:
    return parse(render_html(*run_of(*evidence)))


def target_section(page: Element, name: str) -> Element:
    section = page.by_id(f"target:{name}")
    assert section is not None, name
    return section


def cards_outside_folds(section: Element) -> list[Element]:
    return [card for card in section.find_all("article", "card") if not card.inside("details", "fold")]


def test_the_first_card_of_a_target_is_its_failing_check():
    section = target_section(page_of(hidden_panel_with_a_console_error()), "contoso")
    first = section.find("article", "card")
    assert first.attrs["id"] == "contoso-panel.docked" and "fail" in first.classes


def test_failures_come_before_warnings_and_each_shows_its_reason_fix_and_doc_step():
    section = target_section(page_of(hidden_panel_with_a_console_error()), "contoso")
    cards = cards_outside_folds(section)
    assert [card.attrs["id"] for card in cards] == ["contoso-panel.docked", "contoso-console.cif_errors"]
    failing = cards[0]
    assert "hidden" in failing.find("p", "reason").text
    assert "setMode(1)" in failing.find("div", "fix").text
    assert "Verify step 3" in failing.find("div", "step").text and failing.find("div", "step").find("a")


def test_the_passing_checks_are_folded_into_one_expandable_line():
    evidence = hidden_panel_with_a_console_error()
    passed = sum(check.status == "pass" for check in judge_target(evidence).checks)
    section = target_section(page_of(evidence), "contoso")
    folds = [fold for fold in section.find_all("details", "fold") if "pass" in fold.classes]
    assert len(folds) == 1
    summary = folds[0].find("summary").text
    assert f"{passed} checks passed" in summary and "session.signed_in" in summary
    assert "open" not in folds[0].attrs
    assert all("pass" not in card.classes for card in cards_outside_folds(section))


def test_the_summary_names_each_targets_failing_checks_and_links_to_their_cards():
    page = page_of(healthy("healthy"), hidden_panel_with_a_console_error("broken"), signed_out())
    summary = page.find("section", "summary")
    rows = {row.find("td").find("a").text: row for row in summary.find_all("tr")[1:]}
    assert "panel.docked" in rows["broken"].text and "console.cif_errors" in rows["broken"].text
    assert "session.signed_in" in rows["signed-out"].text
    assert "nothing" in rows["healthy"].text
    links = [a.attrs["href"] for a in summary.find_all("a")]
    assert "#broken-panel.docked" in links and "#signed-out-session.signed_in" in links
    for link in links:
        assert page.by_id(link.removeprefix("#")) is not None, f"{link} points at nothing"


def test_a_target_with_nothing_to_do_is_folded_in_a_report_of_several_targets():
    page = page_of(healthy("healthy"), hidden_panel_with_a_console_error("broken"))
    assert target_section(page, "healthy").tag == "details" and "open" not in target_section(page, "healthy").attrs
    assert target_section(page, "broken").tag == "section"


def test_a_single_target_report_shows_its_failing_evidence_open():
    section = target_section(page_of(hidden_panel_with_a_console_error()), "contoso")
    evidence = [d for d in cards_outside_folds(section)[0].find_all("details")]
    assert evidence and all("open" in d.attrs for d in evidence)


def test_a_target_with_an_error_carries_what_the_browser_showed_in_its_error_card():
    card = page_of(signed_out()).by_id("signed-out-session.signed_in")
    images = [img.attrs["src"] for img in card.find_all("img")]
    assert images == [f"data:image/jpeg;base64,{JPEG}"]


def test_an_error_without_a_picture_says_why():
    evidence = signed_out()
    evidence.screenshot_jpeg_base64 = ""
    card = page_of(evidence).by_id("signed-out-session.signed_in")
    assert not card.find_all("img") and "No picture of the browser" in card.find("p", "no-shot").text


def test_the_end_screenshot_is_written_only_for_a_target_with_an_error(tmp_path):
    working = healthy("working")
    working.screenshot_jpeg_base64 = JPEG
    run_dir = write_run(*run_of(working, signed_out()), tmp_path)
    assert JPEG not in (run_dir / "evidence" / "working.json").read_text()
    assert JPEG in (run_dir / "evidence" / "signed-out.json").read_text()


def test_the_raw_evidence_shows_the_screenshot_as_its_size_not_its_bytes():
    page = page_of(signed_out())
    raw = page.find("details", "raw").text
    assert JPEG not in raw and "(JPEG, 34 base64 characters)" in raw


def test_a_hidden_panel_has_no_picture_only_why_even_from_older_evidence_that_holds_one():
    evidence = hidden_panel_with_a_console_error()
    evidence.panel.box.width = evidence.panel.box.height = 0
    evidence.panel.screenshot_png_base64 = "iVBORw0KGgo="  # an older cifcheck cropped the page behind it
    card = page_of(evidence).by_id("contoso-panel.docked")
    assert not card.find_all("img")
    assert "the panel is not visible (0 x 0 px)" in card.text


def test_an_offline_rejudge_says_so_in_the_header_and_shows_no_duration():
    result, evidence = run_of(signed_out())
    result.rejudged_offline, result.duration_ms = True, 0
    header = parse(render_html(result, evidence)).find("header", "run")
    assert "Re-judged offline" in header.text and "Took" not in header.text


def test_every_id_in_the_report_is_unique_even_for_a_target_named_target_beside_one_named_like_a_check():
    page = page_of(hidden_panel_with_a_console_error("target"), hidden_panel_with_a_console_error("panel.docked"))
    ids = [element.attrs["id"] for element in page.iter() if "id" in element.attrs]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    links = [a.attrs["href"][1:] for a in page.find_all("a") if a.attrs.get("href", "").startswith("#")]
    assert links and set(links) <= set(ids)
