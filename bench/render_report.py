"""How long rendering a 500-target run takes (target: under 2 s): HTML, result.json and junit.xml.

Each target carries realistic evidence: every check's details and a panel screenshot. Prints figures only.
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cifcheck.checks import judge_target
from cifcheck.report import write_run
from cifcheck.report.html import render_html
from cifcheck.report.junit import render_junit
from cifcheck.results import RunResult
from tests.evidence_factory import healthy_evidence

TARGETS = 500
# A panel screenshot of realistic size (~40 KB of PNG).
SCREENSHOT = base64.b64encode(b"\x89PNG" + bytes(40_000)).decode()


def build() -> tuple[RunResult, list]:
    evidence = []
    for index in range(TARGETS):
        item = healthy_evidence()
        item.target.name = f"org-{index:03d}"
        item.panel.screenshot_png_base64 = SCREENSHOT
        if index % 3 == 0:
            item.panel.xrm_state = 2
        evidence.append(item)
    result = RunResult(
        run_id="20261125-120000-000",
        cifcheck_version="bench",
        started_at="now",
        duration_ms=1,
        targets=[judge_target(item) for item in evidence],
    )
    return result, evidence


def timed(action, repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    result, evidence = build()
    html_s = timed(lambda: render_html(result, evidence))
    junit_s = timed(lambda: render_junit(result))
    json_s = timed(lambda: result.model_dump_json(indent=2))
    with tempfile.TemporaryDirectory() as folder:
        everything_s = timed(lambda: write_run(result, evidence, Path(folder) / str(time.perf_counter_ns())), repeat=1)
    size = len(render_html(result, evidence).encode()) / 1_000_000
    print(
        f"{TARGETS} targets x {len(result.targets[0].checks)} checks, screenshot of {len(SCREENSHOT) // 1000} KB each"
    )
    print(f"HTML render     {html_s:6.2f} s  ({size:.0f} MB)  target < 2 s")
    print(f"junit.xml       {junit_s:6.2f} s")
    print(f"result.json     {json_s:6.2f} s")
    print(f"whole write_run {everything_s:6.2f} s  (redaction, evidence files, HTML, JUnit, history)")


if __name__ == "__main__":
    main()
