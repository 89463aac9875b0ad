"""The migration's records at scale: a run against an org with 5,000 CIF 2.0 providers (each copied from an active
CIF 1.0 provider, so every pair is compared) against a run against an org with one, in one process and one browser.

Both orgs are sandbox scenarios: `cif1-still-active` (one provider, its CIF 1.0 provider still active) and
`many-providers` (5,000 of each, read in pages of 500). Each run is the whole target: opening the app, watching the
CIF state, reading the page and the records, judging, and writing nothing. Target: the 5,000-provider run takes at
most twice as long as the one-provider run. Prints figures only: medians of `--repeat` runs, taken in turn.

    python bench/records.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from statistics import median

from playwright.sync_api import sync_playwright

from cifcheck.browser import find_browser, launch_options
from cifcheck.config import Config, Target
from cifcheck.runner import run
from cifcheck.sandbox.server import SandboxServer

TARGET_RATIO = 2.0
ONE, MANY = "cif1-still-active", "many-providers"


def _timed(scenario: str, sandbox: SandboxServer, browser: object) -> tuple[float, float, int]:
    """Wall time of one run, the time of its Web API requests, and how many records it read."""
    config = Config(targets=[Target(name=scenario, url=f"sandbox://{scenario}")])
    started = time.monotonic()
    output = run(config, sandbox=sandbox, browser=browser)  # type: ignore[arg-type]
    wall = time.monotonic() - started
    dataverse = output.evidence[0].dataverse
    assert dataverse is not None and not dataverse.errors, dataverse.errors if dataverse else "no records read"
    requests_s = sum(r.duration_ms or 0 for r in dataverse.requests) / 1000
    records = len(dataverse.v1_providers or []) + len(dataverse.v2_providers or [])
    return wall, requests_s, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    times: dict[str, list[tuple[float, float, int]]] = {ONE: [], MANY: []}
    with SandboxServer() as sandbox, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(find_browser(), True))
        _timed(ONE, sandbox, browser)  # warm-up: the browser's first page and the sandbox's first records
        for _ in range(options.repeat):
            for scenario in (ONE, MANY):
                times[scenario].append(_timed(scenario, sandbox, browser))
        browser.close()
    print(f"{'scenario':<20} {'records':>8} {'run (median)':>13} {'Web API requests':>17}")
    for scenario, runs in times.items():
        wall = median(t for t, _, _ in runs)
        requests_s = median(r for _, r, _ in runs)
        print(f"{scenario:<20} {runs[0][2]:>8,} {wall:>11.2f} s {requests_s:>15.2f} s")
    ratio = median(t for t, _, _ in times[MANY]) / median(t for t, _, _ in times[ONE])
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    target = f"{verdict} the target of {TARGET_RATIO:g}"
    print(f"ratio 5,000 / 1 providers: {ratio:.2f} ({target}), {options.repeat} runs each")


if __name__ == "__main__":
    main()
