"""Bundles without a browser: made from a written run of hand-built evidence, read back by `cifcheck report`, and
refused, on one line naming the file, when they are not what cifcheck wrote or hold a known secret."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cifcheck.bundle import BUNDLE_VERSION, BundleError, make_bundle
from cifcheck.checks import judge_target
from cifcheck.cli import cli
from cifcheck.evidence import EVIDENCE_VERSION
from cifcheck.redact import register_secret
from cifcheck.report import write_run
from cifcheck.results import RunResult

from .evidence_factory import healthy_evidence


def written_run(tmp_path: Path) -> Path:
    """A run of the healthy hand-built evidence (with a panel picture), written under `tmp_path`/reports."""
    evidence = healthy_evidence()
    evidence.panel.screenshot_png_base64 = base64.b64encode(b"\x89PNG\r\n\x1a\n a panel").decode()
    result = RunResult(
        run_id="20261201-120000-000",
        cifcheck_version="test",
        started_at="2026-12-01T12:00:00+00:00",
        duration_ms=1,
        targets=[judge_target(evidence)],
    )
    return write_run(result, [evidence], tmp_path / "reports")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return written_run(tmp_path)


def bundle_of(run_dir: Path, *args: str) -> tuple[int, str, Path]:
    out = run_dir.parent.parent / "bundle.zip"
    outcome = CliRunner().invoke(cli, ["bundle", str(run_dir), "--out", str(out), *args])
    return outcome.exit_code, outcome.output, out


def rewritten(bundle: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of `bundle` with members replaced (None: removed)."""
    copy = bundle.with_name("changed.zip")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(copy, "w") as target:
        for name in source.namelist():
            if name in changes:
                continue
            target.writestr(name, source.read(name))
        for name, data in changes.items():
            if data is not None:
                target.writestr(name, data)
    return copy


def report_of(path: Path, tmp_path: Path) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["report", str(path), "--output", str(tmp_path / "rejudged")])
    return outcome.exit_code, outcome.output


def member(bundle: Path, name: str) -> dict:
    with zipfile.ZipFile(bundle) as archive:
        return json.loads(archive.read(name))


def test_a_bundle_holds_the_evidence_result_report_requests_and_console(run_dir):
    code, _, bundle = bundle_of(run_dir)
    assert code == 0
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    target = healthy_evidence().target.name
    assert {"manifest.json", "result.json", "index.html", f"evidence/{target}.json"} <= names
    assert {f"network/{target}.json", f"console/{target}.json", f"screenshots/{target}.panel.png"} <= names


def test_the_manifest_lists_every_other_file_with_its_size_and_hash(run_dir):
    _, _, bundle = bundle_of(run_dir)
    manifest = member(bundle, "manifest.json")
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(f["path"] for f in manifest["files"]) == sorted(set(archive.namelist()) - {"manifest.json"})
        for listed in manifest["files"]:
            data = archive.read(listed["path"])
            assert listed["bytes"] == len(data) and len(listed["sha256"]) == 64 and listed["what"]
    assert manifest["bundle_version"] == BUNDLE_VERSION and manifest["evidence_version"] == EVIDENCE_VERSION


def test_the_network_file_holds_the_cif_requests_only(run_dir):
    _, _, bundle = bundle_of(run_dir)
    urls = [load["url"] for load in member(bundle, f"network/{healthy_evidence().target.name}.json")]
    assert urls and all("msdyn_" in url or "phone.contoso.com" in url for url in urls)


def test_a_bundle_rejudged_gives_the_verdicts_of_its_run(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    code, _ = report_of(bundle, tmp_path)
    assert code == 0
    again = json.loads(next((tmp_path / "rejudged").glob("*/result.json")).read_text())
    before = json.loads((run_dir / "result.json").read_text())
    verdicts = [[(c["id"], c["status"], c["reason"]) for c in t["checks"]] for t in before["targets"]]
    assert [[(c["id"], c["status"], c["reason"]) for c in t["checks"]] for t in again["targets"]] == verdicts


def test_a_bundle_with_trace_of_a_run_without_traces_says_none_was_kept(run_dir):
    code, output, bundle = bundle_of(run_dir, "--with-trace")
    assert code == 0 and "no trace (none was kept" in output
    assert any("no trace" in note for note in member(bundle, "manifest.json")["notes"])


def test_an_unknown_target_is_one_line_and_exit_2(run_dir):
    code, output, bundle = bundle_of(run_dir, "--target", "nobody")
    assert code == 2 and output.count("\n") == 1 and "--target: no target named nobody" in output
    assert not bundle.exists()


def test_an_existing_file_is_kept_unless_forced(run_dir):
    _, _, bundle = bundle_of(run_dir)
    bundle.write_bytes(b"keep me")
    code, output, _ = bundle_of(run_dir)
    assert code == 2 and "exists" in output and bundle.read_bytes() == b"keep me"
    code, _, _ = bundle_of(run_dir, "--force")
    assert code == 0 and zipfile.is_zipfile(bundle)


def test_a_bundle_that_would_hold_a_known_secret_is_refused(run_dir):
    secret = "reason-with-a-secret-51c9e2"
    result = json.loads((run_dir / "result.json").read_text())
    result["targets"][0]["checks"][0]["reason"] = f"signed in with {secret}"
    (run_dir / "result.json").write_text(json.dumps(result))
    register_secret(secret)
    with pytest.raises(BundleError, match=r"bundle not written: result\.json still holds a known secret"):
        make_bundle(run_dir, [], with_trace=False)


def test_a_secret_found_leaves_no_file_behind(run_dir):
    secret = "another-secret-in-a-reason-8d21"
    result = json.loads((run_dir / "result.json").read_text())
    result["targets"][0]["checks"][0]["reason"] = secret
    (run_dir / "result.json").write_text(json.dumps(result))
    register_secret(secret)
    code, output, bundle = bundle_of(run_dir)
    assert code == 2 and "bundle not written" in output and not bundle.exists()
    assert not list(bundle.parent.glob(".bundle.zip*"))


def test_evidence_of_a_newer_version_is_refused_naming_the_file_and_versions(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    name = f"evidence/{healthy_evidence().target.name}.json"
    newer = {**member(bundle, name), "version": EVIDENCE_VERSION + 1, "cifcheck_version": "9.0.0"}
    code, output = report_of(rewritten(bundle, {name: json.dumps(newer).encode()}), tmp_path)
    assert code == 2 and output.count("\n") == 1
    assert f"changed.zip:{name}: evidence version {EVIDENCE_VERSION + 1} (written by cifcheck 9.0.0)" in output


def test_evidence_of_an_older_version_is_read(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    name = f"evidence/{healthy_evidence().target.name}.json"
    older = {**member(bundle, name), "version": 0}
    older.pop("observation", None)  # a field an older cifcheck may not have written
    code, _ = report_of(rewritten(bundle, {name: json.dumps(older).encode()}), tmp_path)
    assert code == 0


def test_a_bundle_of_a_newer_bundle_version_is_refused(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    manifest = {**member(bundle, "manifest.json"), "bundle_version": BUNDLE_VERSION + 1}
    code, output = report_of(rewritten(bundle, {"manifest.json": json.dumps(manifest).encode()}), tmp_path)
    assert code == 2 and output.count("\n") == 1
    assert f"bundle version {BUNDLE_VERSION + 1}" in output and "upgrade cifcheck" in output


def test_a_zip_without_a_manifest_is_not_a_bundle(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    code, output = report_of(rewritten(bundle, {"manifest.json": None}), tmp_path)
    assert code == 2 and "no manifest.json in it" in output


def test_a_file_named_zip_that_is_not_one_is_refused_in_one_line(tmp_path):
    fake = tmp_path / "bundle.zip"
    fake.write_text("not a zip")
    code, output = report_of(fake, tmp_path)
    assert code == 2 and output.count("\n") == 1 and "bundle.zip: not a bundle cifcheck can read" in output


def test_a_bundle_with_evidence_that_is_not_utf8_is_refused_naming_the_member(run_dir, tmp_path):
    _, _, bundle = bundle_of(run_dir)
    name = f"evidence/{healthy_evidence().target.name}.json"
    code, output = report_of(rewritten(bundle, {name: b"\xff\xfe{"}), tmp_path)
    assert code == 2 and f"{name}: not UTF-8 text" in output


def test_a_zip_bomb_is_refused_before_it_is_read(run_dir, tmp_path, monkeypatch):
    from cifcheck import bundle as bundles

    monkeypatch.setattr(bundles, "MAX_BUNDLE_BYTES", 8 * 1024**2)  # 1 GB in the product: the same test, smaller
    _, _, bundle = bundle_of(run_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(bundle) as source:
            for name in source.namelist():
                archive.writestr(name, source.read(name))
        with archive.open("padding.bin", "w", force_zip64=True) as padding:
            for _ in range(9):
                padding.write(b"\0" * 1024**2)
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(buffer.getvalue())
    code, output = report_of(bomb, tmp_path)
    assert code == 2 and "uncompressed: not a cifcheck bundle" in output


@pytest.mark.parametrize("version", [0, -5])
def test_a_bundle_version_below_the_first_is_not_a_bundle(run_dir, tmp_path, version):
    _, _, bundle = bundle_of(run_dir)
    manifest = {**member(bundle, "manifest.json"), "bundle_version": version}
    code, output = report_of(rewritten(bundle, {"manifest.json": json.dumps(manifest).encode()}), tmp_path)
    assert code == 2 and "bundle_version" in output
