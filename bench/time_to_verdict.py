"""Time to verdict against every sandbox scenario, relative to when the sandbox itself was ready.

The sandbox runs with realistic timing (app shell ready after ~2 s, the CIF library ~0.5 s later). For each
scenario, `--repeat` page loads, each in a fresh context. Both main figures count on the page's clock, from
the browser's navigation start: `verdict` to the last verdict; `ready` to the sandbox's own last step: its app's
timeline, the last response received by the page and by the panel frame, or their load events, whichever is
latest. `bytes` leaves the load events out (when the last byte arrived). Neither figure counts `setup` (cifcheck
installing its recorders and scripts in the fresh page) or `goto` (the browser starting to navigate after cifcheck
asked); both are shown. Target: verdict / ready <= 1.25 for every scenario, so a broken org is judged about as
fast as a healthy one. Prints figures only: medians per scenario, the worst single load, and, as `first`,
roughly the ratio as this benchmark first measured it: (goto + verdict) / bytes.

    python bench/time_to_verdict.py [--app-ready-ms 2000] [--library-delay-ms 500] [--latency-ms 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass, fields
from statistics import median

from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck.browser import find_browser
from cifcheck.checks import run_checks
from cifcheck.config import Config, Target
from cifcheck.evidence import BrowserInfo
from cifcheck.runner import open_target
from cifcheck.sandbox.scenarios import SCENARIOS, Scenario
from cifcheck.sandbox.server import SandboxServer
from cifcheck.session import gather_on_page

TARGET_RATIO = 1.25

# When the sandbox's pages were ready, on the main page's clock: the later of each document's load event, the
# last response it received, and the sandbox app's own timeline. The load event counts because a page that has
# its bytes is not up yet: the browser still parses and shows it (for a sign-in page, that is all its work).
# Not the sandbox's work: cifcheck's own Web API reads (probes/dataverse.py), which come after the wait, and the
# favicon the browser asks for once a page has loaded.
_SANDBOX_READY = r"""() => {
  const notTheSandboxs = /\/api\/data\/v9\.2\/(WhoAmI|msdyn_ciproviders|msdyn_channelproviders)|\/favicon\.ico$/;
  const readyIn = (win, withLoad) => {
    const perf = win.performance;
    const ends = [
      ...perf.getEntriesByType("navigation").map((e) => Math.max(e.responseEnd || 0, withLoad ? e.loadEventEnd : 0)),
      ...perf.getEntriesByType("resource").filter((e) => !notTheSandboxs.test(e.name)).map((e) => e.responseEnd || 0),
      ...(win.__sandbox ? win.__sandbox.timeline.map((e) => e.at) : []),
    ];
    // A frame's clock starts at its own navigation: move its times onto the main page's clock.
    return Math.max(0, ...ends) + (perf.timeOrigin - performance.timeOrigin);
  };
  const ready = (withLoad) => {
    let at = readyIn(window, withLoad);
    const panel = document.getElementById("SidePanelIFrame");
    try { if (panel) at = Math.max(at, readyIn(panel.contentWindow, withLoad)); } catch (e) {}
    return at;
  };
  return { ready: ready(true), bytes: ready(false), origin: performance.timeOrigin };
}"""


@dataclass(frozen=True)
class Load:
    verdict_ms: float
    ready_ms: float
    bytes_ms: float
    setup_ms: float
    goto_ms: float

    @property
    def ratio(self) -> float:
        return self.verdict_ms / self.ready_ms if self.ready_ms else float("nan")


def measure(browser: Browser, sandbox: SandboxServer, scenario: Scenario, info: BrowserInfo) -> Load:
    """One page load of `scenario` in a fresh context, judged as `cifcheck run` does."""
    config = Config(targets=[Target(name=scenario.name, url=f"sandbox://{scenario.name}", app=scenario.app)])
    opened, cookies = open_target(config.targets[0], config, sandbox)
    context = browser.new_context()
    try:
        context.add_cookies(cookies)
        page = context.new_page()
        started_epoch_ms = time.time() * 1000
        evidence = gather_on_page(page, opened, config, info)
        run_checks(evidence)
        verdict_epoch_ms = time.time() * 1000
        # The sandbox's pages finish loading whether or not cifcheck has decided already (a page that never does
        # counts as ready when its last byte arrived).
        with contextlib.suppress(PlaywrightError):
            page.wait_for_load_state("load", timeout=10_000)
        sandbox_ready = page.evaluate(_SANDBOX_READY)
        origin = sandbox_ready["origin"]  # the page's clock, in the same epoch milliseconds as time.time()
        setup_ms = evidence.navigation.navigation_start_ms or 0
        return Load(
            verdict_ms=verdict_epoch_ms - origin,
            ready_ms=sandbox_ready["ready"],
            bytes_ms=sandbox_ready["bytes"],
            setup_ms=setup_ms,
            goto_ms=origin - (started_epoch_ms + setup_ms),
        )
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-ready-ms", type=int, default=2000)
    parser.add_argument("--library-delay-ms", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="page loads per scenario")
    options = parser.parse_args()
    choice = find_browser()
    loads: dict[str, list[Load]] = {}
    with (
        SandboxServer(
            latency_ms=options.latency_ms, app_ready_ms=options.app_ready_ms, library_delay_ms=options.library_delay_ms
        ) as sandbox,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=choice.executable_path, channel=choice.channel, args=list(choice.args)
        )
        info = BrowserInfo(name="chromium", version=browser.version)
        for _ in range(options.repeat):  # round by round, so a slow moment of the machine hits every scenario alike
            for scenario in SCENARIOS.values():
                loads.setdefault(scenario.name, []).append(measure(browser, sandbox, scenario, info))
        browser.close()
    print(
        f"sandbox timing: app ready {options.app_ready_ms} ms, library +{options.library_delay_ms} ms, "
        f"latency {options.latency_ms} ms per response; {options.repeat} loads per scenario, medians in ms"
    )
    columns = ("verdict", "ready", "bytes", "setup", "goto", "after", "ratio", "worst", "first")
    print(f"{'scenario':26}" + "".join(f"{column:>8}" for column in columns))
    for name, runs in loads.items():
        verdict, ready, bytes_, setup, goto = (
            median(getattr(run, field.name) for run in runs) for field in fields(Load)
        )
        after = median(run.verdict_ms - run.ready_ms for run in runs)
        ratio, worst = median(run.ratio for run in runs), max(run.ratio for run in runs)
        first = median((run.goto_ms + run.verdict_ms) / run.bytes_ms for run in runs if run.bytes_ms)
        flag = "" if ratio <= TARGET_RATIO else f"  > {TARGET_RATIO}"
        figures = "".join(f"{value:8.0f}" for value in (verdict, ready, bytes_, setup, goto, after))
        print(f"{name:26}{figures}" + "".join(f"{value:8.2f}" for value in (ratio, worst, first)) + flag)
    medians = [median(run.ratio for run in runs) for runs in loads.values()]
    every = [run.ratio for runs in loads.values() for run in runs]
    print(f"worst median ratio {max(medians):.2f}, worst single load {max(every):.2f} (target <= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
