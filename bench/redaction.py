"""How fast redaction is on page text of different shapes, and that it grows linearly with the text.

Prints, per shape, the time for 100 kB and for 1 MB and their ratio (10 means linear; a much larger ratio means
a pattern that backtracks). Figures only; nothing is asserted.

    python bench/redaction.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cifcheck.redact import redact_text, register_cookie_values, register_secret

PROVIDER = {
    "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "name": "contoso_provider",
    "label": "Contoso Phone",
    "landingUrl": "https://widget.contoso.example/softphone?queue=q1&uci=true",
    "sortOrder": 1,
    "apiVersion": "2.0",
    "customParams": json.dumps({"queue": "q1", "token": "abc"}),
}
SHAPES = {
    "prose": "The CIF library loaded and the panel docked. ",
    "channelProviders JSON": json.dumps(PROVIDER) + ",",
    "query pairs": "token=abc&queue=q1&",
    "URLs in text": "see https://x.example/a?b=c&d=e ",
    "colon pairs (a:a:)": "a:",
    "dotted words (a.a.)": "a.",
    "base64 blobs": "aB3xY9kLm2Qw7Rt5Zp8Vn4Hc ",
    "brackets ([[[[)": "[",
}


def timed(text: str) -> float:
    if text.startswith("{"):  # records: one JSON array of them, as session storage holds a profile
        text = "[" + text.rstrip(",") + "]"
    started = time.perf_counter()
    redact_text(text)
    return time.perf_counter() - started


def main() -> None:
    register_secret("Zq9 unusual Pa55")
    register_cookie_values([f"cookie-value-{i:04d}-xxxxxxxx" for i in range(30)])  # an org's ~30 cookies
    print(f"{'shape':24} {'100 kB':>9} {'1 MB':>9} {'ratio':>6} {'MB/s':>6}")
    for name, unit in SHAPES.items():
        small = unit * (100_000 // len(unit))
        large = unit * (1_000_000 // len(unit))
        t_small, t_large = timed(small), timed(large)
        print(f"{name:24} {t_small:8.3f}s {t_large:8.3f}s {t_large / t_small:6.1f} {1 / t_large:6.1f}")


if __name__ == "__main__":
    main()
