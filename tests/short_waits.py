"""Short watch windows for browser tests whose subject is not how long cifcheck waits (a command's output, its
config, its reports, a session): the sandbox's own timeline settles at once, so a target gets the verdicts of the
default windows (3 s unchanged, 10 s for an absent signal) seconds sooner. tests/test_scenarios_end_to_end.py
judges every scenario with the defaults, under every timing profile."""

from __future__ import annotations

import json
from pathlib import Path

SHORT_WAITS = {"observe_ms": 1_000, "absence_ms": 2_000}


def short_config(path: Path, targets: list[dict] | None = None) -> Path:
    """A config file at `path`: `targets` (the bundled default's sandbox target unless given), short windows."""
    targets = targets or [{"name": "sandbox-csw", "url": "sandbox://healthy-csw"}]
    path.write_text(json.dumps({"targets": targets, "timeouts": SHORT_WAITS}), encoding="utf-8")
    return path
