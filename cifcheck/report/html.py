"""The HTML report: one self-contained, autoescaped Jinja page per run (inline CSS, no scripts, no fonts)."""

from __future__ import annotations

import json
import re

import jinja2
from markupsafe import Markup

from cifcheck.evidence import Evidence
from cifcheck.results import CheckResult, RunResult, TargetResult
from cifcheck.text import safe_text

MAX_SHOWN = 4_000


def _neutralised(value: object) -> object:
    """Every `{{ ... }}` output, before autoescaping: controls and bidi controls escaped, so a template field can
    never be forgotten and a copy/paste of the report is not reversed either. Line feeds stay, for <pre>; in any
    other element HTML shows them as spaces, so they cannot forge a line. Markup (already escaped) is cleaned too."""
    if isinstance(value, Markup):
        return Markup(safe_text(str(value), multiline=True))
    return safe_text(value, multiline=True) if isinstance(value, str) else value


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("cifcheck.report", "templates"),
    autoescape=True,
    auto_reload=False,  # package files: no mtime check on every include (a card is one, 9 per target)
    finalize=_neutralised,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _truncated(text: str, limit: int) -> str:
    return f"{text[:limit]}… ({len(text):,} characters in all)" if len(text) > limit else text


def _shown(value: object) -> str:
    """A value as shown in the report (redacted already, in the evidence), truncated with its full length stated."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _truncated(str(value), MAX_SHOWN)


def _openable(value: object) -> str:
    """A link cifcheck built to open a record in the org, when it is one: an http(s) URL with nothing that could
    end the attribute or start another scheme; "" otherwise (an evidence file may hold anything)."""
    text = "" if value is None else str(value)
    if not re.fullmatch(
        r"https?://[A-Za-z0-9.\-:\[\]]+/main\.aspx\?pagetype=entityrecord&etn=[a-z_]+&id=[0-9a-fA-F-]{36}", text
    ):
        return ""
    return text


ENVIRONMENT.filters["shown"] = _shown
ENVIRONMENT.filters["openable"] = _openable
ENVIRONMENT.filters["truncated"] = _truncated


def _when(started_at: str) -> str:
    """An ISO time as people read it: `2026-12-01 13:58:37 UTC`."""
    return started_at.replace("T", " ").replace("+00:00", " UTC")


ENVIRONMENT.filters["when"] = _when

NEEDS_DOING: dict[str, int] = {"fail": 0, "error": 0, "warn": 1}  # failures and errors first, then warnings


def needs_doing(target: TargetResult) -> list[CheckResult]:
    """The checks that ask for something to be done, failures and errors first (new failures against a baseline
    before the others), then warnings, each group in migration order (sorting is stable)."""
    found = [check for check in target.checks if check.status in NEEDS_DOING]
    return sorted(found, key=lambda check: (NEEDS_DOING[check.status], check.change != "new failure"))


def first_error_id(target: TargetResult) -> str:
    """The check whose card carries the picture of what the browser showed: the target's first error."""
    return next((check.id for check in target.checks if check.status == "error"), "")


def with_status(target: TargetResult, status: str) -> list[CheckResult]:
    return [check for check in target.checks if check.status == status]


def _raw(item: Evidence) -> str:
    """The evidence (redacted where it was made) as indented JSON; the screenshots are shown as images already."""
    data = item.model_dump(mode="json")
    if item.panel and item.panel.screenshot_png_base64:
        data["panel"]["screenshot_png_base64"] = f"(PNG, {len(item.panel.screenshot_png_base64):,} base64 characters)"
    if item.screenshot_jpeg_base64:
        data["screenshot_jpeg_base64"] = f"(JPEG, {len(item.screenshot_jpeg_base64):,} base64 characters)"
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_html(result: RunResult, evidence: list[Evidence]) -> str:
    evidence_by_target = {item.target.name: _raw(item) for item in evidence}
    screenshots = {item.target.name: item.screenshot_jpeg_base64 for item in evidence if item.screenshot_jpeg_base64}
    return ENVIRONMENT.get_template("report.html.j2").render(
        run=result,
        evidence=evidence_by_target,
        screenshots=screenshots,
        traces={item.target.name: item.trace_file for item in evidence if item.trace_file},
        needs_doing=needs_doing,
        with_status=with_status,
        first_error_id=first_error_id,
    )
