"""Terminal output: progress while the run goes, then what needs doing, then one verdict line.

Two layouts. On a terminal: a live progress line (n/N, the target, its phase, the time), each finding in a short
block (status, target, the full check id; the reason; the fix's first sentence), and the report path as a link.
In a pipe, in CI (`CI` set to anything but "false" or "0"), with `NO_COLOR` or with `TERM=dumb`: plain lines, one
per finding, written as they are (never wrapped or cut to a width), no colour, no box drawing; progress is a line
when a target starts and one when it ends, and during a long wait one "still ..." line every `STILL_EVERY_S`.

Only cifcheck's own words are styled. Everything else (reasons quoting page text, target and file names) passes
`safe_text`, which escapes what a terminal would obey, and goes to rich as `rich.text.Text`, which rich never
parses as markup: a label such as `Phone [/]` or `[link=file:///etc/passwd]` is shown as written, never run.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.padding import Padding
from rich.spinner import Spinner
from rich.style import Style
from rich.text import Text

from cifcheck.results import CheckResult, RunResult, TargetResult
from cifcheck.text import safe_text

STYLES = {"pass": "green", "fail": "red", "warn": "yellow", "skip": "dim", "error": "magenta"}
# A reason quoting a 10 MB page value would flood the terminal; the report has the value in full.
CELL_LIMIT = 300
# What needs doing first: failures, then errors (cifcheck could not decide), then warnings.
FINDINGS = ("fail", "error", "warn")
STILL_EVERY_S = 15  # in a log, a long wait says it is still going at most this often
TICK_S = 1.0  # how often the log's "still ..." line is considered


def shown(text: str) -> Text:
    """Page-derived text as one plain, inert line for the terminal."""
    return Text(safe_text(text, limit=CELL_LIMIT))


def in_ci() -> bool:
    """Whether a CI system runs cifcheck: `CI` set to anything but "false" or "0" (GitHub, Azure and GitLab set it)."""
    ci = os.environ.get("CI", "")
    return bool(ci) and ci.lower() not in ("false", "0")


def plain_wanted(stream: TextIO) -> bool:
    """Whether output to `stream` is for a log or a program rather than a person at a terminal."""
    if in_ci():
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return True
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return True


def first_sentence(text: str) -> str:
    """The first sentence of a fix: up to the first full stop that ends a sentence (followed by a space or the
    end, outside parentheses and code), so `Microsoft.CIFramework.setMode(1)` and `(e.g. x)` stay whole."""
    for match in re.finditer(r"[.!?]\)?(?=\s|$)", text):  # a sentence may end inside a closing parenthesis
        before, upto = text[: match.start()], text[: match.end()]
        if upto.count("(") > upto.count(")") or upto.count("`") % 2:
            continue
        if re.search(r"\b(e\.g|i\.e|etc|vs)$", before):
            continue
        return text[: match.end()]
    return text


def seconds(duration_s: float) -> str:
    return f"{duration_s:.1f} s" if duration_s < 60 else f"{int(duration_s // 60)} min {int(duration_s % 60)} s"


def findings(run: RunResult) -> list[tuple[TargetResult, CheckResult]]:
    """Every failing, erroring and warning check, failures first (new failures against a baseline before the others),
    each group in target and migration order."""
    found = [(target, check) for target in run.targets for check in target.checks if check.status in FINDINGS]
    return sorted(found, key=lambda pair: (FINDINGS.index(pair[1].status), pair[1].change != "new failure"))


# What a failure's mark against the baseline says beside its id.
CHANGE_TAGS = {"new failure": "new failure", "still failing": "still failing", "new": "not in the baseline"}


def change_tag(check: CheckResult) -> str:
    """` (new failure)` for a failure marked against a baseline; "" otherwise (errors and warnings say enough)."""
    tag = CHANGE_TAGS.get(check.change or "") if check.status == "fail" else None
    return f" ({tag})" if tag else ""


def changes_text(run: RunResult) -> str:
    """`1 new failure, 2 still failing, 1 fixed since run 20261201-110000-000` (the new failures always counted:
    they are what `--fail-on regression` exits 1 on)."""
    if not run.baseline_run_id:
        return "no baseline run yet"
    new, still, fixed = (len(run.with_change(c)) for c in ("new failure", "still failing", "fixed"))
    parts = [f"{new} new failure{'' if new == 1 else 's'}"]
    parts += [f"{still} still failing"] if still else []
    parts += [f"{fixed} fixed"] if fixed else []
    return f"{', '.join(parts)} since run {run.baseline_run_id}"


COUNT_ORDER = ("fail", "error", "warn", "pass", "skip")


def counted(counts: dict[str, int]) -> str:
    """`1 fail, 8 pass`: what needs doing first."""
    return ", ".join(f"{counts[s]} {s}" for s in COUNT_ORDER if counts.get(s)) or "no checks"


def counts_text(run: RunResult) -> str:
    """`1 fail, 8 pass; 1 target, 9.2 s`; an interrupted run counts the checks of its finished targets only."""
    finished = [target for target in run.targets if not target.not_run]
    shown_counts = counted({s: sum(t.counts[s] for t in finished) for s in COUNT_ORDER})
    total = len(run.targets)
    targets = f"{len(finished)} of {total} targets" if run.interrupted else f"{total} target{'s' if total != 1 else ''}"
    return f"{shown_counts}; {targets}, {seconds(run.duration_ms / 1000)}"


def verdict_word(run: RunResult) -> str:
    return "INTERRUPTED" if run.interrupted else run.status.upper()


def named_checks(run: RunResult) -> str:
    """`t1: panel.docked; t2: cif.library_loaded (error)`: the checks that need doing, by target; a check whose
    status differs from the run's verdict says its own."""
    parts = []
    for target in run.targets:
        names = [
            (check.id if check.status == run.status else f"{check.id} ({check.status})") + change_tag(check)
            for check in target.checks
            if check.status in FINDINGS
        ]
        if names:
            parts.append(f"{target.target}: {', '.join(names)}")
    return "; ".join(parts)


class _Current:
    """The target being checked, for the live line: read at every refresh, so the time shown keeps going."""

    def __init__(self) -> None:
        self.label = ""
        self.phase = ""
        self.started = self.phase_since = time.monotonic()

    def __rich__(self) -> Text:
        if not self.phase:
            return shown(self.label)
        elapsed = seconds(time.monotonic() - self.started)
        return Text.assemble(shown(self.label), (f" · {self.phase} · {elapsed}", "dim"))


class Terminal:
    """The run's voice. `quiet`: only the verdict line. `as_json`: result.json on stdout, everything for people
    (progress, findings, the verdict line) on stderr. `plain` forces a layout (default: `plain_wanted`)."""

    def __init__(self, quiet: bool = False, as_json: bool = False, plain: bool | None = None) -> None:
        self.quiet = quiet
        self.as_json = as_json
        self.plain = plain_wanted(self._stream()) if plain is None else plain
        self.console = Console(stderr=as_json, highlight=False, emoji=False)
        self._current = _Current()
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._active = False
        self._last_line = 0.0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _stream(self) -> TextIO:
        # Looked up at each write: a test's captured stdout, and the stream rich writes to, are the same one.
        return sys.stderr if self.as_json else sys.stdout

    def _line(self, text: str) -> None:
        """One plain line, whole: never wrapped, cut or coloured; flushed, so a log shows it as it happens."""
        with self._lock:
            self._write_line(text)

    def _write_line(self, text: str) -> None:
        stream = self._stream()
        stream.write(text + "\n")
        stream.flush()
        self._last_line = time.monotonic()

    # Progress (runner.Progress)

    def target_started(self, number: int, total: int, name: str) -> None:
        if self.quiet:
            return
        current = self._current
        current.label, current.phase = f"{number}/{total} {name}", "preparing the browser"
        current.started = current.phase_since = time.monotonic()
        self._active = True
        if self.plain:
            self._line(f"[{number}/{total}] {safe_text(name, limit=CELL_LIMIT)}: started")
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="cifcheck-still", daemon=True)
                self._ticker.start()
        elif self._live is None:
            spinner = Spinner("dots", text=current, style="cyan")
            self._live = Live(spinner, console=self.console, transient=True, refresh_per_second=4)
            self._live.start()

    def phase(self, name: str) -> None:
        self._current.phase, self._current.phase_since = name, time.monotonic()

    def target_finished(self, number: int, total: int, result: TargetResult) -> None:
        if self.quiet:
            return
        self._active = False
        # A target's own time: with workers, it was shown as started only when the targets before it had finished.
        elapsed = seconds(result.duration_ms / 1000 if result.duration_ms else time.monotonic() - self._current.started)
        if number == total:  # the live line's last words, while the browser closes
            self._current.label, self._current.phase = "closing the browser", ""
        counts = counted(result.counts)
        name = safe_text(result.target, limit=CELL_LIMIT)
        if self.plain:
            self._line(f"[{number}/{total}] {name}: {result.status.upper()} in {elapsed} ({counts})")
            return
        status = Text(f"{result.status.upper():5}", style=STYLES[result.status])
        self.console.print(Text.assemble(status, f" {number}/{total} ", shown(result.target), (f"  {elapsed}", "dim")))

    def _tick(self) -> None:
        """In a log: one 'still ...' line when a target has printed nothing for `STILL_EVERY_S`."""
        while not self._stop.wait(TICK_S):
            current = self._current
            with self._lock:  # decided and written under the lock `close` takes: never a line after the run ended
                if not self._active or time.monotonic() - self._last_line < STILL_EVERY_S:
                    continue
                waited = seconds(time.monotonic() - current.phase_since)
                self._write_line(f"[{safe_text(current.label, limit=CELL_LIMIT)}] still {current.phase} ({waited})")

    def close(self) -> None:
        """Ends the progress display, so that nothing is drawn over what comes next."""
        with self._lock:
            self._active = False
        self._stop.set()
        if self._live is not None:
            self._live.stop()
            self._live = None

    def interrupted(self, finished: int, total: int) -> None:
        self.close()
        self._say(f"Interrupted: writing the report ({finished} of {total} targets finished; the others are not run).")

    def note(self, text: str) -> None:
        """A sentence about the run as a whole (a shard with no targets); `--quiet` leaves it to the verdict line."""
        if not self.quiet:
            self._say(text)

    def _say(self, text: str) -> None:
        if self.plain:
            self._line(text)
        else:
            self.console.print(Text(text, style="yellow"), soft_wrap=True)

    # The summary

    def summary(self, run: RunResult, run_dir: Path) -> None:
        self.close()
        if not self.quiet:
            for target, check in findings(run):
                self._finding(target, check)
            for target, check in run.with_change("fixed"):
                self._fixed(target, check)
        self._verdict(run, run_dir / "index.html")
        if self.as_json:
            # ensure_ascii writes every non-ASCII character, bidi and C1 controls included, as a \\u escape: the
            # same JSON value as result.json, with no byte a terminal would act on.
            print(json.dumps(run.model_dump(mode="json"), indent=2, ensure_ascii=True))

    def _finding(self, target: TargetResult, check: CheckResult) -> None:
        fix = first_sentence(check.remediation)
        tag = change_tag(check)
        if self.plain:
            name, id_ = safe_text(target.target, limit=CELL_LIMIT), safe_text(check.id, limit=CELL_LIMIT)
            line = f"{check.status.upper():5} {name} {id_}{tag}: {safe_text(check.reason, limit=CELL_LIMIT)}"
            self._line(line + (f" Fix: {safe_text(fix, limit=CELL_LIMIT)}" if fix else ""))
            return
        heading = Text.assemble(
            (f"{check.status.upper():5} ", STYLES[check.status] + " bold"),
            shown(target.target),
            " ",
            (check.id, "bold"),
            (tag, "red bold" if check.change == "new failure" else "dim"),
        )
        lines = [shown(check.reason)]
        if fix:
            lines.append(Text.assemble(("Fix: ", "bold"), shown(fix)))
        self.console.print(heading, Padding(Group(*lines), (0, 0, 0, 6)))

    def _fixed(self, target: TargetResult, check: CheckResult) -> None:
        """A check that failed in the baseline run and no longer does: one line, after what needs doing."""
        said = f"now {check.status}, failed in the baseline run"
        if self.plain:
            name, id_ = safe_text(target.target, limit=CELL_LIMIT), safe_text(check.id, limit=CELL_LIMIT)
            self._line(f"FIXED {name} {id_}: {said}")
            return
        line = Text.assemble(
            ("FIXED ", "green bold"), shown(target.target), " ", (check.id, "bold"), (f"  {said}", "dim")
        )
        self.console.print(line)

    def _verdict(self, run: RunResult, report: Path) -> None:
        word = verdict_word(run)
        # Quiet: the one line names what needs doing; otherwise the findings above did, and this line counts.
        detail = (named_checks(run) if self.quiet else "") or counts_text(run)
        if run.interrupted:
            detail += f"; {len(run.not_run)} not run"  # the counts name only the finished targets' checks
        if run.compared:
            detail += f"; {changes_text(run)}"
        if self.plain:
            self._line(f"{word} {safe_text(detail)} — report: {safe_text(str(report))}")
            return
        style = "yellow" if run.interrupted else STYLES[run.status]
        # The link is cifcheck's own path, percent-encoded by as_uri(): nothing in it can end the escape sequence.
        link = Text(safe_text(str(report)), style=Style(link=report.resolve().as_uri()))
        line = Text.assemble((word, f"{style} bold"), " ", Text(safe_text(detail)), " — report: ", link)
        self.console.print(line, soft_wrap=True)
