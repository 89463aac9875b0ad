"""Terminal output: a line per target while the run goes, then a compact verdict table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from cifcheck.results import RunResult, TargetResult

STYLES = {"pass": "green", "fail": "red", "warn": "yellow", "skip": "dim", "error": "magenta"}


class Terminal:
    def __init__(self, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet = quiet or as_json
        self.as_json = as_json
        # With --json, stdout carries only the JSON document; everything for people goes to stderr.
        self.console = Console(stderr=as_json, highlight=False)

    def progress(self, target: str, result: TargetResult | None) -> None:
        if self.quiet:
            return
        if result is None:
            self.console.print(f"[dim]checking {target} ...[/]")
        else:
            self.console.print(f"[{STYLES[result.status]}]{result.status.upper():5}[/] {target}")

    def summary(self, run: RunResult, run_dir: Path) -> None:
        if not self.quiet:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            table.add_column("target")
            table.add_column("check")
            table.add_column("verdict")
            table.add_column("reason", overflow="fold")
            for target in run.targets:
                for check in target.checks:
                    style = STYLES[check.status]
                    table.add_row(target.target, check.id, f"[{style}]{check.status}[/]", check.reason)
            self.console.print(table)
        counts = ", ".join(f"{n} {s}" for s, n in run.counts.items() if n)
        self.console.print(
            f"[{STYLES[run.status]}]{run.status.upper()}[/] ({counts}) — report: {run_dir / 'index.html'}",
            soft_wrap=True,
        )
        if self.as_json:
            print(run.model_dump_json(indent=2))
