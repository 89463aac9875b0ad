"""`--summary-md FILE`: a Markdown step summary that leads with what needs doing, stays under GitHub's 1 MiB for any
fleet, shows page text as text, and holds no known secret. Rendered with markdown-it (CommonMark with GFM tables)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from cifcheck.cli import cli
from cifcheck.redact import REDACTED, register_secret
from cifcheck.report.baseline import mark_changes
from cifcheck.report.summary_md import SUMMARY_MAX_BYTES, append_summary, render_summary_md, summary_path_problem
from cifcheck.results import CheckResult, RunResult, Status, TargetResult
from tests.evidence_factory import healthy_evidence

GITHUB_LIMIT = 1024 * 1024
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE_REASON = (
    "| ] ( <img src=x onerror=alert(1)> \n # heading [click](javascript:alert(1)) ![pixel](https://evil.example/p.png)"
    " <script>alert(1)</script> `code` **bold** ~~gone~~ $x$ &lt; \\| https://evil.example www.evil.example "
    "phish@evil.example\r\n| forged | row |"
)


def check(id_: str, status: Status, reason: str = "found so", remediation: str = "Do this. Then that.") -> CheckResult:
    return CheckResult(id=id_, title=id_, status=status, reason=reason, remediation=remediation)


def a_run(*targets: TargetResult, run_id: str = "20261201-120000-000") -> RunResult:
    return RunResult(run_id=run_id, cifcheck_version="0", started_at="", duration_ms=1, targets=list(targets))


def target(name: str, *checks: CheckResult) -> TargetResult:
    return TargetResult(target=name, url="https://contoso.crm.dynamics.com", app="a", checks=list(checks))


def headings(markdown: str) -> list[str]:
    return [line.split(":")[0] for line in markdown.splitlines() if line.startswith("### ")]


def test_the_summary_opens_with_the_verdict_and_the_counts():
    lines = render_summary_md(a_run(target("t", check("panel.docked", "fail"), check("app.loaded", "pass")))).split(
        "\n"
    )
    assert lines[0] == "## cifcheck: FAIL"
    assert lines[2] == "**FAIL** — 1 fail, 1 pass; 1 target, 0.0 s"


def test_against_a_baseline_it_leads_with_new_failures_then_other_failures_errors_warnings_fixed_targets():
    baseline = a_run(
        target("t", *(check(f"a.{n}", "pass") for n in ("one", "three", "four")), check("a.two", "fail"),
               check("a.five", "fail")),
        run_id="20261201-110000-000",
    )  # fmt: skip
    now = a_run(
        target(
            "t", check("a.five", "pass"), check("a.four", "warn"), check("a.three", "error"),
            check("a.two", "fail"), check("a.one", "fail"),
        )
    )  # fmt: skip
    mark_changes(now, baseline)
    summary = render_summary_md(now)
    assert headings(summary) == [
        "### New failures (regressions)", "### Other failures", "### Errors (cifcheck could not decide)",
        "### Warnings", "### Fixed", "### Targets",
    ]  # fmt: skip
    assert "Against run `20261201-110000-000`: **1 new failure**, 1 still failing, 1 fixed." in summary
    regressions = summary[summary.index("### New failures") : summary.index("### Other failures")]
    assert "| t | `a.one` | found so | Do this. |" in regressions


def test_without_a_baseline_failures_come_first():
    summary = render_summary_md(a_run(target("t", check("a.warned", "warn"), check("a.failed", "fail"))))
    assert headings(summary) == ["### Failures", "### Warnings", "### Targets"]


def test_the_targets_table_puts_failing_targets_first():
    summary = render_summary_md(a_run(target("fine", check("a.b", "pass")), target("broken", check("a.b", "fail"))))
    rows = summary[summary.index("### Targets") :].splitlines()[4:]
    assert [row.split(" | ")[0] for row in rows] == ["| broken", "| fine"]


def test_two_thousand_targets_of_twenty_failing_checks_with_long_reasons_stay_under_one_mebibyte():
    reason = "The channel provider's widget did not load <b>|</b> [x](y) " * 30  # capped at 1,000 characters
    failing = [check(f"check.number_{n}", "fail", reason, reason) for n in range(20)]
    run = a_run(*(target(f"tenant-{n:04}", *failing) for n in range(2_000)))
    summary = render_summary_md(run, "reports/20261201-120000-000/index.html")
    assert len(summary.encode("utf-8")) <= SUMMARY_MAX_BYTES < GITHUB_LIMIT
    assert "### Failures: 40,000" in summary and "*…and 39,800 more, not shown here: see the report.*" in summary
    assert "### Targets: 2,000" in summary, "the per-target table is there too, capped"


def test_a_small_byte_budget_keeps_the_important_sections_first_and_says_what_it_left_out():
    failing = [target(f"t{n}", check("panel.docked", "fail", "x" * 300)) for n in range(100)]
    summary = render_summary_md(a_run(*failing), max_bytes=20_000)
    assert len(summary.encode("utf-8")) <= 20_000
    shown = summary.count("| `panel.docked` |")
    assert 0 < shown < 100 and f"*…and {100 - shown:,} more, not shown here: see the report.*" in summary


def rendered(markdown: str) -> str:
    return MARKDOWN.render(markdown)


def test_a_hostile_reason_stays_text_no_link_image_html_heading_or_extra_cell():
    run = a_run(target("t", check("panel.docked", "fail", HOSTILE_REASON, HOSTILE_REASON)))
    html = rendered(render_summary_md(run))
    row = re.search(r"<tr>\s*<td>t</td>\s*<td><code>panel\.docked</code></td>(.*?)</tr>", html, re.S)
    assert row, html
    assert re.findall(r"<[^>]*>", row.group(1)) == ["<td>", "</td>", "<td>", "</td>"], "reason, fix: text, no tag"
    assert not re.search(r"<(h1|ul|ol|blockquote|hr|pre)\b", html), "no line of the reason became a block"
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "[click](javascript:alert(1))" in html
    assert "| forged | row |" in html and "\\u000d\\u000a" in html  # the line break is shown, and started nothing


def test_urls_and_addresses_in_page_text_are_no_autolinks():
    summary = render_summary_md(a_run(target("t", check("panel.docked", "fail", HOSTILE_REASON))))
    assert "://evil" not in summary and "www.evil" not in summary and "phish@" not in summary
    assert "https:\u2060//evil.example" in summary  # the same text to a reader


def test_check_ids_are_code_only_when_they_are_plain_ids():
    summary = render_summary_md(a_run(target("t", check("x`|<b>", "fail"))))
    assert "| x\\`\\|\\<b\\> |" in summary


def test_a_known_secret_never_appears_in_the_summary():
    secret = "Summary-Secret-8f3a2c"
    register_secret(secret)
    leaking = check("panel.docked", "fail", f"the page said {secret}", f"Use {secret} again.")
    summary = render_summary_md(a_run(target(f"t-{secret}", leaking)))
    assert secret.lower() not in summary.lower()
    assert f"| t-\\{REDACTED[:-1]}\\] | `panel.docked` | the page said \\{REDACTED[:-1]}\\] |" in summary


def test_a_report_url_is_a_link_and_a_report_path_is_text():
    run = a_run(target("t", check("a.b", "pass")))
    url = "https://github.com/contoso/cif/actions/runs/1/artifacts/2"
    assert f"Report: [index.html]({url})" in render_summary_md(run, url)
    assert "Report: reports/x\\_y/index.html" in render_summary_md(run, Path("reports/x_y/index.html"))


def test_the_summary_is_appended_to_an_existing_file_and_its_folders_are_created(tmp_path):
    summary = tmp_path / "steps" / "summary.md"
    append_summary(summary, "first\n")
    append_summary(summary, "second\n")
    assert summary.read_text() == "first\n\nsecond\n"


@pytest.mark.parametrize("kind", ["folder", "file under a file"])
def test_a_summary_path_that_cannot_be_written_is_found_before_the_run(tmp_path, kind: str):
    (tmp_path / "plain").write_text("")
    path = tmp_path if kind == "folder" else tmp_path / "plain" / "summary.md"
    assert summary_path_problem(path) is not None


def test_checking_a_summary_path_leaves_no_file_behind(tmp_path):
    assert summary_path_problem(tmp_path / "new" / "summary.md") is None
    assert not (tmp_path / "new" / "summary.md").exists()


def test_an_unwritable_summary_md_is_one_line_naming_the_option_and_exit_2_with_nothing_written(tmp_path):
    evidence = tmp_path / "contoso.json"
    evidence.write_text(healthy_evidence().model_dump_json(), encoding="utf-8")
    with contextlib.chdir(tmp_path):
        done = CliRunner().invoke(cli, ["report", str(evidence), "--output", "reports", "--summary-md", str(tmp_path)])
    assert done.exit_code == 2 and done.stderr == f"cifcheck: --summary-md: {tmp_path} is a folder, not a file\n"
    assert not (tmp_path / "reports").exists()


def test_cifcheck_report_appends_its_summary_to_the_file_given(tmp_path):
    evidence = tmp_path / "contoso.json"
    evidence.write_text(healthy_evidence().model_dump_json(), encoding="utf-8")
    summary = tmp_path / "step" / "summary.md"
    summary.parent.mkdir()
    summary.write_text("## An earlier step\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        done = CliRunner().invoke(cli, ["report", str(evidence), "--output", "reports", "--summary-md", str(summary)])
    assert done.exit_code == 0, done.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## An earlier step\n\n## cifcheck: PASS\n") and "Report: reports/" in text
