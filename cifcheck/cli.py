"""The `cifcheck` command. Heavy modules (Playwright, pydantic, the sandbox) are imported inside commands
so that `cifcheck --help` answers at once."""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cifcheck import __version__
from cifcheck.text import safe_text

if TYPE_CHECKING:  # for annotations only: importing these at start-up would slow `cifcheck --help`
    from cifcheck.config import Config
    from cifcheck.evidence import Evidence
    from cifcheck.results import RunResult
    from cifcheck.runner import RunOutput
    from cifcheck.shard import Shard
    from cifcheck.terminal import Terminal

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # results.EXIT_INTERRUPTED, here without importing pydantic for `--help`

EXIT_CODES = """Exit codes:

\b
  0    every check passed, warned or was skipped
  1    a check failed (the org is wrong), even with errors beside it;
       or warned, with --fail-on warn; with --fail-on regression, only
       a check that failed and did not fail in the baseline run
  2    cifcheck could not decide (an error and no failure: unreachable
       org, expired session, timeout), or the input was bad
  130  interrupted (Ctrl-C or SIGTERM): the report holds the finished
       targets, the others marked not run"""


class BadInput(click.ClickException):
    """One line on stderr, exit code 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, *lines: str) -> None:
        # A config with several problems lists each on its own line; a line break inside one line (a file name
        # can hold one) is shown escaped, so a quoted name can never print a line of its own.
        self.lines = lines or ("",)
        super().__init__("\n".join(self.lines))

    def show(self, file=None) -> None:
        # Messages can quote a page (a sign-in error, a user name) or a file: inert lines, whatever they hold.
        for line in self.lines:
            click.echo(f"cifcheck: {safe_text(line)}", err=True)


def note(message: str) -> None:
    """Something cifcheck changed in what it was given (an address-bar URL trimmed), on stderr."""
    click.echo(f"cifcheck: note: {safe_text(message)}", err=True)


def _load(config_path: str | None, url: str | None = None, app: str | None = None) -> Config:
    """The config in use (`--config`, else ./playwright.config.json, else the bundled default), with `--url`'s
    target instead of its own when given; its notes told on stderr."""
    from cifcheck.config import ConfigError
    from cifcheck.config_sources import config_in_use, with_url_target

    if app and not url:
        raise BadInput("--app: goes with --url (a config file's targets name their own app)")
    try:
        config = config_in_use(config_path)
        if url:
            config = with_url_target(config, url, app)
    except ConfigError as error:
        raise BadInput(*error.lines) from None
    for message in config.notes:
        note(message)
    return config


def _in_config(config: Config, error: Exception) -> BadInput:
    """Bad input found in `config`: each problem's line names the config in use."""
    from cifcheck.config import ConfigError
    from cifcheck.config_sources import config_label

    lines = error.lines if isinstance(error, ConfigError) else (str(error),)
    return BadInput(*(f"{config_label(config)}: {line}" for line in lines))


# `run` and `report` judge, so both take these.
FAIL_ON = click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn", "regression"]),
    default="fail",
    show_default=True,
    help="What exits 1: any failure; `warn`: a warning too (CIF 1.0 leftovers break the build); `regression`: only a "
    "check that fails now and did not in the baseline run (--baseline, default latest).",
)
BASELINE = click.option(
    "--baseline",
    default=None,
    metavar="RUN|latest",
    help="Mark each check new failure, still failing, fixed or unchanged against an earlier run: `latest` (the "
    "reports folder's newest complete live run), a run id, a run folder or a result.json.",
)
SUMMARY_MD = click.option(
    "--summary-md",
    "summary_md",
    default=None,
    metavar="FILE",
    help="Also append a Markdown summary to FILE, for a CI step summary (e.g. $GITHUB_STEP_SUMMARY).",
)
CONFIG_HELP = "Config file (default: ./playwright.config.json, else the bundled sandbox config)."
URL_HELP = "Validate this one org instead of the config's targets, e.g. https://contoso.crm.dynamics.com."
APP_HELP = "With --url: the app's unique name or app id (default msdyn_CustomerServiceWorkspace)."


class _Commands(click.Group):
    """Ctrl-C (or SIGTERM in `run`) in any command: one line and exit 130, never click's 'Aborted!' and exit 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            # One line, as all bad input: click's own is the usage, a hint and the error, four lines.
            command = (
                f"cifcheck {error.ctx.command_path.split(' ', 1)[1]}"
                if error.ctx and " " in error.ctx.command_path
                else "cifcheck"
            )
            raise BadInput(f"{error.format_message()} (see `{command} --help`)") from None
        except KeyboardInterrupt:
            click.echo("cifcheck: interrupted", err=True)
            leave(EXIT_INTERRUPTED)


def leave(code: int) -> None:
    """Exit with `code`. After an interrupt of a run with workers, Python's shutdown can crash (SIGSEGV) on what a
    worker's Playwright left behind, the worker still in a page load or just out of one: the process then ends at
    once, its output flushed; the browser drivers exit when their pipes close."""
    runner = sys.modules.get("cifcheck.runner")  # not imported: no run, no worker (importing it costs 0.4 s)
    if runner is not None and runner.INTERRUPTED.is_set() and runner.WORKERS_STARTED.is_set():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cifcheck")
def cli() -> None:
    """Validate a Dynamics 365 Channel Integration Framework 2.0 migration in a real browser.

    cifcheck opens Customer Service workspace or Omnichannel for Customer Service in a signed-in browser and
    confirms what the migration document asks an admin to confirm by hand: the CIF 2.0 library is loaded, the
    session's profile lists the channel providers and the msdyn_CIFV2Loader extension, and the communication
    panel is docked. Every failure comes with its evidence and its fix, in the terminal and in an HTML report.

    With no configuration of your own, `cifcheck run` validates the bundled sandbox org.

    \b
    Examples:
      cifcheck run                                   the bundled sandbox org (or ./playwright.config.json)
      cifcheck run --scenario panel-hidden           one sandbox scenario (`cifcheck sandbox list`)
      cifcheck init --url https://contoso.crm.dynamics.com
      cifcheck login && cifcheck run                 sign in once, then validate headless
      cifcheck checks                                what each check verifies
    """


@cli.command(short_help="Validate the targets in a browser and write a report.")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
@click.option("--url", default=None, metavar="URL", help=URL_HELP)
@click.option("--app", default=None, metavar="NAME", help=APP_HELP)
@click.option("--target", "target_names", multiple=True, metavar="NAME", help="Only this target (repeatable).")
@click.option(
    "--output", "output_dir", default=None, metavar="DIR", help="Reports folder (default: the config's output_dir)."
)
@click.option(
    "--scenario", default=None, metavar="NAME", help="Validate this sandbox scenario instead of the configured targets."
)
@click.option(
    "--timing",
    default=None,
    metavar="NAME",
    help="Run sandbox targets under this timing profile (`cifcheck sandbox list`).",
)
@click.option(
    "--shard",
    "shard_text",
    default=None,
    metavar="I/N",
    help="Run only shard I of N of the selected targets (every N-th from the I-th, in config order), for a CI "
    "matrix; `cifcheck merge` puts the shards' runs together.",
)
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json on stdout (progress goes to stderr).")
@click.option(
    "--cdp",
    "cdp_endpoint",
    default=None,
    metavar="URL",
    help="Attach to a running browser, e.g. http://127.0.0.1:9222.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    metavar="N",
    help="Targets validated at once, each in its own browser (default: browser.workers, else two per CPU).",
)
@click.option(
    "--trace",
    "trace_mode",
    type=click.Choice(["on", "retain-on-failure", "off"]),
    default=None,
    help="Record a Playwright trace of each page load (default: trace.mode, off). Raw traces hold cookies: they go "
    "to trace.dir, never the reports folder.",
)
@FAIL_ON
@BASELINE
@SUMMARY_MD
def run(
    config_path: str | None,
    url: str | None,
    app: str | None,
    target_names: tuple[str, ...],
    output_dir: str | None,
    scenario: str | None,
    timing: str | None,
    shard_text: str | None,
    quiet: bool,
    as_json: bool,
    cdp_endpoint: str | None,
    workers: int | None,
    trace_mode: str | None,
    fail_on: str,
    baseline: str | None,
    summary_md: str | None,
) -> None:
    """Open each target in a browser, check the CIF 2.0 migration, and write a report.

    Each target is opened in a fresh page of a signed-in browser context (a saved session from `cifcheck login`,
    unattended sign-in, or your own browser over --cdp), watched until its CIF state settles, and judged by every
    check (`cifcheck checks`). The report goes to reports/<run id>/ (index.html, result.json, junit.xml, evidence),
    with reports/latest pointing at it.

    Prints what needs doing (each failing, erroring or warning check, its reason and fix), then one verdict line
    with the report path. In a pipe or CI, one plain line each.

    \b
    Examples:
      cifcheck run                                   ./playwright.config.json, else the bundled sandbox org
      cifcheck run --config tenants.json --target contoso-prod
      cifcheck run --url https://contoso.crm.dynamics.com --app OmniChannelEngagementHub
      cifcheck run --cdp http://127.0.0.1:9222 --url https://contoso.crm.dynamics.com
      CI=true cifcheck run --fail-on warn --json > result.json
      cifcheck run --fail-on regression --summary-md "$GITHUB_STEP_SUMMARY"
      cifcheck run --config fleet.json --shard 2/4 --output reports/shard-2
    """
    from playwright.sync_api import Error as PlaywrightError

    from cifcheck.browser import BrowserNotFound
    from cifcheck.config import ConfigError, Target, check_cdp_endpoint
    from cifcheck.config_sources import config_label

    if url and (scenario or target_names):
        raise BadInput(f"--url: give it alone, without {'--scenario' if scenario else '--target'}")
    shard = _shard_option(shard_text)
    config = _load(config_path, url, app)
    if cdp_endpoint:
        try:
            config.browser.cdp_endpoint = check_cdp_endpoint(cdp_endpoint)
        except ValueError as error:
            raise BadInput(f"--cdp: {error}") from None
    if scenario:
        config.targets = [Target(name=scenario, url=f"sandbox://{scenario}", app=_scenario_app(scenario))]
    if timing:
        from cifcheck.sandbox.scenarios import TIMINGS

        if timing not in TIMINGS:
            raise BadInput(f"--timing: unknown sandbox timing {timing!r} (known: {', '.join(TIMINGS)})")
        config.sandbox.timing = timing
    if target_names:
        unknown = sorted(set(target_names) - {t.name for t in config.targets})
        if unknown:
            raise BadInput(f"--target: no target named {', '.join(unknown)} in {config_label(config)}")
        config.targets = [t for t in config.targets if t.name in target_names]
    if trace_mode:
        config.trace.mode = trace_mode  # type: ignore[assignment]  # click's Choice of the same three
    from cifcheck.report import verified
    from cifcheck.report.baseline import mark_changes
    from cifcheck.runner import check_targets
    from cifcheck.runner import run as run_targets
    from cifcheck.terminal import Terminal

    try:
        check_targets(config, output_dir)  # every target selected, so that each shard refuses a bad config alike
    except ConfigError as error:
        raise BadInput(*error.lines) from None
    compared, baseline_run = _find_baseline(baseline, fail_on, Path(output_dir or config.output_dir))
    summary_file = _summary_file(summary_md)
    reports = _writable_folder(output_dir or config.output_dir, "--output" if output_dir else "output_dir")
    terminal = Terminal(quiet=quiet, as_json=as_json)
    if config.trace.mode != "off":
        click.echo(
            f"cifcheck: warning: traces ({config.trace.mode}) hold the session's cookies, headers and bodies: "
            f"written to {config.trace.dir}, readable by this user only; share `cifcheck bundle RUN --with-trace` "
            "instead",
            err=True,
        )
    selected = len(config.targets)
    if shard:
        from cifcheck.shard import shard_of

        config.targets = shard_of(config.targets, shard)
    with _sigterm_as_interrupt(), _interrupt_exits(terminal):
        try:
            if config.targets:
                output = run_targets(config, progress=terminal, workers=workers)
            else:  # a shard of a split into more shards than targets
                output = _empty_shard(shard, selected, terminal)
        except ConfigError as error:  # found once the browser could tell (a selectors expression that does not compile)
            raise _in_config(config, error) from None
        except BrowserNotFound as error:
            raise BadInput(str(error)) from None
        except PlaywrightError as error:  # the browser would not start, or --cdp found nothing to attach to
            raise _browser_failed(config, error) from None
        finally:
            terminal.close()
        result = output.result
        result.fail_on = fail_on  # type: ignore[assignment]  # click's Choice: "fail", "warn" or "regression"
        result.shard = str(shard) if shard else None
        if compared:
            mark_changes(result, baseline_run)
        if result.interrupted:
            terminal.interrupted(len(result.targets) - len(result.not_run), len(result.targets))
        run_dir = _write(result, output.evidence, reports, config.history.keep_runs)
    terminal.summary(verified(result), run_dir)
    _write_summary(summary_file, result, run_dir)
    leave(result.exit_code)


run.help = f"{inspect.cleandoc(run.help or '')}\n\n{EXIT_CODES}"


def _shard_option(text: str | None) -> Shard | None:
    from cifcheck.shard import parse_shard

    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as error:
        raise BadInput(f"--shard: {error}") from None


def _empty_shard(shard: Shard | None, selected: int, terminal: Terminal) -> RunOutput:
    """More shards than targets: this shard has none. That is a valid run with nothing in it, and no browser starts;
    it is written like any other, so that `cifcheck merge` finds every shard of the matrix (exit 0, verdict skip)."""
    from datetime import UTC, datetime

    from cifcheck.results import RunResult
    from cifcheck.runner import RunOutput, new_run_id

    assert shard is not None, "a config has one target or more: only a shard can have none"
    targets = f"{selected} target{'s' if selected != 1 else ''}"
    terminal.note(f"Shard {shard} has no targets: {targets} selected for {shard.count} shards. Nothing to run.")
    now = datetime.now(UTC)
    started_at = now.isoformat(timespec="seconds")
    result = RunResult(
        run_id=new_run_id(now), cifcheck_version=__version__, started_at=started_at, duration_ms=0, targets=[]
    )
    return RunOutput(result, [])


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, `kill`) stops a run as Ctrl-C does: the finished targets are reported, exit 130.
    Both also tell the runner an interrupt came (`runner.INTERRUPTED`): raised inside a Playwright event listener, a
    KeyboardInterrupt reaches the run as a Playwright error, which must not read as a browser that failed."""
    from cifcheck.runner import INTERRUPTED

    def interrupt(signum: int, frame: object) -> None:
        INTERRUPTED.set()
        # An interrupt that lands while a Playwright command waits for its answer leaves the answer with no one to
        # take it: Playwright logs that with a traceback. The run is stopping; what the driver says now is noise.
        logging.getLogger("playwright").setLevel(logging.CRITICAL)
        raise KeyboardInterrupt

    INTERRUPTED.clear()
    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def _interrupt_exits(terminal: Terminal) -> Iterator[None]:
    """An interrupt the run did not absorb (before the browser started, or a second Ctrl-C while the report is
    written): one line and exit 130, never click's 'Aborted!' and exit 1."""
    try:
        yield
    except KeyboardInterrupt:
        terminal.close()
        click.echo("cifcheck: interrupted; no report written", err=True)
        leave(EXIT_INTERRUPTED)


def _browser_failed(config: Config, error: Exception) -> BadInput:
    """The browser did not start, or nothing answered at --cdp: what Playwright said, and what to do."""
    from cifcheck.browser import BrowserNotFound, find_browser, launch_fix

    said = (str(error).strip().splitlines() or ["no message"])[0]
    if config.browser.cdp_endpoint:
        fix = (
            "start Chrome or Edge with --remote-debugging-port (and its own --user-data-dir) at "
            f"{config.browser.cdp_endpoint}, or leave out --cdp to let cifcheck launch a browser"
        )
    else:
        try:
            fix = launch_fix(find_browser(config.browser))
        except BrowserNotFound as not_found:
            fix = str(not_found)
    return BadInput(f"browser: {said}; fix: {fix} (`cifcheck doctor` checks it)")


def _writable_folder(folder: str, option: str) -> Path:
    """The reports folder, created if needed, or one line saying why it cannot be used (before any work).

    A file in its place is left as it is, and named."""
    from cifcheck.config import reports_folder_problem

    path = Path(folder)
    problem = reports_folder_problem(folder)
    if problem:
        raise BadInput(f"{option}: {problem}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".cifcheck-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise BadInput(f"{option}: cannot write reports to {folder}: {error.strerror or error}") from None
    return path


def _find_baseline(given: str | None, fail_on: str, reports: Path) -> tuple[bool, RunResult | None]:
    """Whether to compare with a baseline, and the baseline run (None: `latest` found none yet), read before any work.
    `--fail-on regression` without `--baseline` compares with `latest`: a scheduled run needs nothing more."""
    if given is None and fail_on == "regression":
        given = "latest"
    if given is None:
        return False, None
    from cifcheck.report.baseline import NO_BASELINE_YET, BaselineError, find_baseline

    try:
        found = find_baseline(given, reports)
    except BaselineError as error:
        raise BadInput(str(error)) from None
    if found is None:
        note(NO_BASELINE_YET)
    return True, found


def _summary_file(given: str | None) -> Path | None:
    """`--summary-md`'s file, checked before any work."""
    if not given:
        return None
    from cifcheck.report.summary_md import summary_path_problem

    problem = summary_path_problem(Path(given))
    if problem:
        raise BadInput(f"--summary-md: {problem}")
    return Path(given)


def _write_summary(path: Path | None, result: RunResult, run_dir: Path) -> None:
    if path is None:
        return
    from cifcheck.report.summary_md import append_summary, render_summary_md

    try:
        append_summary(path, render_summary_md(result, run_dir / "index.html"))
    except OSError as error:
        raise BadInput(f"--summary-md: cannot write {path}: {error.strerror or error}") from None


def _write(result: RunResult, evidence: list[Evidence], reports: Path, keep_runs: int | None = None) -> Path:
    from cifcheck.report import DEFAULT_KEEP_RUNS, write_run

    try:
        return write_run(result, evidence, reports, DEFAULT_KEEP_RUNS if keep_runs is None else keep_runs)
    except OSError as error:
        raise BadInput(f"cannot write the report to {reports}: {error.strerror or error}") from None


@cli.command(short_help="Sign in once and save the session for headless runs.")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
@click.option(
    "--url", default=None, metavar="URL", help="Sign in to this org instead of a configured target (as `run --url`)."
)
@click.option("--app", default=None, metavar="NAME", help=APP_HELP)
@click.option(
    "--target", "target_name", default=None, metavar="NAME", help="The target to sign in to (default: the first)."
)
@click.option("--check", "check_only", is_flag=True, help="Only tell whether the saved session still works.")
@click.option("--headless/--headed", default=None, help="Default: headed, or headless when credentials are set.")
def login(
    config_path: str | None,
    url: str | None,
    app: str | None,
    target_name: str | None,
    check_only: bool,
    headless: bool | None,
) -> None:
    """Sign in once (MFA included) and save the session for later headless runs.

    Opens a browser window at the target's org; sign in as usual. The session (cookies and local storage) is saved
    to the target's storage_state (default .cifcheck/auth/state.json), owner-only. With CIFCHECK_USERNAME and
    CIFCHECK_PASSWORD (and CIFCHECK_TOTP_SECRET) set, it signs in headless. A sandbox target needs no sign-in.

    \b
    Examples:
      cifcheck login --target contoso-prod
      cifcheck login --check                         does the saved session still open the app?
      cifcheck login --url https://contoso.crm.dynamics.com

    \b
    Exit codes:
      0    signed in and saved (with --check: the saved session still works)
      2    not signed in (with --check: the session expired or is missing), or bad input
    """
    from playwright.sync_api import Error as PlaywrightError

    from cifcheck.browser import BrowserNotFound
    from cifcheck.config import ConfigError, check_saved_sessions
    from cifcheck.config_sources import config_label
    from cifcheck.login import LoginError, NothingToSignIn, check_saved_session
    from cifcheck.login import login as sign_in

    config = _load(config_path, url, app)
    target = next((t for t in config.targets if t.name == target_name), None) if target_name else config.targets[0]
    if target is None:
        raise BadInput(f"--target: no target named {target_name} in {config_label(config)}")
    try:
        check_saved_sessions(config)
        if check_only:
            valid, message = check_saved_session(config, target)
            click.echo(safe_text(message))  # names the signed-in user as the page does
            sys.exit(0 if valid else EXIT_BAD_INPUT)
        outcome = sign_in(config, target, headless=headless)
    except NothingToSignIn as nothing:
        click.echo(safe_text(str(nothing)))
        sys.exit(0)
    except ConfigError as error:  # a saved session or credentials file that cannot be used
        raise _in_config(config, error) from None
    except (BrowserNotFound, LoginError) as error:
        raise BadInput(str(error)) from None
    except PlaywrightError as error:
        raise _browser_failed(config, error) from None
    where = f"session saved to {outcome.saved_to} (owner-only)" if outcome.saved_to else "profile signed in"
    click.echo(f"Signed in as {safe_text(outcome.user, limit=300)}; {safe_text(where)}.")
    if outcome.note:
        click.echo(outcome.note)


def _scenario_app(scenario: str) -> str:
    from cifcheck.sandbox.scenarios import get_scenario

    try:
        return get_scenario(scenario).app
    except KeyError as error:
        raise BadInput(f"--scenario: {error.args[0]}") from None


@cli.command(short_help="Re-judge saved evidence offline and render a new report.")
@click.argument(
    "evidence_files", nargs=-1, required=True, type=click.Path(), metavar="EVIDENCE.json|RUN_FOLDER|BUNDLE.zip..."
)
@click.option("--output", "output_dir", default="reports", show_default=True, metavar="DIR", help="Reports folder.")
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json on stdout.")
@FAIL_ON
@BASELINE
@SUMMARY_MD
def report(
    evidence_files: tuple[str, ...],
    output_dir: str,
    quiet: bool,
    as_json: bool,
    fail_on: str,
    baseline: str | None,
    summary_md: str | None,
) -> None:
    """Re-judge saved evidence files (evidence/<target>.json, a run folder for all of them, or a bundle from
    `cifcheck bundle`) offline and render a new report (no browser, no org).

    A support engineer can judge a customer's evidence with a newer cifcheck, to see whether a fix in cifcheck
    changes the verdict. The new run is marked "re-judged offline" in the history.

    \b
    Examples:
      cifcheck report reports/latest
      cifcheck report customer/evidence/contoso-prod.json --output /tmp/rejudged
      cifcheck report cifcheck-bundle-20261201-141905-926.zip
      cifcheck report reports/latest --baseline 20261201-141905-926
    """
    from cifcheck.offline import EvidenceError, rejudge
    from cifcheck.report import verified
    from cifcheck.report.baseline import mark_changes
    from cifcheck.terminal import Terminal

    try:
        result, evidence = rejudge([Path(p) for p in evidence_files])
    except EvidenceError as error:
        raise BadInput(*error.lines) from None
    compared, baseline_run = _find_baseline(baseline, fail_on, Path(output_dir))
    summary_file = _summary_file(summary_md)
    reports = _writable_folder(output_dir, "--output")
    result.fail_on = fail_on  # type: ignore[assignment]  # click's Choice: "fail", "warn" or "regression"
    if compared:
        mark_changes(result, baseline_run)
    run_dir = _write(result, evidence, reports)
    terminal = Terminal(quiet=quiet, as_json=as_json)
    terminal.summary(verified(result), run_dir)
    _write_summary(summary_file, result, run_dir)
    sys.exit(result.exit_code)


report.help = f"{inspect.cleandoc(report.help or '')}\n\n{EXIT_CODES}"


@cli.command(short_help="Merge the runs of CI shards into one report.")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(), metavar="DIR...")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
@click.option(
    "--output", "output_dir", default=None, metavar="DIR", help="Reports folder (default: the config's output_dir)."
)
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json on stdout.")
@BASELINE
@SUMMARY_MD
@FAIL_ON
def merge(
    run_dirs: tuple[str, ...],
    config_path: str | None,
    output_dir: str | None,
    quiet: bool,
    as_json: bool,
    baseline: str | None,
    summary_md: str | None,
    fail_on: str,
) -> None:
    """Merge run folders written by `cifcheck run` (each DIR a run folder, or a reports folder for its latest run),
    typically the shards of a CI matrix (`cifcheck run --shard i/n`), into one new run in the reports folder:
    index.html, result.json, junit.xml, evidence and a history entry, as one run would have written them.

    Verdicts are kept as recorded (`cifcheck report` judges evidence again). Shards are put back in the order one
    unsharded run would have given. Refused, one line each: a folder without result.json, a result.json that
    cannot be read, a target in two inputs, shards of different splits (1/2 with 1/3), and a missing shard: a
    merged report without it would read as the whole fleet's verdict.

    \b
    Examples:
      cifcheck merge shards/* --output reports
      cifcheck merge reports/shard-1 reports/shard-2 --fail-on warn
    """
    from datetime import UTC, datetime

    from cifcheck.merge import MergeError, merge_runs
    from cifcheck.report import verified
    from cifcheck.report.baseline import mark_changes
    from cifcheck.runner import new_run_id
    from cifcheck.terminal import Terminal

    config = _load(config_path)
    compared, baseline_run = _find_baseline(baseline, fail_on, Path(output_dir or config.output_dir))
    summary_file = _summary_file(summary_md)
    reports = _writable_folder(output_dir or config.output_dir, "--output" if output_dir else "output_dir")
    try:
        result, evidence = merge_runs([Path(p) for p in run_dirs], new_run_id(datetime.now(UTC)), fail_on)  # type: ignore[arg-type]
    except MergeError as error:
        raise BadInput(*error.lines) from None
    if baseline is None and any(check.change for target in result.targets for check in target.checks):
        compared = False  # the shards were compared already: their changes stand, not a compare with this `latest`
    if compared:  # else each check keeps the change its shard was marked with
        mark_changes(result, baseline_run)
    run_dir = _write(result, evidence, reports, config.history.keep_runs)
    terminal = Terminal(quiet=quiet, as_json=as_json)
    if result.interrupted:
        terminal.note(f"Interrupted: a shard was stopped before it finished ({len(result.not_run)} targets not run).")
    terminal.summary(verified(result), run_dir)
    _write_summary(summary_file, result, run_dir)
    sys.exit(result.exit_code)


merge.help = f"{inspect.cleandoc(merge.help or '')}\n\n{EXIT_CODES}"


@cli.command(short_help="Pack a run into one zip to share: evidence, report, screenshots, a scrubbed trace.")
@click.argument("run_name", default="latest", metavar="[RUN]")
@click.option("--target", "target_names", multiple=True, metavar="NAME", help="Only this target (repeatable).")
@click.option("--with-trace", is_flag=True, help="Add each target's trace, scrubbed (from --trace on a run).")
@click.option(
    "--out", "out_file", default=None, metavar="FILE", help="The zip to write (default: ./cifcheck-bundle-<run>.zip)."
)
@click.option("--force", is_flag=True, help="Replace FILE when it exists.")
@click.option("--output", "output_dir", default="reports", show_default=True, metavar="DIR", help="Reports folder.")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
def bundle(
    run_name: str,
    target_names: tuple[str, ...],
    with_trace: bool,
    out_file: str | None,
    force: bool,
    output_dir: str,
    config_path: str | None,
) -> None:
    """Pack a run (RUN: `latest`, a run id or a run folder) into one zip a customer can send a support engineer:
    the evidence, result.json, the report, the page and panel screenshots, the console, the CIF-related requests,
    and with --with-trace each target's Playwright trace, scrubbed.

    The scrubbed trace has no Cookie, Set-Cookie, Authorization or other credential header, no body of a request
    that is not CIF-related, no value typed at sign-in and no picture of a sign-in page; the known secrets and every
    value the redaction rules catch are removed from the rest. manifest.json lists every file and what was removed.
    The finished zip is scanned for the secrets cifcheck knows (the config's credentials, the saved sessions'
    cookies, the trace's cookie and credential values): one found, and nothing is written (exit 2).

    `cifcheck report BUNDLE.zip` re-judges it offline.

    \b
    Examples:
      cifcheck bundle
      cifcheck bundle latest --target contoso-prod --with-trace --out contoso.zip

    \b
    Exit codes:
      0    written
      2    no such run or target, a file that exists, or a secret found (nothing written)
    """
    from cifcheck.bundle import BundleError, make_bundle, register_config_secrets, write_bundle

    run_dir = _report_of(run_name, Path(output_dir)).parent
    config = _load(config_path)
    register_config_secrets(config)
    out = Path(out_file) if out_file else Path(f"cifcheck-bundle-{run_dir.resolve().name}.zip")
    try:
        data, manifest = make_bundle(run_dir, list(target_names), with_trace)
        write_bundle(data, out, force)
    except BundleError as error:
        raise BadInput(*error.lines) from None
    for line in manifest.notes:
        click.echo(f"cifcheck: note: {safe_text(line)}", err=True)
    removed = sum(item.count for item in manifest.removed)
    traces = sum(1 for item in manifest.files if item.path.startswith("traces/"))
    click.echo(
        f"Wrote {safe_text(str(out))}: {len(manifest.targets)} target(s), {len(manifest.files)} files"
        f"{f', {traces} scrubbed trace(s)' if traces else ''}, {removed:,} items removed (manifest.json lists them)"
    )


@cli.command(short_help="Open a run's report in the browser (or print its path).")
@click.argument("run_name", default="latest", metavar="[RUN]")
@click.option("--output", "output_dir", default="reports", show_default=True, metavar="DIR", help="Reports folder.")
def show(run_name: str, output_dir: str) -> None:
    """Open a run's report in the default browser: RUN is `latest` (the default), a run id, or a run folder.

    With no display (no DISPLAY or WAYLAND_DISPLAY on Linux), or in CI, prints the report's path instead.

    \b
    Examples:
      cifcheck show
      cifcheck show 20261201-141905-926

    \b
    Exit codes:
      0    opened (or printed)
      2    no such run
    """
    import webbrowser

    report = _report_of(run_name, Path(output_dir))
    if _has_display():
        with contextlib.suppress(webbrowser.Error):
            if webbrowser.open(report.resolve().as_uri()):
                click.echo(f"Opened {safe_text(str(report))}")
                return
    click.echo(safe_text(str(report)))


def _report_of(run_name: str, output_dir: Path) -> Path:
    """index.html of `run_name`: a folder holding one, or a run (or `latest`) in `output_dir`; else bad input."""
    for folder in (Path(run_name), output_dir / run_name):
        try:
            if (folder / "index.html").is_file() and (folder / "result.json").is_file():
                return folder / "index.html"
        except OSError:  # a name too long for a file name, a folder that cannot be read: not a run
            continue
    raise BadInput(f"RUN: no run {run_name!r} in {output_dir} (give latest, a run id or a run folder)")


def _has_display() -> bool:
    from cifcheck.terminal import in_ci

    if in_ci():
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@cli.command(short_help="Print the JSON Schema of the config, result.json or evidence.json.")
@click.argument("kind", type=click.Choice(["config", "result", "evidence"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a config file (config), of result.json (result) or of an evidence file (evidence).

    Editors use the config schema for completion and checking (`"$schema"` in the config); dashboards and
    scripts that read result.json can validate it with the result schema.

    \b
    Examples:
      cifcheck schema config > cifcheck.schema.json
      cifcheck schema result | jq '.properties | keys'
    """
    import json

    from cifcheck.schemas import SCHEMAS

    click.echo(json.dumps(SCHEMAS[kind](), indent=2))


@cli.command("checks", short_help="List every check id and what it verifies.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_checks(as_json: bool) -> None:
    """List every check: its stable id, what it verifies, the migration step it comes from, and what it needs.

    The ids are the ones result.json, junit.xml and a target's `checks` list use, in the order the report shows.

    \b
    Examples:
      cifcheck checks
      cifcheck checks --json | jq -r '.[].id'
    """
    import json

    from cifcheck.checks import all_checks

    rows = [
        {
            "id": c.id,
            "title": c.title,
            "verifies": c.checked,
            "doc_step": c.doc_step,
            "skipped_unless_passed": list(c.prerequisites),
        }
        for c in all_checks()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['title']}")
        click.echo(click.wrap_text(row["verifies"], width=100, initial_indent="    ", subsequent_indent="    "))
        needs = f"; needs {', '.join(row['skipped_unless_passed'])} to pass" if row["skipped_unless_passed"] else ""
        click.echo(f"    step: {row['doc_step'] or '-'}{needs}")


@cli.group(short_help="Check a config file without starting a browser.")
def config() -> None:
    """Check a config file (`cifcheck schema config` prints its JSON Schema)."""


@config.command("check", short_help="Check a config as `run` would, without a browser; list its targets.")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
@click.option("--url", default=None, metavar="URL", help=URL_HELP)
@click.option("--app", default=None, metavar="NAME", help=APP_HELP)
@click.option(
    "--output", "output_dir", default=None, metavar="DIR", help="The reports folder a run would get with --output."
)
def config_check(config_path: str | None, url: str | None, app: str | None, output_dir: str | None) -> None:
    """Check a config without a browser: everything `run` refuses before it starts (the same function decides),
    then list the config in use, its targets, each with its app, and where reports go.

    Selector expressions (selectors.app_ready, app_idle) are compiled by the browser, so only `run` finds a
    syntax error in them.

    \b
    Examples:
      cifcheck config check
      cifcheck config check --config tenants.json

    \b
    Exit codes:
      0    the config is usable
      2    it is not: every problem listed, one line each
    """
    from cifcheck.config import ConfigError
    from cifcheck.config_sources import config_label
    from cifcheck.runner import check_targets

    loaded = _load(config_path, url, app)
    try:
        check_targets(loaded, output_dir)
    except ConfigError as error:
        raise BadInput(*error.lines) from None
    click.echo(safe_text(f"config: {config_label(loaded)}"))
    for target in loaded.targets:
        default = "" if "app" in target.model_fields_set else " (default)"  # never silent: an Omnichannel org differs
        click.echo(safe_text(f"{target.name}: {target.url} app={target.app}{default}"))
    click.echo(safe_text(f"reports: {output_dir or loaded.output_dir}"))


@cli.command(short_help="Write a starter config for a real org.")
@click.option(
    "--url", default=None, metavar="URL", help="Your org URL (default: the example https://contoso.crm.dynamics.com)."
)
@click.option("--app", default=None, metavar="NAME", help=APP_HELP.removeprefix("With --url: "))
@click.option(
    "--file",
    "file_path",
    default="playwright.config.json",
    show_default=True,
    metavar="FILE",
    help="Where to write it.",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(url: str | None, app: str | None, file_path: str, force: bool) -> None:
    """Write a starter config for a real org, with its JSON Schema beside it and notes on what to fill in.

    Never overwrites a file without --force. Then `cifcheck config check`, `cifcheck login` and `cifcheck run`.

    \b
    Examples:
      cifcheck init --url https://contoso.crm.dynamics.com
      cifcheck init --url https://contoso.crm.dynamics.com --app OmniChannelEngagementHub --file omni.json

    \b
    Exit codes:
      0    written
      2    not written: the file exists (use --force), or bad input
    """
    from cifcheck.config import ConfigError
    from cifcheck.starter import write_starter

    try:
        written = write_starter(Path(file_path), url, app, force=force)
    except ConfigError as error:
        raise BadInput(*error.lines) from None
    for message in written.notes:
        note(message)
    click.echo(safe_text(f"Wrote {written.config} (and its schema, {written.schema.name})."))
    for step in written.next_steps:
        click.echo(safe_text(f"  {step}"))


@cli.command(short_help="Check the browser, the config, saved sessions and the orgs, each with its fix.")
@click.option("--config", "config_path", default=None, metavar="FILE", help=CONFIG_HELP)
@click.option("--launch/--no-launch", default=True, help="Also start the browser and open saved sessions.")
@click.option(
    "--cdp",
    "cdp_endpoint",
    default=None,
    metavar="URL",
    help="Check this browser to attach to instead of launching one.",
)
def doctor(config_path: str | None, launch: bool, cdp_endpoint: str | None) -> None:
    """Check what a run needs: the browser, the config, each target's saved session and each org's reachability
    (DNS, TCP, TLS), each with its fix.

    \b
    Examples:
      cifcheck doctor
      cifcheck doctor --no-launch                    without starting the browser or opening saved sessions
      cifcheck doctor --cdp http://127.0.0.1:9222

    \b
    Exit codes:
      0    nothing must be fixed (notes may remain)
      1    something must be fixed: each finding says how
      2    bad input (a --cdp that is no URL)
    """
    from cifcheck.config import check_cdp_endpoint
    from cifcheck.doctor import diagnose

    if cdp_endpoint:
        try:
            cdp_endpoint = check_cdp_endpoint(cdp_endpoint)
        except ValueError as error:
            raise BadInput(f"--cdp: {error}") from None
    sys.exit(diagnose(config_path, launch=launch, cdp=cdp_endpoint))


@cli.group(short_help="The bundled sandbox org: serve it, or list its scenarios.")
def sandbox() -> None:
    """The bundled sandbox org: a local emulation of a Dynamics 365 org running CIF 2.0.

    Every scenario (a healthy app, each failure of the migration, odd timings and shapes) is served at once, each
    on its own org host under *.localhost. `cifcheck run` starts it by itself for `sandbox://` targets; `serve`
    is for a person to open it in a browser.

    \b
    Examples:
      cifcheck sandbox list
      cifcheck sandbox serve --scenario panel-minimized --port 8400
      cifcheck run --scenario panel-minimized --timing slow-network
    """


@sandbox.command("list", short_help="List the scenarios, the verdicts each expects, and the timing profiles.")
def sandbox_list() -> None:
    """List the scenarios and the verdicts each one expects, then the timing profiles any of them runs under."""
    from cifcheck.sandbox.scenarios import SCENARIOS, TIMINGS

    for scenario in SCENARIOS.values():
        broken = [f"{check_id}={e.status}" for check_id, e in scenario.expect.items() if e.status != "pass"]
        click.echo(f"{scenario.name:26} {scenario.description}")
        click.echo(f"{'':26} expects: {', '.join(broken) or 'all pass'}")
    click.echo("\nTiming profiles (cifcheck run --timing NAME, or sandbox.timing; verdicts stay the same):")
    for timing in TIMINGS.values():
        click.echo(f"{timing.name:26} {timing.description}")


@sandbox.command("serve", short_help="Serve the sandbox org on 127.0.0.1 until Ctrl-C.")
@click.option(
    "--scenario", default="healthy-csw", show_default=True, metavar="NAME", help="Scenario whose app URL to print."
)
@click.option(
    "--port",
    default=8400,
    show_default=True,
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Port on 127.0.0.1 (0: any free).",
)
@click.option("--latency-ms", default=0, show_default=True, metavar="MS", help="Delay added to every response.")
@click.option("--app-ready-ms", type=int, default=None, metavar="MS", help="App shell boot time for every scenario.")
@click.option(
    "--library-delay-ms", type=int, default=None, metavar="MS", help="CIF library answer delay for every scenario."
)
@click.option(
    "--timing", default="instant", show_default=True, metavar="NAME", help="Timing profile of the printed app URL."
)
def sandbox_serve(
    scenario: str, port: int, latency_ms: int, app_ready_ms: int | None, library_delay_ms: int | None, timing: str
) -> None:
    """Serve the sandbox org until Ctrl-C. Every scenario is served at once, each on its own org host."""
    from cifcheck.sandbox.scenarios import get_scenario, get_timing
    from cifcheck.sandbox.server import SandboxServer
    from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_USER

    try:
        chosen = get_scenario(scenario)
    except KeyError as error:
        raise BadInput(f"--scenario: {error.args[0]}") from None
    try:
        get_timing(timing)
    except KeyError as error:
        raise BadInput(f"--timing: {error.args[0]}") from None
    try:
        server = SandboxServer(
            port=port, latency_ms=latency_ms, app_ready_ms=app_ready_ms, library_delay_ms=library_delay_ms
        )
    except OSError as error:
        raise BadInput(f"--port: cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    click.echo(f"Sandbox org for scenario {chosen.name}: {server.urls.app_url(chosen, timing)}")
    click.echo(f"All scenarios: {server.urls.index}")
    click.echo(f"Sign in as {SANDBOX_USER} with password {SANDBOX_PASSWORD}. Ctrl-C stops.")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (a cancelled CI job, `kill`) stops any command as Ctrl-C does: one line and exit 130, what was being
    # written removed, never a half-written file. `run` installs its own handler (_sigterm_as_interrupt) for the run.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        cli(prog_name="cifcheck")
    except SystemExit as done:
        runner = sys.modules.get("cifcheck.runner")  # not imported: no worker was ever started
        if runner is not None and runner.workers_busy():  # a run that ended on bad input while a worker was busy
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(done.code if isinstance(done.code, int) else EXIT_BAD_INPUT)
        raise
