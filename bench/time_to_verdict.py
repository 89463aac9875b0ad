"""Time to verdict against every sandbox scenario, relative to when the sandbox itself was ready.

The sandbox runs with realistic timing (app shell ready after ~2 s, the CIF library ~0.5 s later). For each
scenario, one page load: `verdict` is navigation start to the last verdict; `ready` is navigation start to the
sandbox's own last step (its timeline, or the last response its pages received). Target: verdict / ready
<= 1.25 for every scenario, so a broken org is judged about as fast as a healthy one. Prints figures only.

    python bench/time_to_verdict.py [--app-ready-ms 2000] [--library-delay-ms 500] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import time

from playwright.sync_api import Page, sync_playwright

from cifcheck.browser import find_browser
from cifcheck.checks import run_checks
from cifcheck.config import Config, Target
from cifcheck.evidence import BrowserInfo
from cifcheck.runner import open_target
from cifcheck.sandbox.scenarios import SCENARIOS
from cifcheck.sandbox.server import SandboxServer
from cifcheck.session import gather_on_page

TARGET_RATIO = 1.25

# cifcheck's own Web API reads (probes/dataverse.py) come after the wait; they are not the sandbox's work.
_SANDBOX_READY = r"""() => {
  const own = /\/api\/data\/v9\.2\/(WhoAmI|msdyn_ciproviders|msdyn_channelproviders)/;
  const last = (entries) => Math.max(0, ...entries.filter((e) => !own.test(e.name)).map((e) => e.responseEnd || 0));
  const entries = (type) => performance.getEntriesByType(type);
  let ready = Math.max(last(entries("navigation")), last(entries("resource")));
  if (window.__sandbox) ready = Math.max(ready, ...window.__sandbox.timeline.map((e) => e.at));
  const panel = document.getElementById("SidePanelIFrame");
  try { if (panel) ready = Math.max(ready, last(panel.contentWindow.performance.getEntriesByType("resource"))); }
  catch (e) {}
  return ready;
}"""


def sandbox_ready_ms(page: Page) -> float:
    return page.evaluate(_SANDBOX_READY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-ready-ms", type=int, default=2000)
    parser.add_argument("--library-delay-ms", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=20)
    options = parser.parse_args()
    choice = find_browser()
    rows = []
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
        for scenario in SCENARIOS.values():
            config = Config(targets=[Target(name=scenario.name, url=f"sandbox://{scenario.name}", app=scenario.app)])
            opened, cookies = open_target(config.targets[0], config, sandbox)
            context = browser.new_context()
            context.add_cookies(cookies)
            page = context.new_page()
            started = time.monotonic()
            evidence = gather_on_page(page, opened, config, info)
            run_checks(evidence)
            # Both figures count from navigation start: the page's clock starts there too.
            verdict_ms = (time.monotonic() - started) * 1000 - (evidence.navigation.navigation_start_ms or 0)
            ready_ms = sandbox_ready_ms(page)
            rows.append((scenario.name, verdict_ms, ready_ms))
            context.close()
        browser.close()
    print(
        f"sandbox timing: app ready {options.app_ready_ms} ms, library +{options.library_delay_ms} ms, "
        f"latency {options.latency_ms} ms per response"
    )
    print(f"{'scenario':26} {'verdict ms':>10} {'ready ms':>9} {'after ms':>9} {'ratio':>6}")
    for name, verdict_ms, ready_ms in rows:
        ratio = verdict_ms / ready_ms if ready_ms else float("nan")
        flag = "" if ratio <= TARGET_RATIO else f"  > {TARGET_RATIO}"
        print(f"{name:26} {verdict_ms:10.0f} {ready_ms:9.0f} {verdict_ms - ready_ms:9.0f} {ratio:6.2f}{flag}")
    worst = max(v / r for _, v, r in rows if r)
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
