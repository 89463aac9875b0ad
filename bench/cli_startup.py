"""How fast `cifcheck --help` answers (target: under 0.5 s). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15


def main() -> None:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cifcheck", "--help"], check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        f"cifcheck --help over {RUNS} runs: median {statistics.median(timings) * 1000:.0f} ms, "
        f"fastest {timings[0] * 1000:.0f} ms, slowest {timings[-1] * 1000:.0f} ms (target < 500 ms)"
    )


if __name__ == "__main__":
    main()
