"""The `cifcheck` command. Heavy modules (Playwright, pydantic, the sandbox) are imported inside commands
so that `cifcheck --help` answers at once."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cifcheck import __version__
from cifcheck.text import safe_text

if TYPE_CHECKING:  # for annotations only: importing these at start-up would slow `cifcheck --help`
    from cifcheck.config import Config
    from cifcheck.evidence import Evidence
    from cifcheck.results import RunResult

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """One line on stderr, exit code 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        # Messages can quote a page (a sign-in error, a user name) or a file: one inert line, whatever they hold.
        click.echo(f"cifcheck: {safe_text(self.message)}", err=True)


def _load(config_path: str) -> Config:
    from cifcheck.config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as error:
        raise BadInput(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cifcheck")
def cli() -> None:
    """Validate a Dynamics 365 Channel Integration Framework 2.0 migration in a real browser.

    With no configuration of your own, `cifcheck run` validates the bundled sandbox org.
    """


@cli.command()
@click.option("--config", "config_path", default="playwright.config.json", show_default=True, help="Config file.")
@click.option("--target", "target_names", multiple=True, help="Only this target (repeatable).")
@click.option("--output", "output_dir", default=None, help="Reports folder (default: config output_dir).")
@click.option("--scenario", default=None, help="Validate this sandbox scenario instead of the configured targets.")
@click.option("--timing", default=None, help="Run sandbox targets under this timing profile (`cifcheck sandbox list`).")
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json on stdout (progress goes to stderr).")
@click.option("--cdp", "cdp_endpoint", default=None, help="Attach to a running browser, e.g. http://127.0.0.1:9222.")
def run(
    config_path: str,
    target_names: tuple[str, ...],
    output_dir: str | None,
    scenario: str | None,
    timing: str | None,
    quiet: bool,
    as_json: bool,
    cdp_endpoint: str | None,
) -> None:
    """Open each target in a browser, check the CIF 2.0 migration, and write a report."""
    from playwright.sync_api import Error as PlaywrightError

    from cifcheck.browser import BrowserNotFound
    from cifcheck.config import ConfigError, Target, check_cdp_endpoint

    config = _load(config_path)
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
            raise BadInput(f"--target: no target named {', '.join(unknown)} in {config_path}")
        config.targets = [t for t in config.targets if t.name in target_names]
    from cifcheck.report import verified
    from cifcheck.runner import check_targets
    from cifcheck.runner import run as run_targets
    from cifcheck.terminal import Terminal

    try:
        check_targets(config)
    except ConfigError as error:
        raise BadInput(f"{config_path}: {error}") from None
    reports = _writable_folder(output_dir or config.output_dir, "--output" if output_dir else "output_dir")
    from cifcheck.config import resolved
    from cifcheck.runner import storage_state_path

    for target in config.targets:
        if resolved(storage_state_path(target, config)).is_relative_to(resolved(reports)):
            raise BadInput(f"--output: {reports} holds the saved session of {target.name}; write reports elsewhere")
    terminal = Terminal(quiet=quiet, as_json=as_json)
    try:
        output = run_targets(config, progress=terminal.progress)
    except ConfigError as error:  # found once the browser could tell (a selectors expression that does not compile)
        raise BadInput(f"{config_path}: {error}") from None
    except BrowserNotFound as error:
        raise BadInput(str(error)) from None
    except PlaywrightError as error:  # the browser would not start, or --cdp found nothing to attach to
        raise BadInput(f"browser: {str(error).splitlines()[0]}") from None
    run_dir = _write(output.result, output.evidence, reports, config.history.keep_runs)
    terminal.summary(verified(output.result), run_dir)
    sys.exit(output.result.exit_code)


def _writable_folder(folder: str, option: str) -> Path:
    """The reports folder, created if needed, or one line saying why it cannot be used (before any work).

    A file in its place is left as it is, and named."""
    from cifcheck.config import not_a_file, path_problem

    path = Path(folder)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None  # created below
    except OSError as error:
        raise BadInput(f"{option}: {folder}: {path_problem(error, 'reports folder')}") from None
    if mode is not None and not stat.S_ISDIR(mode):
        raise BadInput(f"{option}: {folder} is {not_a_file(mode) or 'a file'}, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".cifcheck-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise BadInput(f"{option}: cannot write reports to {folder}: {error.strerror or error}") from None
    return path


def _write(result: RunResult, evidence: list[Evidence], reports: Path, keep_runs: int | None = None) -> Path:
    from cifcheck.report import DEFAULT_KEEP_RUNS, write_run

    try:
        return write_run(result, evidence, reports, DEFAULT_KEEP_RUNS if keep_runs is None else keep_runs)
    except OSError as error:
        raise BadInput(f"cannot write the report to {reports}: {error.strerror or error}") from None


@cli.command()
@click.option("--config", "config_path", default="playwright.config.json", show_default=True, help="Config file.")
@click.option("--target", "target_name", default=None, help="The target to sign in to (default: the first).")
@click.option("--check", "check_only", is_flag=True, help="Only tell whether the saved session still works.")
@click.option("--headless/--headed", default=None, help="Default: headed, or headless when credentials are set.")
def login(config_path: str, target_name: str | None, check_only: bool, headless: bool | None) -> None:
    """Sign in once (MFA included) and save the session for later headless runs."""
    from playwright.sync_api import Error as PlaywrightError

    from cifcheck.browser import BrowserNotFound
    from cifcheck.config import ConfigError, check_saved_sessions
    from cifcheck.login import LoginError, check_saved_session
    from cifcheck.login import login as sign_in

    config = _load(config_path)
    target = next((t for t in config.targets if t.name == target_name), None) if target_name else config.targets[0]
    if target is None:
        raise BadInput(f"--target: no target named {target_name} in {config_path}")
    try:
        check_saved_sessions(config)
        if check_only:
            valid, message = check_saved_session(config, target)
            click.echo(safe_text(message))  # names the signed-in user as the page does
            sys.exit(0 if valid else EXIT_BAD_INPUT)
        outcome = sign_in(config, target, headless=headless)
    except ConfigError as error:  # a saved session or credentials file that cannot be used
        raise BadInput(f"{config_path}: {error}") from None
    except (BrowserNotFound, LoginError) as error:
        raise BadInput(str(error)) from None
    except PlaywrightError as error:
        raise BadInput(f"browser: {str(error).splitlines()[0]}") from None
    where = f"session saved to {outcome.saved_to} (owner-only)" if outcome.saved_to else "profile signed in"
    click.echo(f"Signed in as {safe_text(outcome.user, limit=300)}; {safe_text(where)}.")


def _scenario_app(scenario: str) -> str:
    from cifcheck.sandbox.scenarios import get_scenario

    try:
        return get_scenario(scenario).app
    except KeyError as error:
        raise BadInput(f"--scenario: {error.args[0]}") from None


@cli.command()
@click.argument("evidence_files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--output", "output_dir", default="reports", show_default=True, help="Reports folder.")
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json on stdout.")
def report(evidence_files: tuple[str, ...], output_dir: str, quiet: bool, as_json: bool) -> None:
    """Re-judge saved evidence.json files offline and render a new report (no browser, no org)."""
    from cifcheck.offline import EvidenceError, rejudge
    from cifcheck.report import verified
    from cifcheck.terminal import Terminal

    try:
        result, evidence = rejudge([Path(p) for p in evidence_files])
    except EvidenceError as error:
        raise BadInput(str(error)) from None
    run_dir = _write(result, evidence, _writable_folder(output_dir, "--output"))
    terminal = Terminal(quiet=quiet, as_json=as_json)
    terminal.summary(verified(result), run_dir)
    sys.exit(result.exit_code)


@cli.command()
@click.argument("kind", type=click.Choice(["config", "result", "evidence"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of playwright.config.json, result.json or evidence.json."""
    import json

    from cifcheck.schemas import SCHEMAS

    click.echo(json.dumps(SCHEMAS[kind](), indent=2))


@cli.group()
def config() -> None:
    """Inspect the configuration format."""


@config.command("schema")
def config_schema_command() -> None:
    """Print the JSON Schema of playwright.config.json."""
    import json

    from cifcheck.config import config_schema

    click.echo(json.dumps(config_schema(), indent=2))


@config.command("check")
@click.option("--config", "config_path", default="playwright.config.json", show_default=True)
def config_check(config_path: str) -> None:
    """Validate a config file and list its targets: what `run` checks before any browser starts, checked here."""
    from cifcheck.config import ConfigError
    from cifcheck.runner import check_targets

    loaded = _load(config_path)
    try:
        check_targets(loaded)
    except ConfigError as error:
        raise BadInput(f"{config_path}: {error}") from None
    for target in loaded.targets:
        click.echo(safe_text(f"{target.name}: {target.url} app={target.app}"))


@cli.command()
@click.option("--config", "config_path", default="playwright.config.json", show_default=True)
@click.option("--launch/--no-launch", default=True, help="Also start the browser once to prove it runs.")
def doctor(config_path: str, launch: bool) -> None:
    """Show which browser cifcheck would use, where it looked, and how to fix what is missing."""
    from cifcheck.doctor import diagnose

    config_file = Path(config_path)
    browser_config = _load(config_path).browser if config_file.exists() else None
    sys.exit(diagnose(browser_config, launch=launch))


@cli.group()
def sandbox() -> None:
    """The bundled sandbox org: a local emulation of a Dynamics 365 org running CIF 2.0."""


@sandbox.command("list")
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


@sandbox.command("serve")
@click.option("--scenario", default="healthy-csw", show_default=True, help="Scenario whose app URL to print.")
@click.option(
    "--port", default=8400, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (0: any free)."
)
@click.option("--latency-ms", default=0, show_default=True, help="Delay added to every response.")
@click.option("--app-ready-ms", type=int, default=None, help="App shell boot time for every scenario.")
@click.option("--library-delay-ms", type=int, default=None, help="CIF library answer delay for every scenario.")
@click.option("--timing", default="instant", show_default=True, help="Timing profile of the printed app URL.")
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


def main() -> None:
    cli(prog_name="cifcheck")
