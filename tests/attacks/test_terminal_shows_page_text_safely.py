"""Page text that is terminal markup or escape sequences (rich markup, ANSI and OSC escapes, C1 controls, bidi
overrides) neither crashes a run nor reaches the terminal as anything but text."""

from __future__ import annotations

import re
from concurrent.futures import Future

import pytest

from tests.attacks.running import Run

pytestmark = pytest.mark.browser

# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides, embeddings and isolates.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def run(runs: dict[str, Future[Run]]) -> Run:
    return runs["terminal"].result()


def test_terminal_markup_and_escapes_in_page_text_neither_crash_the_run_nor_reach_the_terminal(run: Run):
    printed = run.stdout + run.stderr
    assert "Traceback" not in printed, run.stderr[-1500:]
    assert run.returncode in (0, 1, 2)
    assert "report:" in run.stdout  # the verdict line, printed after the table
    controls = sorted({f"U+{ord(character):04X}" for character in CONTROL.findall(printed)})
    assert not controls, f"control characters from the page reached the terminal: {', '.join(controls)}"
