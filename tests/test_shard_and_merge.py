"""CI fan-out: `cifcheck run --shard i/n` splits the selected targets, `cifcheck merge` puts the shards' runs back
together as the one run they would have been, and refuses, in one line, what cannot be one honest report."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from junitparser import JUnitXml

import cifcheck.runner
from cifcheck.checks import judge_target
from cifcheck.cli import cli
from cifcheck.report import write_run
from cifcheck.report.history import render_history
from cifcheck.results import RunResult, not_run_target
from cifcheck.shard import Shard, interleaved, parse_shard, shard_of
from tests.evidence_factory import healthy_evidence
from tests.report.html_tree import parse

# The split: a pure function of the config order.


@pytest.mark.parametrize("total", [0, 1, 4, 7, 10])
@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_target_is_in_exactly_one_shard(total: int, count: int):
    targets = list(range(total))
    taken = [item for index in range(1, count + 1) for item in shard_of(targets, Shard(index, count))]
    assert sorted(taken) == targets


@pytest.mark.parametrize(("total", "count"), [(7, 3), (10, 4), (2, 4), (1000, 7)])
def test_shards_differ_in_size_by_one_target_at_most(total: int, count: int):
    sizes = [len(shard_of(range(total), Shard(index, count))) for index in range(1, count + 1)]
    assert max(sizes) - min(sizes) <= 1


def test_shard_i_of_n_takes_every_nth_target_from_the_ith():
    targets = ["a", "b", "c", "d", "e", "f", "g"]
    assert [shard_of(targets, Shard(index, 3)) for index in (1, 2, 3)] == [["a", "d", "g"], ["b", "e"], ["c", "f"]]


def test_the_split_depends_only_on_the_order_given():
    targets = [f"org-{n}" for n in range(50)]
    assert shard_of(targets, parse_shard("2/4")) == shard_of(list(targets), parse_shard("2/4"))
    assert shard_of(targets, Shard(2, 4)) == targets[1::4]


def test_interleaving_every_shard_gives_back_the_config_order():
    targets = list(range(11))
    assert interleaved([shard_of(targets, Shard(index, 4)) for index in range(1, 5)]) == targets


def test_interleaving_with_a_shard_left_out_keeps_the_others_in_config_order():
    targets = list(range(11))
    parts = [shard_of(targets, Shard(index, 4)) for index in (1, 2, 4)]
    assert interleaved(parts) == [n for n in targets if n % 4 != 2]


def test_a_shard_written_with_leading_zeros_is_recorded_plainly():
    assert str(parse_shard("01/04")) == "1/4"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_line_on_stderr(done: Result) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.output, done.output
    return lines[0]


@pytest.mark.parametrize("value", ["0/2", "3/2", "a/b", "1/0", "1/", "-1/2", "1/2/3", "²/3"])
def test_a_bad_shard_is_one_line_naming_shard_and_exit_2(value: str, tmp_path):
    done = invoke("run", "--scenario", "healthy-csw", "--shard", value, "--output", str(tmp_path))
    assert done.exit_code == 2
    assert one_line_on_stderr(done).startswith("cifcheck: --shard: ")


# Runs built without a browser, written as `cifcheck run` writes them.

START = "2026-12-01T02:00:00+00:00"


def written_run(
    reports: Path,
    run_id: str,
    *names: str,
    shard: str | None = None,
    started_at: str = START,
    duration_ms: float = 1000,
    browser: str = "chromium 156",
    interrupted: bool = False,
    not_run: tuple[str, ...] = (),
) -> Path:
    """A run folder in `reports` with a healthy target per name (a target named `broken-*` has a hidden panel)."""
    evidence = []
    for name in names:
        item = healthy_evidence()
        item.target.name = name
        if name.startswith("broken"):
            item.panel.xrm_state = 2
        evidence.append(item)
    targets = [judge_target(item) for item in evidence]
    targets += [
        not_run_target(name, "sandbox://healthy-csw", "app", [("panel.docked", "Panel docked")]) for name in not_run
    ]
    result = RunResult(
        run_id=run_id,
        cifcheck_version="0.1.0",
        started_at=started_at,
        duration_ms=duration_ms,
        browser=browser,
        targets=targets,
        shard=shard,
        interrupted=interrupted,
    )
    return write_run(result, evidence, reports)


def merged(done: Result, reports: Path) -> dict:
    assert done.exit_code in (0, 1, 2, 130), done.output
    return json.loads((reports / "latest" / "result.json").read_text())


def test_merge_refuses_a_folder_without_result_json(tmp_path):
    (tmp_path / "empty").mkdir()
    done = invoke("merge", str(tmp_path / "empty"), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert one_line_on_stderr(done).startswith(f"cifcheck: {tmp_path / 'empty'}: no result.json")


def test_merge_refuses_a_result_json_that_is_not_json_naming_the_file(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    (folder / "result.json").write_text("{not json")
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert one_line_on_stderr(done).startswith(f"cifcheck: {folder / 'result.json'}: not valid JSON")


def test_merge_refuses_a_result_json_of_the_wrong_shape_naming_the_file_and_field(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    document = json.loads((folder / "result.json").read_text())
    del document["targets"]
    (folder / "result.json").write_text(json.dumps(document))
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert (
        one_line_on_stderr(done)
        == f"cifcheck: {folder / 'result.json'}: not a result.json cifcheck writes: targets: missing"
    )
    assert done.exit_code == 2


def test_merge_refuses_a_target_in_two_inputs_naming_it(tmp_path):
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", "fabrikam")
    second = written_run(tmp_path / "b", "20261201-020000-000", "fabrikam")
    done = invoke("merge", str(first), str(second), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "target 'fabrikam' is in both" in one_line_on_stderr(done)
    assert not (tmp_path / "out" / "latest").exists()


def test_merge_refuses_shards_of_different_splits(tmp_path):
    half = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2")
    third = written_run(tmp_path / "b", "20261201-020000-000", "fabrikam", shard="2/3")
    done = invoke("merge", str(half), str(third), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    line = one_line_on_stderr(done)
    assert "shard 2/3" in line and "shard 1/2" in line and "different shard counts" in line


def test_merge_refuses_a_missing_shard_naming_it(tmp_path):
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/3")
    third = written_run(tmp_path / "c", "20261201-020000-000", "fabrikam", shard="3/3")
    done = invoke("merge", str(first), str(third), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert one_line_on_stderr(done).startswith("cifcheck: shard 2/3 missing")


def test_merge_refuses_the_same_shard_twice(tmp_path):
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2")
    again = written_run(tmp_path / "b", "20261201-020000-000", "fabrikam", shard="1/2")
    done = invoke("merge", str(first), str(again), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert one_line_on_stderr(done).startswith("cifcheck: shard 1/2 given twice")


def test_merge_refuses_a_whole_run_beside_shards(tmp_path):
    shard = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/1")
    whole = written_run(tmp_path / "b", "20261201-020000-000", "fabrikam")
    done = invoke("merge", str(shard), str(whole), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "a whole run, not a shard" in one_line_on_stderr(done)


def test_merge_refuses_a_run_whose_evidence_file_is_gone_naming_it(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    (folder / "evidence" / "contoso.json").unlink()
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert str(folder / "evidence" / "contoso.json") in one_line_on_stderr(done)


def test_merge_refuses_a_target_name_that_is_a_path(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    document = json.loads((folder / "result.json").read_text())
    document["targets"][0]["target"] = "../../contoso"
    (folder / "result.json").write_text(json.dumps(document))
    done = invoke("merge", str(folder), "--output", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "targets[0].target" in one_line_on_stderr(done)


def test_an_interrupted_shard_makes_the_merged_run_interrupted_exit_130(tmp_path):
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2")
    stopped = written_run(
        tmp_path / "b", "20261201-020000-000", "fabrikam", shard="2/2", interrupted=True, not_run=("tailspin",)
    )
    done = invoke("merge", str(first), str(stopped), "--output", str(tmp_path / "out"))
    result = merged(done, tmp_path / "out")
    assert done.exit_code == 130
    assert result["interrupted"] is True
    assert [(t["target"], t["not_run"]) for t in result["targets"]] == [
        ("contoso", False),
        ("fabrikam", False),
        ("tailspin", True),
    ]


def test_the_merged_run_starts_with_the_first_shard_and_lasts_until_the_last_ends(tmp_path):
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2", started_at=START)
    second = written_run(
        tmp_path / "b",
        "20261201-020000-000",
        "fabrikam",
        shard="2/2",
        started_at="2026-12-01T02:00:30+00:00",
        duration_ms=60_000,
        browser="chromium 157",
    )
    result = merged(invoke("merge", str(second), str(first), "--output", str(tmp_path / "out")), tmp_path / "out")
    assert result["started_at"] == START
    assert result["duration_ms"] == 90_000
    assert result["browser"] == "chromium 156 / chromium 157"
    assert result["shard"] is None


def test_merge_keeps_each_verdict_as_recorded(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    document = json.loads((folder / "result.json").read_text())
    document["targets"][0]["checks"][0].update(status="warn", reason="as recorded")
    (folder / "result.json").write_text(json.dumps(document))
    result = merged(invoke("merge", str(folder), "--output", str(tmp_path / "out")), tmp_path / "out")
    assert (result["targets"][0]["checks"][0]["status"], result["targets"][0]["checks"][0]["reason"]) == (
        "warn",
        "as recorded",
    )


def test_merge_exits_1_on_a_failure_and_follows_fail_on(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "broken-contoso")
    assert invoke("merge", str(folder), "--output", str(tmp_path / "out")).exit_code == 1
    warned = written_run(tmp_path / "b", "20261201-020000-000", "contoso")
    document = json.loads((warned / "result.json").read_text())
    document["targets"][0]["checks"][0]["status"] = "warn"
    (warned / "result.json").write_text(json.dumps(document))
    assert invoke("merge", str(warned), "--output", str(tmp_path / "out")).exit_code == 0
    assert invoke("merge", str(warned), "--output", str(tmp_path / "out"), "--fail-on", "warn").exit_code == 1


def test_merge_takes_a_reports_folder_as_its_latest_run(tmp_path):
    written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    result = merged(invoke("merge", str(tmp_path / "a"), "--output", str(tmp_path / "out")), tmp_path / "out")
    assert [t["target"] for t in result["targets"]] == ["contoso"]


def test_merge_writes_to_the_configs_output_dir_by_default(tmp_path):
    folder = written_run(tmp_path / "a", "20261201-020000-000", "contoso")
    config = tmp_path / "fleet.json"
    config.write_text(json.dumps({"targets": [{"name": "x", "url": "sandbox://healthy-csw"}], "output_dir": "merged"}))
    done = invoke("merge", str(folder), "--config", str(config))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "merged" / "latest" / "junit.xml").is_file()


def test_merge_adds_the_merged_run_to_the_reports_folders_history(tmp_path):
    reports = tmp_path / "reports"
    earlier = written_run(reports, "20261130-020000-000", "contoso")
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2")
    second = written_run(tmp_path / "b", "20261201-020000-000", "broken-fabrikam", shard="2/2")
    result = merged(invoke("merge", str(first), str(second), "--output", str(reports)), reports)
    page = parse((reports / "index.html").read_text())
    linked = [link.text for link in page.find("table").find_all("a")]
    assert linked == [result["run_id"], earlier.name]
    assert render_history(reports) == (reports / "index.html").read_text()


def test_a_shard_with_no_targets_is_an_empty_run_that_merge_accepts(tmp_path, monkeypatch):
    def no_browser(*args: object, **kwargs: object) -> None:
        raise AssertionError("a shard with no targets starts no browser")

    monkeypatch.setattr(cifcheck.runner, "run", no_browser)
    config = tmp_path / "fleet.json"
    config.write_text(json.dumps({"targets": [{"name": "contoso", "url": "sandbox://healthy-csw"}]}))
    done = invoke("run", "--config", str(config), "--shard", "2/2", "--output", str(tmp_path / "empty"))
    assert done.exit_code == 0, done.output
    assert "Shard 2/2 has no targets: 1 target selected for 2 shards. Nothing to run." in done.stdout
    empty = json.loads((tmp_path / "empty" / "latest" / "result.json").read_text())
    assert (empty["shard"], empty["targets"], empty["status"]) == ("2/2", [], "skip")
    first = written_run(tmp_path / "a", "20261201-020000-000", "contoso", shard="1/2")
    result = merged(
        invoke("merge", str(first), str(tmp_path / "empty"), "--output", str(tmp_path / "out")), tmp_path / "out"
    )
    assert [t["target"] for t in result["targets"]] == ["contoso"]


# In a real browser against the sandbox: two shards merged are the run one process would have made.

TARGETS = [  # each a different verdict: pass, a failure, a failure with a warning, failures with skips
    {"name": "healthy", "url": "sandbox://healthy-csw"},
    {"name": "panel-hidden", "url": "sandbox://panel-hidden"},
    {"name": "library-missing", "url": "sandbox://library-missing"},
    {"name": "providers-empty", "url": "sandbox://providers-empty"},
]
# Short windows: the sandbox's instant timeline settles at once, and the verdicts are the same as with the defaults.
FLEET = {"targets": TARGETS, "timeouts": {"observe_ms": 300, "absence_ms": 600}}


@dataclass
class Fleet:
    whole: dict  # result.json of one unsharded run
    shards: list[dict]
    merged: dict
    merged_dir: Path
    merge_exit_code: int


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, sandbox, browser) -> Iterator[Fleet]:
    """The config run whole, then as shards 1/2 and 2/2, then the shards merged: each a `cifcheck` command, on the
    test session's sandbox org and browser (a command would start its own)."""
    folder = tmp_path_factory.mktemp("fleet")
    config = folder / "fleet.json"
    config.write_text(json.dumps(FLEET))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cifcheck.runner, "run", partial(cifcheck.runner.run, sandbox=sandbox, browser=browser))

        def run(output: str, *options: str) -> dict:
            done = invoke("run", "--config", str(config), "--output", str(folder / output), "--quiet", *options)
            assert done.exit_code == 1, done.output
            return json.loads((folder / output / "latest" / "result.json").read_text())

        whole = run("whole")
        shards = [run(f"shard-{index}", "--shard", f"{index}/2") for index in (1, 2)]
    done = invoke("merge", str(folder / "shard-2"), str(folder / "shard-1"), "--output", str(folder / "merged"))
    merged_dir = (folder / "merged" / "latest").resolve()
    yield Fleet(whole, shards, json.loads((merged_dir / "result.json").read_text()), merged_dir, done.exit_code)


def verdicts(result: dict) -> dict[str, list[tuple[str, str, str]]]:
    """Per target, each check's id, status and reason, with what differs between any two runs of one org masked: a
    measured time (`answered HTTP 200 in 49 ms`)."""
    return {
        target["target"]: [
            (check["id"], check["status"], re.sub(r"\b[0-9]+ ms\b", "N ms", check["reason"]))
            for check in target["checks"]
        ]
        for target in result["targets"]
    }


@pytest.mark.browser
def test_two_shards_merged_give_the_verdicts_of_one_unsharded_run(fleet: Fleet):
    assert verdicts(fleet.merged) == verdicts(fleet.whole)
    assert len({target["status"] for target in fleet.whole["targets"]}) > 1, "the fleet's targets differ in verdict"


@pytest.mark.browser
def test_the_merged_targets_are_in_config_order(fleet: Fleet):
    assert [target["target"] for target in fleet.merged["targets"]] == [target["name"] for target in TARGETS]


@pytest.mark.browser
def test_each_shard_ran_its_share_and_says_which_shard_it_is(fleet: Fleet):
    assert [(shard["shard"], [t["target"] for t in shard["targets"]]) for shard in fleet.shards] == [
        ("1/2", ["healthy", "library-missing"]),
        ("2/2", ["panel-hidden", "providers-empty"]),
    ]
    assert fleet.whole["shard"] is None and fleet.merged["shard"] is None


@pytest.mark.browser
def test_merge_exits_as_the_unsharded_run_would(fleet: Fleet):
    assert fleet.merge_exit_code == fleet.whole["exit_code"] == fleet.merged["exit_code"] == 1


@pytest.mark.browser
def test_the_merged_report_has_every_targets_junit_cases_and_evidence(fleet: Fleet):
    cases = [case.name for suite in JUnitXml.fromfile(str(fleet.merged_dir / "junit.xml")) for case in suite]
    expected = [check["id"] for target in fleet.whole["targets"] for check in target["checks"]]
    assert sorted(cases) == sorted(expected)
    assert sorted(path.stem for path in (fleet.merged_dir / "evidence").iterdir()) == sorted(t["name"] for t in TARGETS)
    assert all(t["name"] in (fleet.merged_dir / "index.html").read_text() for t in TARGETS)
