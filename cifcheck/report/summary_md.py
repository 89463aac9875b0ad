"""A run as Markdown for a CI step summary (GitHub Actions' `$GITHUB_STEP_SUMMARY`, Azure Pipelines'
`##vso[task.uploadsummary]`): the verdict line and counts, then new failures (regressions), the other failures,
errors, warnings and fixed checks, each a table of target, check, reason and fix, then one row per target.

GitHub takes at most 1 MiB per step, so the summary keeps under `SUMMARY_MAX_BYTES` for any fleet: each table shows
at most its cap of rows, and the sections fill the budget in the order above (the most important first); a table
that had to leave rows out says how many. The report has everything.

Reasons, names and ids are data. Each passes `safe_text` (controls and line breaks shown as `\\u000a`, so no text
can start a line of its own: a heading, a list, a table row), then every character Markdown gives a meaning to
inline is backslash-escaped (`|` cannot end a cell; `[` and `]` cannot start a link or an image, so `(`, `)` and
`!` need not be; `<` and `>` cannot make HTML or an autolink, `&` an entity; backticks, `*`, `_`, `~` and `$` cannot
style or typeset; `\\` cannot undo an escape), and a word joiner (U+2060) goes inside `://`, `www.` and before `@`,
so that GitHub does not turn a URL or an e-mail address in page text into a link. Known secrets are checked for, as
in the other writers (`cifcheck.report.verified`), in each text shown and in the whole summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cifcheck.config import not_a_file
from cifcheck.report import _verified_text
from cifcheck.report.baseline import NO_BASELINE_YET
from cifcheck.results import CheckResult, RunResult, TargetResult
from cifcheck.terminal import counts_text, first_sentence, verdict_word
from cifcheck.text import safe_text

SUMMARY_MAX_BYTES = 512 * 1024  # half of GitHub's 1 MiB per step: the same step may append other summaries
# Rows per table: past a few hundred a table is read by nobody; the report lists everything.
ROW_CAPS = {"new failures": 200, "failures": 200, "errors": 100, "warnings": 50, "fixed": 100, "targets": 500}
SECTION_RESERVE = 2_000  # bytes kept, per section still to come, for its heading and its "more" line
REASON_LIMIT = 300  # characters of a reason (the terminal shows as many)
FIX_LIMIT = 200  # characters of a fix's first sentence
NAME_LIMIT = 100  # characters of a target name or check id

_INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>&|~$]")
_WORD_JOINER = "\u2060"
_AUTOLINKED = re.compile(r"://|(?i:www)\.|@")
_CODE_SAFE = re.compile(r"[A-Za-z0-9._-]{1,100}")
_LINKABLE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")


def md_text(text: str, limit: int) -> str:
    """Data as inert inline Markdown text: one line, at most `limit` characters of it, nothing it holds obeyed, no
    known secret (verified before escaping, which could split one)."""
    verified_text = _verified_text(text, "the step summary")
    shown = _INLINE_MARKUP.sub(lambda match: "\\" + match.group(), safe_text(verified_text, limit=limit))
    return _AUTOLINKED.sub(_broken_autolink, shown)


def _broken_autolink(match: re.Match[str]) -> str:
    """`://` as `:` + word joiner + `//`, `www.` as `www` + word joiner + `.`, `@` as word joiner + `@`: the same
    text to a reader, no longer what GitHub's autolinks look for."""
    found = match.group()
    if found == "@":
        return _WORD_JOINER + found
    return f"{found[0]}{_WORD_JOINER}{found[1:]}" if found == "://" else f"{found[:3]}{_WORD_JOINER}{found[3:]}"


def md_code(text: str) -> str:
    """A check id as code when it is one (letters, digits, `.`, `_`, `-`); anything else as inert text."""
    return f"`{text}`" if _CODE_SAFE.fullmatch(text) else md_text(text, NAME_LIMIT)


class _Budget:
    """The summary's lines, and the bytes left for them."""

    def __init__(self, max_bytes: int) -> None:
        self.lines: list[str] = []
        self.left = max_bytes

    def fits(self, line: str, keep: int = 0) -> bool:
        return len(line.encode("utf-8")) + 1 + keep <= self.left

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.append(line)
            self.left -= len(line.encode("utf-8")) + 1


Item = TypeVar("Item")
Pair = tuple[TargetResult, CheckResult]


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(
    out: _Budget,
    title: str,
    headings: list[str],
    items: list[Item],
    cells: Callable[[Item], list[str]],
    cap: int,
    sections_after: int,
) -> None:
    """One section: its heading with the number of items, then as many rows as its cap and the budget allow (keeping
    room for the sections after it), then how many were left out."""
    if not items:
        return
    keep = SECTION_RESERVE * (sections_after + 1)
    heading = [f"### {title}: {len(items):,}", "", _row(*headings), _row(*["---"] * len(headings))]
    if not out.fits("\n".join(heading), keep):
        return
    out.add("", *heading)
    shown = 0
    for item in items[:cap]:
        line = _row(*cells(item))
        if not out.fits(line, keep):
            break
        out.add(line)
        shown += 1
    if shown < len(items):
        out.add("", f"*…and {len(items) - shown:,} more, not shown here: see the report.*")


FINDING_HEADINGS = ["Target", "Check", "Reason", "Fix"]


def _finding(pair: Pair) -> list[str]:
    target, check = pair
    fix = first_sentence(check.remediation)
    return [
        md_text(target.target, NAME_LIMIT),
        md_code(check.id),
        md_text(check.reason, REASON_LIMIT),
        md_text(fix, FIX_LIMIT) if fix else "",
    ]


def _failure_with_change(pair: Pair) -> list[str]:
    """A failure that is no regression, saying why: still failing, or new (a target or check the baseline lacks)."""
    change = pair[1].change
    cells = _finding(pair)
    return [*cells[:2], "new (not in the baseline)" if change == "new" else change or "", *cells[2:]]


def _fixed(pair: Pair) -> list[str]:
    target, check = pair
    return [md_text(target.target, NAME_LIMIT), md_code(check.id), check.status, md_text(check.reason, REASON_LIMIT)]


NEW_FAILURES_SHOWN = 5  # per target, in the targets table


def _target_cells(compared: bool) -> Callable[[TargetResult], list[str]]:
    def cells(target: TargetResult) -> list[str]:
        counts = target.counts
        row = [md_text(target.target, NAME_LIMIT), "not run" if target.not_run else target.status.upper()]
        row += [f"{counts[status]:,}" for status in ("fail", "error", "warn", "pass", "skip")]
        if compared:
            new = [md_code(check.id) for check in target.checks if check.change == "new failure"]
            more = f" and {len(new) - NEW_FAILURES_SHOWN} more" if len(new) > NEW_FAILURES_SHOWN else ""
            row.append(", ".join(new[:NEW_FAILURES_SHOWN]) + more)
        return row

    return cells


_TARGET_ORDER = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4}


def _target_order(target: TargetResult) -> tuple[bool, int]:
    """Targets with a new failure first, then by verdict (failing first): those are kept when rows are capped."""
    return not any(check.change == "new failure" for check in target.checks), _TARGET_ORDER[target.status]


def _verdict_lines(run: RunResult, report: str | Path | None) -> list[str]:
    word = verdict_word(run)
    lines = [f"## cifcheck: {word}", "", f"**{word}** — {md_text(counts_text(run), 2_000)}"]
    if run.interrupted:
        lines[-1] += f"; {len(run.not_run):,} not run (interrupted)"
    if run.compared and not run.baseline_run_id:
        lines += ["", f"{NO_BASELINE_YET.capitalize()}: no failure is a new failure."]
    elif run.compared:
        number = {change: len(run.with_change(change)) for change in ("new failure", "still failing", "fixed", "new")}
        parts = [f"**{number['new failure']:,} new failure{'' if number['new failure'] == 1 else 's'}**"]
        parts += [f"{number['still failing']:,} still failing", f"{number['fixed']:,} fixed"]
        if number["new"]:
            parts.append(f"{number['new']:,} check{'' if number['new'] == 1 else 's'} not in the baseline")
        lines += ["", f"Against run {md_code(run.baseline_run_id or '')}: {', '.join(parts)}."]
    fail_on = f" (`--fail-on {run.fail_on}`)" if run.fail_on != "fail" else ""
    lines += ["", f"Exit code {run.exit_code}{fail_on}."]
    if report:
        shown = str(report)
        # A URL the caller gives (where CI published the report) is a link; a path is text (nothing to click there).
        lines[-1] += (
            f" Report: [index.html]({shown})" if _LINKABLE.fullmatch(shown) else f" Report: {md_text(shown, 2_000)}"
        )
    return lines


def render_summary_md(run: RunResult, report: str | Path | None = None, max_bytes: int = SUMMARY_MAX_BYTES) -> str:
    """The step summary of `run`; `report` is the report's path or URL (a URL becomes a link). At most `max_bytes`
    bytes of UTF-8, whatever the fleet."""
    # Each text shown is verified (md_text), rather than the whole run: a 40,000-check run is 80 MB of JSON, and the
    # summary shows a few hundred rows of it.
    out = _Budget(max_bytes)
    out.add(*_verdict_lines(run, report))
    compared = run.compared
    pairs = [(target, check) for target in run.targets for check in target.checks]
    failing = [pair for pair in pairs if pair[1].status == "fail"]
    regressions = [pair for pair in failing if pair[1].change == "new failure"]
    others = [pair for pair in failing if pair[1].change != "new failure"]
    with_change = ["Target", "Check", "Change", "Reason", "Fix"]
    _table(out, "New failures (regressions)", FINDING_HEADINGS, regressions, _finding, ROW_CAPS["new failures"], 5)
    if compared:
        _table(out, "Other failures", with_change, others, _failure_with_change, ROW_CAPS["failures"], 4)
    else:
        _table(out, "Failures", FINDING_HEADINGS, others, _finding, ROW_CAPS["failures"], 4)
    errors = [pair for pair in pairs if pair[1].status == "error"]
    _table(out, "Errors (cifcheck could not decide)", FINDING_HEADINGS, errors, _finding, ROW_CAPS["errors"], 3)
    warnings = [pair for pair in pairs if pair[1].status == "warn"]
    _table(out, "Warnings", FINDING_HEADINGS, warnings, _finding, ROW_CAPS["warnings"], 2)
    fixed = run.with_change("fixed")
    _table(out, "Fixed", ["Target", "Check", "Now", "Reason"], fixed, _fixed, ROW_CAPS["fixed"], 1)
    headings = ["Target", "Verdict", "Fail", "Error", "Warn", "Pass", "Skip", *(["New failures"] if compared else [])]
    targets = sorted(run.targets, key=_target_order)
    _table(out, "Targets", headings, targets, _target_cells(compared), ROW_CAPS["targets"], 0)
    return _verified_text("\n".join(out.lines) + "\n", "the step summary")


def summary_path_problem(path: Path) -> str | None:
    """Why the summary cannot be written to `path`, found by trying (before a run starts, so bad input never costs
    one), or None. Its folders are created; a file this made is removed again, so a run that stops early leaves none."""
    try:
        kind = not_a_file(path.stat().st_mode)
        existed = True
    except FileNotFoundError:
        kind, existed = None, False
    except OSError as error:  # a symbolic link loop, a folder that may not be entered
        return f"cannot write {path}: {error.strerror or error}"
    if kind:  # a named pipe is never opened: that would wait for a reader
        return f"{path} is {kind}, not a file"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        return f"cannot write {path}: {error.strerror or error}"
    if not existed:
        path.unlink(missing_ok=True)
    return None


def append_summary(path: Path, text: str) -> None:
    """Adds `text` to the end of `path` (created, with its folders, when absent): GitHub's summary file is one per
    step, and what an earlier command of the step wrote to it stays. A blank line keeps the two apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        if file.tell():
            file.write("\n")
        file.write(text)
