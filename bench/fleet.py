"""A fleet of targets: wall time and peak memory of the whole process tree, one target at a time, with workers, and
on two local Playwright browser servers.

Each target is a sandbox org with a realistic timeline: the app ready about 2 s after it starts loading, every
response 100 ms late (`SandboxServer(latency_ms=100, app_ready_ms=2000)`), healthy (Customer Service workspace and
Omnichannel by turns), so that every target waits out the same settle window a healthy real org gets. A run is the
runner's whole run (cifcheck's own sandbox, browsers, judging) in this process; nothing is written.

Memory is sampled every 100 ms over this process and every process under it (Playwright's drivers, every browser
process), plus the browser servers and theirs: the sum of PSS (each shared page counted once, split between its
sharers; RSS would count a browser's shared libraries once per process), and the sum of RSS beside it.
Targets: 16 targets within twice one target's wall time; 64 targets within 2 GiB for the whole tree. Prints
figures only.

    python bench/fleet.py [--sizes 1,4,16,64] [--modes sequential,workers,servers] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright._impl._driver import compute_driver_executable

from cifcheck.browser import find_browser
from cifcheck.config import Config, Target
from cifcheck.runner import default_workers, run
from cifcheck.sandbox.server import SandboxServer

SCENARIOS = ("healthy-csw", "healthy-omnichannel")
APPS = {"healthy-csw": "msdyn_CustomerServiceWorkspace", "healthy-omnichannel": "OmniChannelEngagementHub"}
GIB = 1024**3


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree(roots: list[int]) -> list[int]:
    children, found, todo = _children(), [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in bytes; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in text.splitlines()[1:] if line.split()}
    return values.get("Pss", 0), values.get("Rss", 0)


class PeakMemory:
    """The highest sum of PSS (and of RSS) over the process trees of `roots` while it runs."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.pss = self.rss = self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            pids = _tree(self.roots)
            pss_rss = [_memory(pid) for pid in pids]
            pss, rss = sum(p for p, _ in pss_rss), sum(r for _, r in pss_rss)
            if pss > self.pss:
                self.pss, self.rss, self.processes = pss, rss, len(pids)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def browser_servers(count: int) -> Iterator[list[subprocess.Popen]]:
    """`playwright run-server` processes on this machine, with --unsafe: Playwright's own Chromium may not be
    installed, so the client names the system's (browser.executable_path), which a server takes only then."""
    node, cli = compute_driver_executable()
    servers = [
        subprocess.Popen(
            [node, cli, "run-server", "--port", "0", "--host", "127.0.0.1", "--unsafe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield servers
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _config(size: int, **browser: object) -> Config:
    targets = [
        Target(name=f"org-{n:03}", url=f"sandbox://{SCENARIOS[n % 2]}", app=APPS[SCENARIOS[n % 2]]) for n in range(size)
    ]
    return Config(targets=targets, browser=browser)


def _measure(config: Config, sandbox: SandboxServer, workers: int, extra_roots: list[int]) -> tuple[float, PeakMemory]:
    with PeakMemory([os.getpid(), *extra_roots]) as peak:
        started = time.monotonic()
        output = run(config, sandbox=sandbox, workers=workers)
        wall = time.monotonic() - started
    statuses = {t.status for t in output.result.targets}
    assert statuses <= {"pass", "warn", "skip"}, f"a healthy target did not pass: {statuses}"
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16,64")
    parser.add_argument("--modes", default="sequential,workers,servers")
    parser.add_argument("--workers", type=int, default=None, help="default: what `cifcheck run` would take")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    modes = options.modes.split(",")
    print(f"{os.cpu_count()} CPUs; targets: {', '.join(SCENARIOS)}; app ready 2 s, 100 ms per response")
    print(f"{'mode':<12} {'targets':>7} {'workers':>7} {'wall':>8} {'per target':>10} {'peak PSS':>9} {'peak RSS':>9}")
    walls: dict[tuple[str, int], float] = {}
    peaks: dict[tuple[str, int], int] = {}
    with SandboxServer(latency_ms=100, app_ready_ms=2_000) as sandbox:
        run(_config(1), sandbox=sandbox, workers=1)  # warm-up: the first browser start and the sandbox's first pages
        for mode in modes:
            for size in sizes:
                if mode == "sequential" and size > 16:
                    continue  # minutes, and no news: one target at a time scales linearly
                if mode == "servers":
                    with browser_servers(2) as servers:
                        urls = [server.stdout.readline().split()[-1] for server in servers if server.stdout]
                        config = _config(size, endpoints=urls, executable_path=find_browser().executable_path)
                        workers = options.workers or default_workers(config)
                        wall, peak = _measure(config, sandbox, workers, [server.pid for server in servers])
                else:
                    config = _config(size)
                    workers = 1 if mode == "sequential" else options.workers or default_workers(config)
                    wall, peak = _measure(config, sandbox, workers, [])
                walls[(mode, size)] = wall
                peaks[(mode, size)] = peak.pss
                print(
                    f"{mode:<12} {size:>7} {workers:>7} {wall:>6.1f} s {wall / size:>8.2f} s "
                    f"{peak.pss / GIB:>7.2f} G {peak.rss / GIB:>7.2f} G",
                    flush=True,
                )
    one = walls.get(("sequential", 1))
    for mode in ("workers", "servers"):
        if one and (mode, 16) in walls:
            ratio = walls[(mode, 16)] / one
            print(
                f"{mode}: 16 targets take {ratio:.2f} times one target's wall time (target: at most 2): "
                f"{'within' if ratio <= 2 else 'OVER'}"
            )

    for (mode, size), pss in peaks.items():
        if size == 64:
            verdict = "within" if pss <= 2 * GIB else "OVER"
            print(f"{mode}: 64 targets peak at {pss / GIB:.2f} GiB PSS for the whole tree (target: 2 GiB): {verdict}")


if __name__ == "__main__":
    main()
