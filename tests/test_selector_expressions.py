"""`selectors.app_ready` and `selectors.app_idle` are JavaScript evaluated in the page: one that does not compile is
bad input found at once, naming the field, instead of costing the whole ready timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from cifcheck.config import ConfigError, Selectors
from cifcheck.session import check_expressions

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("field", ["app_ready", "app_idle"])
def test_a_selectors_expression_that_does_not_compile_ends_the_run_in_seconds_with_exit_2_naming_it(tmp_path, field):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "targets": [
                    {"name": "a", "url": "sandbox://healthy-csw"},
                    {"name": "b", "url": "sandbox://library-missing"},
                ],
                "selectors": {field: "typeof Xrm !== 'undefined' &&"},
                "timeouts": {"ready_ms": 60_000},
            }
        )
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cifcheck", "run", "--config", str(config), "--output", str(tmp_path / "reports")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - started < 20, "not the 60 s ready timeout"
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, line
    assert line.startswith(f"cifcheck: {config}: selectors.{field}: not a valid JavaScript expression (SyntaxError")
    assert not [path for path in (tmp_path / "reports").iterdir()], "no target was judged, no report written"


def test_an_expression_naming_what_the_app_defines_later_is_not_refused(page: Page):
    check_expressions(page, Selectors(app_ready="Xrm.Utility.getGlobalContext() !== null", app_idle="idle()"))


def test_check_expressions_names_the_field_that_does_not_compile(page: Page):
    with pytest.raises(ConfigError, match=r"^selectors\.app_idle: not a valid JavaScript expression \(SyntaxError"):
        check_expressions(page, Selectors(app_idle="UCWorkBlockTracker.isAppIdle("))
