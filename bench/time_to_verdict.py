"""Time to verdict against the org's own timeline, for every sandbox scenario under every timing profile.

cifcheck judges the state an org settles into (README, "How long a run waits"): a verdict on a complete, healthy
state comes `observe_ms` after the org's last CIF change; a verdict on an absent signal comes `absence_ms` after
the app is idle (or `observe_ms` after the last change, whichever is later). So the physical limit of a case is:

    every signal:   settled + observe_ms
    absence window: max(idle + absence_ms, settled + observe_ms)

where `settled` is the org's own last CIF change (the sandbox app's timeline, and the last response its pages and
the panel's frames received) and `idle` the moment its app reported idle (UCWorkBlockTracker) or, if later, its last
script arrived (cifcheck's absence window waits out the app's own loading too), all on the page's
clock from the browser's navigation start, as is `verdict` (when cifcheck had judged). The ratio is verdict /
limit; target <= 1.10. Prints figures only: medians of `--repeat` loads, cases run `--workers` at a time (each with
its own browser; more workers load the machine, which slows the org and cifcheck alike).

    python bench/time_to_verdict.py [--timing NAME ...] [--scenario NAME ...] [--repeat 1] [--workers 3]
        [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from statistics import median

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck.browser import find_browser, launch_options
from cifcheck.checks import run_checks
from cifcheck.config import Config, Target
from cifcheck.evidence import BrowserInfo
from cifcheck.runner import open_target
from cifcheck.sandbox.host import RunningSandbox
from cifcheck.sandbox.scenarios import SCENARIOS, TIMINGS
from cifcheck.sandbox.server import SandboxServer
from cifcheck.session import gather_on_page

TARGET_RATIO = 1.10

# The org's own last CIF change, in one frame, as an absolute time (epoch ms): the last response the frame received
# and, in the top frame, the sandbox app's own timeline. Not the org's: cifcheck's own Web API reads after the wait,
# and the favicon.
_LAST_CHANGE_IN_FRAME = r"""() => {
  const notTheOrgs = /\/api\/data\/v9\.2\/(WhoAmI|msdyn_ciproviders|msdyn_channelproviders)|\/favicon\.ico$/;
  const ends = [
    ...performance.getEntriesByType("navigation").map((e) => e.responseEnd || 0),
    ...performance.getEntriesByType("resource").filter((e) => !notTheOrgs.test(e.name)).map((e) => e.responseEnd || 0),
    ...(window.__sandbox ? window.__sandbox.timeline.map((e) => e.at) : []),
  ];
  const idle = window.__sandbox ? window.__sandbox.timeline.find((e) => e.event === "app-idle") : undefined;
  // The app's own loading: its last script or document, which cifcheck's absence window waits out too.
  const loads = performance.getEntriesByType("resource")
    .filter((e) => e.initiatorType === "script" && !notTheOrgs.test(e.name));
  return { last: performance.timeOrigin + Math.max(0, ...ends), idle: idle ? performance.timeOrigin + idle.at : null,
           loaded: Math.max(0, ...loads.map((e) => e.responseEnd || 0)), origin: performance.timeOrigin };
}"""


def org_timeline(page: Page) -> dict:
    """The org's last change and idle moment over every frame (provider frames too), on the top page's clock."""
    top = page.evaluate(_LAST_CHANGE_IN_FRAME)
    last = top["last"]
    for frame in page.frames[1:]:
        with contextlib.suppress(PlaywrightError):  # a frame that is gone, or an error page
            last = max(last, frame.evaluate(_LAST_CHANGE_IN_FRAME)["last"])
    idle = top["idle"] - top["origin"] if top["idle"] else None
    # Absence counts from the later of the two (README, "How long a run waits").
    quiet = max(idle, top["loaded"]) if idle is not None else None
    return {"settled": last - top["origin"], "idle": quiet, "origin": top["origin"]}


@dataclass(frozen=True)
class Load:
    verdict_ms: float
    settled_ms: float
    idle_ms: float | None
    ended_by: str
    observe_ms: int
    absence_ms: int

    @property
    def window_ms(self) -> int:
        """The window the verdict waited for: absence_ms after idle for an absent signal, else observe_ms."""
        return self.absence_ms if self.ended_by == "absence window" else self.observe_ms

    @property
    def limit_ms(self) -> float:
        """The earliest moment a verdict can honestly come."""
        after_last_change = self.settled_ms + self.observe_ms
        if self.ended_by != "absence window":
            return after_last_change
        return max((self.idle_ms or 0) + self.absence_ms, after_last_change)

    @property
    def ratio(self) -> float:
        return self.verdict_ms / self.limit_ms if self.limit_ms else float("nan")


def measure(browser: Browser, sandbox: SandboxServer, name: str, timing: str, info: BrowserInfo) -> Load:
    """One page load of `name` under `timing` in a fresh context, judged as `cifcheck run` does."""
    scenario = SCENARIOS[name]
    config = Config(targets=[Target(name=name, url=f"sandbox://{name}", app=scenario.app)], sandbox={"timing": timing})
    opened, cookies = open_target(config.targets[0], config, {"sandbox": RunningSandbox(sandbox)})
    context = browser.new_context()
    try:
        context.add_cookies(cookies)
        page = context.new_page()
        evidence = gather_on_page(page, opened, config, info)
        run_checks(evidence)
        verdict_epoch_ms = time.time() * 1000
        with contextlib.suppress(PlaywrightError):
            page.wait_for_load_state("load", timeout=10_000)
        org = org_timeline(page)
        observed = evidence.observation
        ended_by = observed.settled_by if observed else "no app"
        timeouts = config.timeouts
        return Load(
            verdict_epoch_ms - org["origin"],
            org["settled"],
            org["idle"],
            ended_by,
            timeouts.observe_ms,
            timeouts.absence_ms,
        )
    finally:
        context.close()


def _worker(cases: queue.Queue, loads: dict, sandbox: SandboxServer) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(find_browser(), True))
        info = BrowserInfo(name="chromium", version=browser.version)
        while True:
            try:
                name, timing = cases.get_nowait()
            except queue.Empty:
                break
            loads.setdefault((name, timing), []).append(measure(browser, sandbox, name, timing, info))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timing", action="append", choices=list(TIMINGS), help="repeatable; default: all")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="repeatable; default: all")
    parser.add_argument("--repeat", type=int, default=1, help="page loads per case")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every sandbox response")
    options = parser.parse_args()
    timings = options.timing or list(TIMINGS)
    names = options.scenario or list(SCENARIOS)
    cases: queue.Queue = queue.Queue()
    for _ in range(options.repeat):
        for timing in timings:
            for name in names:
                cases.put((name, timing))
    loads: dict[tuple[str, str], list[Load]] = {}
    with SandboxServer(latency_ms=options.latency_ms) as sandbox:
        workers = [
            threading.Thread(target=_worker, args=(cases, loads, sandbox), daemon=True) for _ in range(options.workers)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    config = Config(targets=[Target(name="t", url="sandbox://healthy-csw")])
    print(
        f"windows: observe_ms {config.timeouts.observe_ms}, absence_ms {config.timeouts.absence_ms}; "
        f"latency {options.latency_ms} ms; {options.repeat} load(s) per case, {options.workers} workers; "
        "medians in ms on the page's clock"
    )
    columns = ("verdict", "settled", "idle", "window", "limit", "ratio")
    print(f"{'scenario':26}{'timing':18}{'ended by':16}" + "".join(f"{column:>9}" for column in columns))
    ratios = []
    for timing in timings:
        for name in names:
            runs = loads.get((name, timing), [])
            if not runs:
                continue
            ended_by = max({run.ended_by for run in runs}, key=[run.ended_by for run in runs].count)
            idle = [run.idle_ms for run in runs if run.idle_ms is not None]
            figures = (
                median(run.verdict_ms for run in runs),
                median(run.settled_ms for run in runs),
                median(idle) if idle else float("nan"),
                median(run.window_ms for run in runs),
                median(run.limit_ms for run in runs),
            )
            ratio = median(run.ratio for run in runs)
            if ended_by in ("every signal", "absence window"):
                ratios.append(ratio)
            flag = "" if ratio <= TARGET_RATIO or ended_by not in ("every signal", "absence window") else " >"
            row = "".join(f"{value:9.0f}" for value in figures) + f"{ratio:9.2f}{flag}"
            print(f"{name:26}{timing:18}{ended_by:16}{row}")
    if ratios:
        print(
            f"worst ratio {max(ratios):.2f}, median {median(ratios):.2f} over {len(ratios)} cases "
            f"(target <= {TARGET_RATIO}; sign-in and error cases end before any window and are not rated)"
        )


if __name__ == "__main__":
    main()
