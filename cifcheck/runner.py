"""Run the configured targets: start the sandbox org when a target needs it, get a browser (launched, attached
over CDP, or a persistent profile), gather evidence per target, judge it, and return it for the writers."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck import __version__, remote
from cifcheck.browser import find_browser, launch_options
from cifcheck.checks import REGISTRY, all_checks, judge_target
from cifcheck.checks.signed_in import BROWSER_UNANSWERED, CIFCHECK_FAILED, NO_BROWSER_SERVER
from cifcheck.config import (
    Config,
    ConfigError,
    Credentials,
    Target,
    reports_folder_problem,
    resolved,
    saved_session_problems,
)
from cifcheck.config_messages import did_you_mean
from cifcheck.credentials import SignInSecrets, load_secrets
from cifcheck.evidence import BrowserInfo, Evidence, Navigation, TargetInfo
from cifcheck.remote import Endpoints, connect, endpoint_label, queued_too_long, why_not_connected
from cifcheck.results import RunResult, TargetResult, not_run_target
from cifcheck.session import OpenedTarget, Phase, check_settings, gather
from cifcheck.signin import CredentialHosts, is_loopback
from cifcheck.targets import RunningHost, host, hosted, scheme_of
from cifcheck.trace import RunTraces


class Progress(Protocol):
    """What a run tells while it goes (the terminal shows it): target `number` of `total`, and its phases."""

    def target_started(self, number: int, total: int, name: str) -> None: ...

    def phase(self, name: str) -> None: ...

    def target_finished(self, number: int, total: int, result: TargetResult) -> None: ...


# Set by the command's SIGINT and SIGTERM handler. A KeyboardInterrupt raised while Playwright dispatches an event
# reaches the run as a Playwright error ("Error occurred in event listener"): this says it was an interrupt.
INTERRUPTED = threading.Event()


@dataclass
class RunOutput:
    result: RunResult
    evidence: list[Evidence]


class SavedSessionError(Exception):
    """A storage state file that cannot be used: reported as the target's `error`, with the refresh hint."""


# A new context fails in a browser that is gone (crashed, killed, out of memory): no saved session is to blame.
BROWSER_CLOSED = "the browser closed during the run"


def check_targets(config: Config, output_dir: str | None = None) -> None:
    """Everything `cifcheck run` refuses that the config models cannot know, every problem listed, found before any
    browser starts so bad input never costs a run. `cifcheck config check` calls this too, so the two cannot drift.
    `output_dir` is the `--output` given, else the config's own reports folder is checked."""
    found = target_problems(config) + reports_problems(config, output_dir)
    if found:
        raise ConfigError(*found)


def target_problems(config: Config) -> list[str]:
    """Check ids exist, hosted targets (sandbox scenarios) and their host's settings exist, credentials are readable,
    saved sessions are files; each line names the config file and the field."""
    found = [*saved_session_problems(config)]
    for scheme, targets in hosted(config).items():
        found += host(scheme).problems(config, targets)
    for index, target in enumerate(config.targets):
        for check_id in target.checks or []:
            if check_id not in REGISTRY:
                found.append(f"targets[{index}].checks: unknown check id {check_id!r}{_known(check_id, REGISTRY)}")
        try:
            secrets_for(target, config)
        except ConfigError as error:
            found.extend(str(error).splitlines())
    source = f"{config.source_file}: " if config.source_file else ""
    return [source + problem for problem in found]


def reports_problems(config: Config, output_dir: str | None) -> list[str]:
    """The reports folder (`--output`, else `output_dir`) can be written, and holds no saved session."""
    option, reports = ("--output", output_dir) if output_dir else ("output_dir", config.output_dir)
    problem = reports_folder_problem(reports)
    found = [f"{option}: {problem}"] if problem else []
    owners = [("in auth.storage_state", config.auth.storage_state)]
    owners += [(f"of {t.name}", t.storage_state) for t in config.targets if t.storage_state]
    for owner, state in owners:
        if resolved(state).is_relative_to(resolved(reports)):
            found.append(f"{option}: {reports} holds the saved session {owner} ({state}); write reports elsewhere")
    trace_problem = reports_folder_problem(config.trace.dir, "traces") if config.trace.mode != "off" else None
    if trace_problem:  # else every trace is lost, silently, and a file in its place is made 0700
        found.append(f"trace.dir: {trace_problem}")
    elif config.trace.mode != "off" and resolved(config.trace.dir).is_relative_to(resolved(reports)):
        found.append(
            f"trace.dir: {config.trace.dir} is inside the reports folder {reports}; raw traces hold the session's "
            "cookies: write them elsewhere (share a scrubbed one with `cifcheck bundle --with-trace`)"
        )
    profile = config.auth.user_data_dir  # its cookies are a saved session too
    if profile and resolved(profile).is_relative_to(resolved(reports)):
        found.append(
            f"{option}: {reports} holds the browser profile in auth.user_data_dir ({profile}); write reports elsewhere"
        )
    return found


def _known(word: str, choices: Iterable[str]) -> str:
    """A near miss suggested, else the choices listed."""
    return did_you_mean(word, choices) or f" (known: {', '.join(choices)})"


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M%S-%f")[:-3]


@contextlib.contextmanager
def hosts_started(config: Config, running: object | None = None) -> Iterator[dict[str, RunningHost]]:
    """The orgs the run's hosted targets need (`cifcheck.targets`), started for the run; `running` is one a caller
    started already (a test's sandbox server), used by the host it belongs to."""
    with contextlib.ExitStack() as stack:
        yield {scheme: stack.enter_context(host(scheme).started(config, running)) for scheme in hosted(config)}


def credentials_for(target: Target, config: Config) -> Credentials | None:
    """Where this target's sign-in secrets are. A hosted target (the sandbox) uses only credentials it names itself:
    the account in CIFCHECK_USERNAME is for the user's real org, never typed into the sandbox's sign-in page."""
    if scheme_of(target) or config.browser.cdp_endpoint:
        # Nor, over CDP, into the browser of the person cifcheck attached to, unless the target asks for it.
        return target.credentials
    return target.credentials or config.auth.credentials


def secrets_for(target: Target, config: Config) -> SignInSecrets | None:
    """The target's sign-in secrets, read now, or None when it has none."""
    credentials = credentials_for(target, config)
    return load_secrets(credentials) if credentials else None


def storage_state_path(target: Target, config: Config) -> Path:
    return Path(target.storage_state or config.auth.storage_state)


def open_target(
    target: Target, config: Config, hosts: Mapping[str, RunningHost] | None = None
) -> tuple[OpenedTarget, list[dict]]:
    """Where the target is, its sign-in secrets, and the cookies to start with.

    A hosted target (the sandbox) without a saved session of its own gets a session its host issues, as a saved
    sign-in would give; one that names a storage state uses it, so sign-in and expiry are tested for real.
    """
    secrets = secrets_for(target, config)
    sign_in_hosts = config.sign_in.all_hosts
    credential_hosts = tuple(config.sign_in.credential_hosts)
    checked = not config.browser.ignore_https_errors
    scheme = scheme_of(target)
    if scheme is None:
        # An org served over http from this machine is a sandbox (`cifcheck sandbox serve`), and so is its sign-in.
        org = urlsplit(target.url)
        local = org.scheme == "http" and is_loopback((org.hostname or "").lower())
        allowed = CredentialHosts(credential_hosts, http_on_loopback=local, certificates_checked=checked)
        return OpenedTarget(target, target.url, sign_in_hosts, secrets, allowed), []
    running = (hosts or {}).get(scheme)
    assert running is not None, f"{scheme}:// targets run with their host started (runner.hosts_started)"
    with_session = not (target.storage_state or secrets or config.browser.cdp_endpoint or config.auth.user_data_dir)
    opening = running.opening(target, config, with_session)
    allowed = CredentialHosts(
        (*credential_hosts, *opening.sign_in_hosts),
        http_on_loopback=opening.served_over_http,
        certificates_checked=checked,
    )
    opened = OpenedTarget(target, opening.org_url, (*sign_in_hosts, *opening.sign_in_hosts), secrets, allowed)
    return opened, [dict(cookie) for cookie in opening.session_cookies] if with_session else []


@dataclass
class Browsers:
    """How each target gets its browser context.

    A launched (or given) browser gives every target a fresh context with its own saved session. A browser
    attached over CDP or a persistent profile is the user's own: its context is used as it is, never closed.
    """

    info: BrowserInfo
    browser: Browser | None = None
    shared: BrowserContext | None = None

    @contextlib.contextmanager
    def context_for(self, target: Target, config: Config, cookies: list[dict]) -> Iterator[BrowserContext]:
        if self.shared is not None:
            yield self.shared
            return
        assert self.browser is not None
        options: dict = {
            "viewport": {"width": config.browser.viewport_width, "height": config.browser.viewport_height},
            "ignore_https_errors": config.browser.ignore_https_errors,
        }
        state = storage_state_path(target, config)
        if state.is_file() and (target.storage_state or scheme_of(target) is None):
            options["storage_state"] = str(state)
        try:
            context = self.browser.new_context(**options)
        except (PlaywrightError, ValueError, OSError) as error:
            why = str(error).splitlines()[0]
            if browser_gone(self.browser):
                raise SavedSessionError(f"{BROWSER_CLOSED} ({why})") from None
            raise SavedSessionError(f"the saved session {state} could not be loaded ({why})") from None
        try:
            if cookies:
                context.add_cookies(cookies)
            yield context
        finally:
            with contextlib.suppress(PlaywrightError):  # a browser that went away took its contexts with it
                context.close()


@contextlib.contextmanager
def shared_browser(config: Config, running: Browser | None = None) -> Iterator[Browsers | None]:
    """The one browser all targets share, when the run has one: a browser the caller launched, the user's browser
    over CDP, or a persistent profile. None: the run launches (or connects to) its own, one per worker."""
    if running is not None:
        yield Browsers(BrowserInfo(name=running.browser_type.name, version=running.version, source="given"), running)
        return
    if not (config.browser.cdp_endpoint or config.auth.user_data_dir):
        yield None
        return
    with sync_playwright() as playwright:
        if config.browser.cdp_endpoint:
            attached = playwright.chromium.connect_over_cdp(config.browser.cdp_endpoint)
            info = BrowserInfo(name="chromium", version=attached.version, source=f"CDP {config.browser.cdp_endpoint}")
            context = attached.contexts[0] if attached.contexts else attached.new_context()
            yield Browsers(info, shared=context)  # leaving sync_playwright only disconnects: the user's tabs stay
            return
        choice = find_browser(config.browser)
        viewport = {"width": config.browser.viewport_width, "height": config.browser.viewport_height}
        profile = playwright.chromium.launch_persistent_context(
            config.auth.user_data_dir,
            viewport=viewport,
            ignore_https_errors=config.browser.ignore_https_errors,
            **launch_options(choice, config.browser.headless),
        )
        version = profile.browser.version if profile.browser else ""
        try:
            yield Browsers(BrowserInfo(name="chromium", version=version, source=choice.describe()), shared=profile)
        finally:
            profile.close()


def _unusable_session(target: Target, opened: OpenedTarget, config: Config, info: BrowserInfo, why: str) -> Evidence:
    """Evidence for a target whose saved session could not even be loaded: every check but sign-in skips."""
    return Evidence(
        cifcheck_version=__version__,
        target=TargetInfo(name=target.name, url=target.url, app=target.app, opened_url=opened.app_url),
        settings=check_settings(config, target),
        browser=info,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        navigation=Navigation(requested_url=opened.app_url, error=why),
    )


Outcome = tuple[TargetResult, Evidence]


def _validate_target(
    browsers_: Browsers,
    target: Target,
    config: Config,
    hosts: Mapping[str, RunningHost],
    phase: Phase | None,
    traces: RunTraces | None = None,
) -> Outcome:
    """One target: one page load, its evidence, and the verdicts on it (and its trace, when the run keeps one)."""
    opened, cookies = open_target(target, config, hosts)
    kept_trace = ""  # of a page load that broke: what a support engineer needs most
    try:
        with browsers_.context_for(target, config, cookies) as context:
            traced = traces is not None and traces.start(context, target.name)
            try:
                evidence = gather(context, opened, config, browsers_.info, phase)
            except Exception:
                if traced and not INTERRUPTED.is_set():
                    kept_trace = traces.stop(context, target.name, failed=True)
                raise
            if traced:
                judged = judge_target(evidence, target.checks)
                failed = bool(judged.counts["fail"] or judged.counts["error"])
                evidence.trace_file = traces.stop(context, target.name, failed)
    except SavedSessionError as error:
        evidence = _unusable_session(target, opened, config, browsers_.info, str(error))
    except PlaywrightError as error:
        if browsers_.browser is None or INTERRUPTED.is_set() or not browser_gone(browsers_.browser):
            raise
        why = f"{BROWSER_CLOSED} ({str(error).splitlines()[0] if str(error) else 'no message'})"
        evidence = _unusable_session(target, opened, config, browsers_.info, why)
    except ConfigError:  # bad input found once the browser could tell (a selectors expression): the run's, exit 2
        raise
    except Exception as error:  # a bug of cifcheck's own: this target's error, not the end of every other's
        said = (str(error).splitlines() or [""])[0][:300]
        why = f"{CIFCHECK_FAILED} ({type(error).__name__}: {said})"
        evidence = _unusable_session(target, opened, config, browsers_.info, why)
    evidence.trace_file = evidence.trace_file or kept_trace
    return judge_target(evidence, target.checks), evidence


def browser_gone(browser: Browser) -> bool:
    """Whether the browser (or its browser server) went away. Playwright notices a dead connection only when it
    next reads from it, so the browser is asked for something once more."""
    if not browser.is_connected():
        return True
    try:
        browser.new_context().close()
    except PlaywrightError:  # a browser that cannot open a context is no use either
        return True
    return False


def _no_browser(target: Target, config: Config, hosts: Mapping[str, RunningHost], why: str) -> Outcome:
    opened, _ = open_target(target, config, hosts)
    info = BrowserInfo(source="none: every browser server was down")
    evidence = _unusable_session(target, opened, config, info, f"{NO_BROWSER_SERVER} ({why})")
    return judge_target(evidence, target.checks), evidence


def _not_run(target: Target) -> TargetResult:
    checks = [(c.id, c.title) for c in all_checks() if target.checks is None or c.id in target.checks]
    return not_run_target(target.name, target.url, target.app, checks)


def run(
    config: Config,
    progress: Progress | None = None,
    sandbox: object | None = None,
    browser: Browser | None = None,
    workers: int | None = None,
) -> RunOutput:
    """Validate every target. `sandbox` (a running sandbox server) and `browser` (a launched browser, left open)
    are reused when given, as the test suite and the pytest plugin do. The reports folder is the caller's.

    Targets run `workers` at a time (default: `browser.workers`, else what the machine can take), each worker with
    its own browser, launched or on a browser server of `browser.endpoints`; verdicts and their order are those of a
    run one target at a time. A given browser, a browser over CDP or a persistent profile is one browser: its
    targets run one at a time.

    A KeyboardInterrupt (Ctrl-C; the command turns SIGTERM into one too) stops the run at once: the page, the
    browser and the sandbox close as the interrupt leaves them, and the result holds the finished targets, the
    others marked not run, with `interrupted` set."""
    found = target_problems(config)
    if found:
        raise ConfigError(*found)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    run_id = new_run_id(started_at)
    traces = RunTraces(config.trace, run_id) if config.trace.mode != "off" else None
    outcomes: dict[int, Outcome] = {}
    browser_name = ""
    interrupted = False
    try:
        with hosts_started(config, sandbox) as hosts, shared_browser(config, browser) as shared:
            if shared is not None:
                browser_name = f"{shared.info.name} {shared.info.version}"
                _one_at_a_time(shared, config, hosts, progress, outcomes, traces)
            else:
                count = workers or config.browser.workers or default_workers(config)
                browser_name = run_in_workers(config, hosts, progress, outcomes, count, traces)
    except (KeyboardInterrupt, PlaywrightError) as error:
        if isinstance(error, PlaywrightError) and not INTERRUPTED.is_set():
            raise
        interrupted = True
    if traces is not None:
        traces.prune(config.history.keep_runs)
    results = [outcomes[i][0] if i in outcomes else _not_run(t) for i, t in enumerate(config.targets)]
    run_result = RunResult(
        run_id=run_id,
        cifcheck_version=__version__,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        browser=browser_name,
        targets=results,
        interrupted=interrupted,
    )
    return RunOutput(run_result, [outcomes[i][1] for i in sorted(outcomes)])


def _one_at_a_time(
    browsers_: Browsers,
    config: Config,
    hosts: Mapping[str, RunningHost],
    progress: Progress | None,
    outcomes: dict[int, Outcome],
    traces: RunTraces | None = None,
) -> None:
    total = len(config.targets)
    for index, target in enumerate(config.targets):
        if progress:
            progress.target_started(index + 1, total, target.name)
        outcome = _validate_target(browsers_, target, config, hosts, progress.phase if progress else None, traces)
        if INTERRUPTED.is_set():  # the interrupt reached this target as an error: it is not run, not judged
            raise KeyboardInterrupt
        outcomes[index] = outcome
        if progress:
            progress.target_finished(index + 1, total, outcome[0])


BROWSER_BYTES = 400 * 1024**2  # one worker's browser with one org's page open, with margin (bench/fleet.py: ~300 MB)


def default_workers(config: Config) -> int:
    """Targets at once when neither --workers nor browser.workers says. Most of a target is waiting for the org, but
    a page load also keeps about a CPU busy for a third of its time (bench/fleet.py): two per CPU, beyond which a
    run gets no faster; as many browsers as the memory available holds; with browser servers, four per server (their
    machines carry the browsers); at most as many as there are targets, and at most 16."""
    if config.browser.endpoints:
        wanted = 4 * len(config.browser.endpoints)
    else:
        wanted = min(2 * (os.cpu_count() or 1), _available_memory() // BROWSER_BYTES)
    return max(1, min(wanted, 16, len(config.targets)))


def _available_memory() -> int:
    """MemAvailable of /proc/meminfo (Linux); elsewhere, as if there were room for 16 browsers."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 16 * BROWSER_BYTES


@dataclass
class _Job:
    index: int
    target: Target
    attempts: int = 0
    lost_on: str = ""  # the browser server whose browser went away under an earlier attempt
    busy_waits: int = 0  # connections that waited in a browser server's queue and timed out
    abandoned: bool = False  # given up on: its browser stopped answering; a late outcome is not recorded


BUSY_WAITS = 3  # the last worker waits this many connection timeouts in a busy server's queue, then gives up


class _Pool:
    """The run's targets for its workers: handed out in config order, a lost one handed out again, and the progress
    told in config order (a target is shown once it and every target before it finished), so a run with workers
    reads like a run one target at a time."""

    def __init__(self, config: Config, progress: Progress | None, outcomes: dict[int, Outcome]) -> None:
        self.targets = config.targets
        self.progress = progress
        self.outcomes = outcomes
        self.failure: BaseException | None = None
        self._waiting = deque(_Job(index, target) for index, target in enumerate(config.targets))
        self._lock = threading.Lock()
        self._stopped = False
        self._told = 0  # targets shown as finished
        self._shown_started = -1  # the highest target shown as started
        self.workers = 0  # the workers still taking targets
        self._busy: dict[int, tuple[_Job, float, str]] = {}  # worker -> its target, since when, on which server
        self.abandoned: set[int] = set()  # workers given up on: stuck in a browser that stopped answering

    def take(self, worker: int = -1) -> _Job | None:
        with self._lock:
            if worker in self.abandoned:
                return None
            if self._stopped or self.failure is not None or INTERRUPTED.is_set() or not self._waiting:
                return None
            job = self._waiting.popleft()
            self._show_head(job.index)
            return job

    def retire(self) -> bool:
        """A worker stops taking targets, unless it is the last one (False: it must go on)."""
        with self._lock:
            if self.workers <= 1:
                return False
            self.workers -= 1
            return True

    def again(self, job: _Job) -> None:
        with self._lock:
            self._waiting.appendleft(job)

    def started(self, worker: int, job: _Job, endpoint: str) -> None:
        with self._lock:
            self._busy[worker] = (job, time.monotonic(), endpoint)

    def done(self, worker: int) -> None:
        with self._lock:
            self._busy.pop(worker, None)

    def overdue(self, deadline_s: float) -> list[tuple[_Job, str]]:
        """The workers whose target has run longer than `deadline_s`, each marked abandoned with its target: the
        worker takes nothing more, and what its target ends with is not recorded."""
        now = time.monotonic()
        with self._lock:
            late = [(w, job, url) for w, (job, since, url) in self._busy.items() if now - since > deadline_s]
            for worker, job, _ in late:
                del self._busy[worker]
                self.abandoned.add(worker)
                job.abandoned = True
                self.workers -= 1
            return [(job, url) for _, job, url in late]

    def has_waiting(self) -> bool:
        with self._lock:
            return bool(self._waiting)

    def finish(self, job: _Job, outcome: Outcome) -> None:
        with self._lock:
            if self._stopped or job.abandoned:
                return
            self.outcomes[job.index] = outcome
            total = len(self.targets)
            while self._told in self.outcomes:
                if self.progress:
                    if self._shown_started < self._told:
                        self.progress.target_started(self._told + 1, total, self.targets[self._told].name)
                    self.progress.target_finished(self._told + 1, total, self.outcomes[self._told][0])
                self._shown_started = max(self._shown_started, self._told)
                self._told += 1
            self._show_head(None)

    def _show_head(self, taken: int | None) -> None:
        """Show the first unfinished target as started once a worker has it (the live line follows it)."""
        head = self._told
        if self.progress is None or head >= len(self.targets) or self._shown_started >= head:
            return
        if taken == head or (taken is None and all(job.index != head for job in self._waiting)):
            self.progress.target_started(head + 1, len(self.targets), self.targets[head].name)
            self._shown_started = head

    def phase(self, job: _Job) -> Phase:
        def told(name: str) -> None:
            # Only the target the live line shows, and only while the run goes on: a worker still in a page load
            # after an interrupt must not write to a terminal the command has closed.
            if self.progress is not None and job.index == self._told and not self._stopped and not job.abandoned:
                self.progress.phase(name)

        return told

    def fail(self, error: BaseException) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = error

    def stop(self) -> None:
        """Nothing more is handed out or recorded: the run is over (interrupted)."""
        with self._lock:
            self._stopped = True


# Set once a run started worker threads in this process (the command's exit after an interrupt depends on it).
WORKERS_STARTED = threading.Event()
WORKER_THREAD = "cifcheck-worker-"


def workers_busy() -> bool:
    """Whether a worker thread is still running: Python's shutdown under one inside Playwright can crash."""
    return any(thread.name.startswith(WORKER_THREAD) and thread.is_alive() for thread in threading.enumerate())


def run_in_workers(
    config: Config,
    hosts: Mapping[str, RunningHost],
    progress: Progress | None,
    outcomes: dict[int, Outcome],
    count: int,
    traces: RunTraces | None = None,
) -> str:
    """Validate the targets `count` at a time, each worker in its own thread with its own Playwright and browser
    (Playwright's API is not thread-safe: one instance per thread). Returns the browser's name and version."""
    pool = _Pool(config, progress, outcomes)
    endpoints = Endpoints(config.browser.endpoints) if config.browser.endpoints else None
    names: list[str] = []
    threads: dict[int, threading.Thread] = {}

    def start_worker() -> None:
        number = len(threads)
        thread = threading.Thread(
            target=_worker,
            args=(pool, config, hosts, endpoints, number, names, traces),
            name=f"{WORKER_THREAD}{number}",
            daemon=True,  # an interrupted run does not wait for a page load to end, nor for a browser gone silent
        )
        threads[number] = thread
        pool.workers += 1
        thread.start()

    WORKERS_STARTED.set()
    deadline_s = target_deadline_s(config)
    for _ in range(min(count, len(config.targets)) or 1):
        start_worker()
    try:
        # A failure of the run (bad input the browser found, a browser that will not start) ends it at once: the
        # other workers' page loads are not waited for.
        while pool.failure is None and any(
            thread.is_alive() for number, thread in threads.items() if number not in pool.abandoned
        ):
            for job, endpoint in pool.overdue(deadline_s):
                _give_up_on(pool, job, endpoint, endpoints, config, hosts, deadline_s)
                if pool.has_waiting():
                    start_worker()  # the stuck worker's place: the run keeps its pace
            for thread in list(threads.values()):
                thread.join(0.2 / len(threads))
    except KeyboardInterrupt:
        pool.stop()
        raise
    if pool.failure is not None:
        pool.stop()
        raise pool.failure
    return names[0] if names else ""


# A target's page load is bounded by its own timeouts (timeouts.*, sign_in.*); one that outlives them this far is
# waiting on a browser that no longer answers: a browser server that froze, a network that drops packets without
# closing the connection. Playwright's new_context, page reads and close take no timeout of their own.
UNANSWERED_MARGIN_S = 120.0


def target_deadline_s(config: Config) -> float:
    """How long a worker may hold one target before cifcheck gives up on its browser: twice every wait a page load
    may make (a sign-in navigates more than once), the browser server connection, and a margin for the probes."""
    waits_ms = (
        config.timeouts.navigation_ms
        + config.timeouts.ready_ms
        + config.timeouts.settle_max_ms
        + config.timeouts.error_page_ms
        + config.sign_in.settle_ms
        + config.sign_in.foreign_settle_ms
    )
    return 2 * waits_ms / 1000 + remote.CONNECT_MS / 1000 + UNANSWERED_MARGIN_S


def _give_up_on(
    pool: _Pool,
    job: _Job,
    endpoint: str,
    endpoints: Endpoints | None,
    config: Config,
    hosts: Mapping[str, RunningHost],
    deadline_s: float,
) -> None:
    """A target whose browser stopped answering: its server is down for the rest of the run, and the target runs
    once more on another server, or ends with an error."""
    where = f"the browser server {endpoint_label(endpoint)}" if endpoint else "the browser"
    why = f"{where} stopped answering: cifcheck gave up on the target after {deadline_s:.0f} s"
    if endpoints is not None and endpoint:
        endpoints.down(endpoint, f"{endpoint_label(endpoint)} stopped answering")
        if job.attempts == 0 and endpoints.any_up():
            pool.again(_Job(job.index, job.target, 1, endpoint))
            return
    opened, _ = open_target(job.target, config, hosts)
    info = BrowserInfo(source=f"{where} (stopped answering)")
    evidence = _unusable_session(job.target, opened, config, info, f"{BROWSER_UNANSWERED} ({why})")
    pool.finish(_Job(job.index, job.target), (judge_target(evidence, job.target.checks), evidence))


class _Worker:
    """One worker's browser: launched, or on a browser server; replaced when it goes away under a target."""

    def __init__(self, playwright: Playwright, config: Config, endpoints: Endpoints | None, number: int) -> None:
        self.playwright = playwright
        self.config = config
        self.endpoints = endpoints
        self.number = number
        self.current: Browsers | None = None
        self.endpoint = ""

    def browsers(self, job: _Job) -> Browsers:
        """The worker's browser, started when it has none; raises NoBrowserServer when every server is down."""
        if self.current is not None and self.current.browser is not None and self.current.browser.is_connected():
            return self.current
        self.drop()
        if self.endpoints is None:
            choice = find_browser(self.config.browser)
            browser = self.playwright.chromium.launch(**launch_options(choice, self.config.browser.headless))
            self.current = Browsers(BrowserInfo(name="chromium", version=browser.version, source=choice.describe()))
            self.current.browser = browser
            return self.current
        while (url := self.endpoints.pick(self.number)) is not None:
            try:
                browser = connect(self.playwright, url, self.config)
            except PlaywrightError as error:
                if queued_too_long(error):
                    raise ServerBusy(f"{endpoint_label(url)} kept the connection queued (its --max-clients)") from None
                self.endpoints.down(url, why_not_connected(url, error))
                continue
            source = f"browser server {endpoint_label(url)}"
            if job.lost_on and job.lost_on != url:
                source += f" (again, after the browser on {endpoint_label(job.lost_on)} went away)"
            self.current = Browsers(BrowserInfo(name="chromium", version=browser.version, source=source), browser)
            self.endpoint = url
            return self.current
        raise NoBrowserServer(self.endpoints.why_all_down())

    def lost(self) -> bool:
        """Whether the browser went away under the target."""
        browser = self.current.browser if self.current is not None else None
        return browser is not None and browser_gone(browser)

    def drop(self) -> None:
        if self.current is not None and self.current.browser is not None:
            with contextlib.suppress(PlaywrightError):
                self.current.browser.close()
        self.current, self.endpoint = None, ""


class NoBrowserServer(Exception):
    """Every browser server of browser.endpoints is down: why, per server."""


class ServerBusy(Exception):
    """A browser server kept the connection in its queue (started with --max-clients) past the connection timeout."""


def _worker(
    pool: _Pool,
    config: Config,
    hosts: Mapping[str, RunningHost],
    endpoints: Endpoints | None,
    number: int,
    names: list[str],
    traces: RunTraces | None = None,
) -> None:
    try:
        with sync_playwright() as playwright:
            worker = _Worker(playwright, config, endpoints, number)
            try:
                while (job := pool.take(number)) is not None:
                    try:
                        browsers_ = worker.browsers(job)
                    except NoBrowserServer as error:
                        pool.finish(job, _no_browser(job.target, config, hosts, str(error)))
                        continue
                    except ServerBusy as busy:
                        # Queued past --max-clients: leave the server's slots to the workers that have them.
                        job.busy_waits += 1
                        if pool.retire():
                            pool.again(job)
                            return
                        if job.busy_waits >= BUSY_WAITS:
                            pool.finish(job, _no_browser(job.target, config, hosts, str(busy)))
                        else:
                            pool.again(job)
                        continue
                    names.append(f"{browsers_.info.name} {browsers_.info.version}")
                    pool.started(number, job, worker.endpoint)
                    outcome = _validate_target(browsers_, job.target, config, hosts, pool.phase(job), traces)
                    pool.done(number)
                    if job.abandoned:  # given up on while it waited: its browser is no use either
                        return
                    if worker.lost():
                        lost_on = worker.endpoint
                        worker.drop()
                        if endpoints is not None and job.attempts == 0:  # a server that died: once more elsewhere
                            pool.again(_Job(job.index, job.target, 1, lost_on))
                            continue
                    pool.finish(job, outcome)
            finally:
                worker.drop()
    except BaseException as error:  # the run raises it (a browser that will not start is bad input, exit 2)
        pool.fail(error)
