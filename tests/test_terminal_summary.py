"""What the terminal says after a run: what needs doing first, with the fix, then one verdict line; plain lines for
logs and pipes; progress with n/N, the target, its phase and the time."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from cifcheck import terminal as terminal_module
from cifcheck.results import CheckResult, RunResult, Status, TargetResult, not_run_target
from cifcheck.terminal import Terminal, first_sentence, plain_wanted

LONG_ID = "profile.channel_providers"
FIX = "Remove the channel provider and add it again. Then sign out and in again."


def check(id_: str, status: Status, reason: str = "found so", remediation: str = FIX) -> CheckResult:
    return CheckResult(id=id_, title=id_, status=status, reason=reason, remediation=remediation)


def target(name: str, *checks: CheckResult) -> TargetResult:
    return TargetResult(target=name, url="https://contoso.crm.dynamics.com", app="a", checks=list(checks))


def a_run(*targets: TargetResult, interrupted: bool = False) -> RunResult:
    return RunResult(
        run_id="20261201-120000-000",
        cifcheck_version="0",
        started_at="now",
        duration_ms=9_200,
        targets=list(targets),
        interrupted=interrupted,
    )


PANEL_HIDDEN = a_run(
    target(
        "sandbox-csw",
        check("session.signed_in", "pass"),
        check(
            "panel.docked", "fail", "The panel is hidden.", "Call setMode(1) after CIFInitDone. If on purpose, say so."
        ),
        check("widget.loaded", "pass"),
    )
)


def on_a_terminal() -> Terminal:
    terminal = Terminal(plain=False)
    terminal.console = Console(force_terminal=True, highlight=False, emoji=False)  # what a terminal would get
    return terminal


def printed(capsys, run: RunResult, **options) -> list[str]:
    Terminal(**options).summary(run, Path("reports") / run.run_id)
    return capsys.readouterr().out.splitlines()


def test_a_failure_is_one_line_with_target_full_id_reason_and_the_first_sentence_of_its_fix(capsys):
    lines = printed(capsys, PANEL_HIDDEN, plain=True)
    assert lines[0] == "FAIL  sandbox-csw panel.docked: The panel is hidden. Fix: Call setMode(1) after CIFInitDone."


def test_passing_checks_are_not_listed_one_by_one(capsys):
    lines = printed(capsys, PANEL_HIDDEN, plain=True)
    assert len(lines) == 2 and "session.signed_in" not in "\n".join(lines)


def test_the_verdict_line_counts_and_names_the_report(capsys):
    lines = printed(capsys, PANEL_HIDDEN, plain=True)
    assert lines[-1] == "FAIL 1 fail, 2 pass; 1 target, 9.2 s — report: reports/20261201-120000-000/index.html"


def test_failures_come_first_then_errors_then_warnings_each_marked(capsys):
    run = a_run(
        target("a", check("cif.v1_absent", "warn"), check("app.loaded", "error")),
        target("b", check("panel.docked", "fail")),
    )
    lines = printed(capsys, run, plain=True)
    assert [line.split(":")[0] for line in lines[:3]] == [
        "FAIL  b panel.docked",
        "ERROR a app.loaded",
        "WARN  a cif.v1_absent",
    ]


def test_plain_lines_are_whole_at_any_width(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    reason = "a reason that is much longer than thirty columns, " * 3
    lines = printed(capsys, a_run(target("a-long-target-name", check(LONG_ID, "fail", reason))), plain=True)
    assert lines[0].startswith(f"FAIL  a-long-target-name {LONG_ID}: {reason.strip()}")
    assert len(lines) == 2


def test_on_a_terminal_the_full_id_and_the_fix_show_at_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    run = a_run(target("sandbox-csw-with-a-long-name", check(LONG_ID, "fail", "x " * 60)))
    text = "\n".join(printed(capsys, run, plain=False))
    assert f"sandbox-csw-with-a-long-name {LONG_ID}" in text and "…" not in text
    assert "Fix: Remove the channel provider and add it again." in text
    assert "Then sign out" not in text  # the first sentence only: the report has the rest
    assert not any(c in text for c in "─│┃━")  # no table, no box drawing


def test_quiet_prints_only_the_verdict_line_naming_the_failed_checks(capsys):
    assert printed(capsys, PANEL_HIDDEN, quiet=True, plain=True) == [
        "FAIL sandbox-csw: panel.docked — report: reports/20261201-120000-000/index.html"
    ]


def test_quiet_names_an_error_beside_a_failure_with_its_status(capsys):
    run = a_run(target("t1", check("panel.docked", "fail")), target("t2", check("cif.library_loaded", "error")))
    assert printed(capsys, run, quiet=True, plain=True)[0].startswith(
        "FAIL t1: panel.docked; t2: cif.library_loaded (error) — report:"
    )


def test_an_interrupted_run_says_so_and_counts_only_the_finished_targets(capsys):
    finished = target("t1", check("panel.docked", "pass"))
    others = [not_run_target(f"t{n}", "sandbox://healthy-csw", "a", [("panel.docked", "Panel")]) for n in (2, 3)]
    lines = printed(capsys, a_run(finished, *others, interrupted=True), plain=True)
    assert lines == [
        "INTERRUPTED 1 pass; 1 of 3 targets, 9.2 s; 2 not run — report: reports/20261201-120000-000/index.html"
    ]


def test_the_report_path_is_a_link_on_a_terminal_and_plain_text_in_a_pipe(capsys, tmp_path):
    run_dir = tmp_path / "reports" / "run"
    terminal = on_a_terminal()
    terminal.summary(PANEL_HIDDEN, run_dir)
    out = capsys.readouterr().out
    assert "\x1b]8;id=" in out and f";{(run_dir / 'index.html').as_uri()}\x1b\\" in out
    Terminal(plain=True).summary(PANEL_HIDDEN, run_dir)
    assert "\x1b" not in capsys.readouterr().out


def test_a_report_path_with_an_escape_cannot_end_the_link_early(capsys, tmp_path):
    run_dir = tmp_path / "x\x1b]8;;\x1b\\[/link]\x07"
    terminal = on_a_terminal()
    terminal.summary(PANEL_HIDDEN, run_dir)
    out = capsys.readouterr().out
    assert len(re.findall("\x1b]8;", out)) == 2  # the link's own opening and closing, nothing from the path
    assert "x\\u001b]8;;\\u001b\\[/link]\\u0007" in out


@pytest.mark.parametrize(
    ("environment", "plain"),
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"CI": "false"}, False),
        ({"CI": "0"}, False),
        ({"NO_COLOR": "1"}, True),
        ({"TERM": "dumb"}, True),
    ],
)
def test_plain_lines_in_ci_with_no_color_or_a_dumb_terminal(monkeypatch, environment: dict, plain: bool):
    for name in ("CI", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert plain_wanted(Tty()) is plain


def test_a_pipe_gets_plain_lines(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert plain_wanted(io.StringIO()) is True


@pytest.mark.parametrize(
    ("fix", "first"),
    [
        (
            "Call Microsoft.CIFramework.setMode(1) after init. Then more.",
            "Call Microsoft.CIFramework.setMode(1) after init.",
        ),
        ("Sign in (see the guide. It helps) and re-run. More.", "Sign in (see the guide. It helps) and re-run."),
        ("Run `cifcheck login. --x` now. More.", "Run `cifcheck login. --x` now."),
        ("Use a profile, e.g. the default one. More.", "Use a profile, e.g. the default one."),
        ("One sentence without an end", "One sentence without an end"),
        ("Nothing to fix (it shows an expiry.) This is how.", "Nothing to fix (it shows an expiry.)"),
    ],
)
def test_the_first_sentence_of_a_fix_keeps_dotted_names_parentheses_and_code_whole(fix: str, first: str):
    assert first_sentence(fix) == first


def test_progress_in_a_log_is_a_line_when_a_target_starts_and_one_when_it_ends_with_its_time(capsys):
    terminal = Terminal(plain=True)
    terminal.target_started(2, 5, "contoso-prod")
    terminal.phase("waiting for the app")
    terminal.target_finished(2, 5, target("contoso-prod", check("panel.docked", "fail"), check("app.loaded", "pass")))
    terminal.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[2/5] contoso-prod: started"
    assert re.fullmatch(r"\[2/5\] contoso-prod: FAIL in \d+\.\d s \(1 fail, 1 pass\)", lines[1]), lines[1]


def test_a_long_wait_in_a_log_says_it_is_still_waiting_once_per_interval(capsys, monkeypatch):
    monkeypatch.setattr(terminal_module, "STILL_EVERY_S", 0.4)
    monkeypatch.setattr(terminal_module, "TICK_S", 0.05)
    terminal = Terminal(plain=True)
    terminal.target_started(1, 1, "not-an-org")
    terminal.phase("waiting for the app")
    time.sleep(1.0)
    terminal.close()
    still = [line for line in capsys.readouterr().out.splitlines() if "still" in line]
    assert 1 <= len(still) <= 3, still  # about one per 0.4 s, not one per tick
    assert re.fullmatch(r"\[1/1 not-an-org\] still waiting for the app \(0\.\d s\)", still[0]), still[0]


def test_a_finished_target_is_not_still_waiting(capsys, monkeypatch):
    monkeypatch.setattr(terminal_module, "STILL_EVERY_S", 0.1)
    monkeypatch.setattr(terminal_module, "TICK_S", 0.02)
    terminal = Terminal(plain=True)
    terminal.target_started(1, 1, "t")
    terminal.target_finished(1, 1, target("t", check("app.loaded", "pass")))
    time.sleep(0.4)
    terminal.close()
    assert "still" not in capsys.readouterr().out


def test_quiet_shows_no_progress(capsys):
    terminal = Terminal(quiet=True, plain=True)
    terminal.target_started(1, 1, "t")
    terminal.target_finished(1, 1, target("t", check("app.loaded", "pass")))
    assert capsys.readouterr().out == ""


def test_with_json_the_progress_and_the_findings_go_to_stderr_and_stdout_is_the_json(capsys):
    terminal = Terminal(as_json=True, plain=True)
    terminal.target_started(1, 1, "sandbox-csw")
    terminal.target_finished(1, 1, PANEL_HIDDEN.targets[0])
    terminal.summary(PANEL_HIDDEN, Path("reports"))
    out, err = capsys.readouterr()
    assert out.startswith("{") and out.rstrip().endswith("}")
    assert "[1/1] sandbox-csw: started" in err and "panel.docked" in err and "report:" in err
