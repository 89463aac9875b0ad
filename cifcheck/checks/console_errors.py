"""console.cif_errors: warn on CIF-related console errors and uncaught page errors, quoted."""

from __future__ import annotations

import re

from cifcheck.checks.profile import channel_providers
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import host
from cifcheck.evidence import ConsoleEntry, Evidence
from cifcheck.results import Detail

CIF_WORDS = re.compile(
    r"(?i)\bcif|channel.?integration|msdyn_ci|cilibrary|sender domain|setmode|getmode|x-frame-options|"
    r"frame-ancestors|channelprovider|unknown event source|listener window"
)
SHOWN = 20


def _related(entry: ConsoleEntry, hosts: set[str], library: str) -> bool:
    if entry.level not in ("error", "pageerror", "trace", "assert"):
        return False
    where = f"{entry.text} {entry.source_url}"
    return bool(CIF_WORDS.search(where)) or library.lower() in where.lower() or host(entry.source_url) in hosts


@check(
    id="console.cif_errors",
    title="No CIF errors on the console",
    failure_title="CIF errors on the console",
    remediation="Read the quoted messages: they usually name the failing file, frame or domain. Errors from the "
    "provider's own page are the provider's to fix; share them with the provider.",
    checked="Collects console errors and uncaught page errors from every frame that mention CIF, the library or "
    "a provider's host.",
    doc_step="Troubleshooting: check the browser console (F12) for errors",
    requires=("console",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    settings = evidence.settings
    hosts = {host(p.channel_url) for p in channel_providers(evidence) or [] if p.channel_url} - {""}
    entries = evidence.console or []
    related = [e for e in entries if _related(e, hosts, settings.library_file)]
    if not related:
        others = sum(e.level in ("error", "pageerror") for e in entries)
        return Verdict("pass", f"No CIF-related console errors or page errors ({others} other errors ignored).")
    first = related[0]
    where = f" ({first.source_url})" if first.source_url else ""
    table = Detail(
        kind="table",
        title=f"CIF-related console messages ({len(related)})",
        headings=[
            {"key": "level", "label": "Level", "type": "text"},
            {"key": "text", "label": "Message", "type": "code"},
            {"key": "source_url", "label": "Source", "type": "url"},
        ],
        rows=[{"level": e.level, "text": e.text, "source_url": e.source_url} for e in related[:SHOWN]],
    )
    count = f"{len(related)} CIF-related console error{'s' if len(related) != 1 else ''}"
    return Verdict("warn", f"{count}; first: “{first.text}”{where}.", [table])
