"""Terminal output: a line per target while the run goes, then a compact verdict table.

Only cifcheck's own words are styled. Everything else (reasons quoting page text, target and file names) goes
in as `rich.text.Text`, which rich never parses as markup, after `safe_text` has escaped what a terminal would
obey: a label such as `Phone [/]` or `[link=file:///etc/passwd]` is shown as written, never run.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cifcheck.results import RunResult, TargetResult
from cifcheck.text import safe_text

STYLES = {"pass": "green", "fail": "red", "warn": "yellow", "skip": "dim", "error": "magenta"}
# A reason quoting a 10 MB page value would flood the terminal; the report has the value in full.
CELL_LIMIT = 300


def shown(text: str) -> Text:
    """Page-derived text as one plain, inert line for the terminal."""
    return Text(safe_text(text, limit=CELL_LIMIT))


class Terminal:
    def __init__(self, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet = quiet or as_json
        self.as_json = as_json
        # With --json, stdout carries only the JSON document; everything for people goes to stderr.
        self.console = Console(stderr=as_json, highlight=False, emoji=False)

    def progress(self, target: str, result: TargetResult | None) -> None:
        if self.quiet:
            return
        if result is None:
            self.console.print(Text.assemble(("checking ", "dim"), shown(target), (" ...", "dim")))
        else:
            status = Text(f"{result.status.upper():5}", style=STYLES[result.status])
            self.console.print(Text.assemble(status, " ", shown(target)))

    def summary(self, run: RunResult, run_dir: Path) -> None:
        if not self.quiet:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            table.add_column("target")
            table.add_column("check")
            table.add_column("verdict")
            table.add_column("reason", overflow="fold")
            for target in run.targets:
                for check in target.checks:
                    verdict = Text(check.status, style=STYLES[check.status])
                    table.add_row(shown(target.target), shown(check.id), verdict, shown(check.reason))
            self.console.print(table)
        counts = ", ".join(f"{n} {s}" for s, n in run.counts.items() if n)
        verdict = Text(run.status.upper(), style=STYLES[run.status])
        report = shown(str(run_dir / "index.html"))  # a folder may be named `reports[1]`
        self.console.print(Text.assemble(verdict, f" ({counts}) — report: ", report), soft_wrap=True)
        if self.as_json:
            # ensure_ascii writes every non-ASCII character, bidi and C1 controls included, as a \\u escape: the
            # same JSON value as result.json, with no byte a terminal would act on.
            print(json.dumps(run.model_dump(mode="json"), indent=2, ensure_ascii=True))
