"""What a page holds cannot make the outputs large: result.json, junit.xml, the HTML and the terminal grow with the
number of checks, not with page sizes (README, "Limits")."""

import json
import time
from pathlib import Path

from cifcheck.checks import judge_target
from cifcheck.evidence import ConsoleEntry, ResourceLoad
from cifcheck.report import write_run
from cifcheck.results import RunResult
from cifcheck.terminal import Terminal
from tests.evidence_factory import PROVIDERS, healthy_evidence, storage

TEN_MB = "label " * 1_750_000


def huge_page_evidence():
    evidence = healthy_evidence()
    evidence.navigation.title = TEN_MB
    evidence.console = [ConsoleEntry(level="error", text="CIF " + TEN_MB) for _ in range(3)]
    evidence.resources = [*(evidence.resources or []), ResourceLoad(url="https://x.example/" + "a" * 10_000_000)]
    # Under the storage cap (4,000,000 characters, kept for the checks): larger would only cost the test time.
    evidence.storage = storage(channelProviders=json.dumps([{**PROVIDERS[0], "label": "label " * 100_000}]))
    assert evidence.panel is not None
    evidence.panel.widgets[0].title = TEN_MB
    return evidence


def judged(evidence) -> RunResult:
    targets = [judge_target(evidence)]
    return RunResult(run_id="20261201-120000-000", cifcheck_version="0", started_at="", duration_ms=1, targets=targets)


def test_ten_megabyte_page_strings_leave_every_written_file_small(tmp_path: Path):
    started = time.monotonic()
    evidence = huge_page_evidence()
    result = judged(evidence)
    run_dir = write_run(result, [evidence], tmp_path)
    sizes = {path.name: path.stat().st_size for path in run_dir.rglob("*") if path.is_file()}
    assert sizes["result.json"] < 200_000 and sizes["junit.xml"] < 200_000, sizes
    assert sizes["index.html"] < 600_000, sizes  # the raw evidence section is cut at 500,000 characters
    assert sizes["contoso.json"] < 1_000_000, sizes
    assert time.monotonic() - started < 60


def test_ten_megabyte_page_strings_leave_the_terminal_output_small(capsys):
    evidence = huge_page_evidence()
    result = judged(evidence)
    Terminal().summary(result, Path("reports"))
    assert len(capsys.readouterr().out) < 20_000
