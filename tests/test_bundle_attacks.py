"""Attacks on traces and bundles, without a browser: raw traces built by hand that hide a secret where the scrubber
did not look, or that are broken in ways a crash or a hostile file makes them; bundles that are no bundle; a
trace folder that is not a folder. Each is kept out of the bundle, or refused on one line, never a traceback."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cifcheck.bundle import leaks, write_bundle
from cifcheck.cli import cli
from cifcheck.config import Config, Target, TraceOptions
from cifcheck.redact import REDACTED
from cifcheck.runner import check_targets
from cifcheck.trace_scrub import TraceError, scrub_trace

from .evidence_factory import healthy_evidence
from .test_bundle_files import written_run
from .test_trace_scrub import ORG, PROFILE, SIGN_IN, cif, network_entry, snapshot

SECRET = "Short-Kept-Secret-42"  # shaped like no token: only its name tells that it is secret


def trace_zip(events: list[dict], network: list[dict] | None = None, files: dict[str, str] | None = None) -> bytes:
    members = {
        "trace.trace": "\n".join(json.dumps(event) for event in events),
        "trace.network": "\n".join(json.dumps(entry) for entry in network or []),
        **(files or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def scrubbed_files(raw: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(scrub_trace(raw, cif, {ORG}).data)) as archive:
        return {name: archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()}


def everything(raw: bytes) -> str:
    return "\n".join(scrubbed_files(raw).values())


# ---- secrets the redaction rules catch, in places of a trace the scrubber did not judge by name -----------------


@pytest.mark.parametrize(
    "element",
    [
        ["INPUT", {"type": "hidden", "name": "csrf_token", "value": SECRET}],
        ["INPUT", {"type": "password", "value": SECRET}],
        ["INPUT", {"id": "otc", "value": SECRET}],
        ["META", {"name": "csrf-token", "content": SECRET}],
    ],
    ids=["hidden-field-named-like-a-token", "password-field-value-attribute", "one-time-code-field", "csrf-meta"],
)
def test_a_dom_snapshot_keeps_no_value_of_an_element_named_like_a_secret(element):
    raw = trace_zip([snapshot(f"{ORG}/main.aspx", 1, element)])
    assert SECRET not in everything(raw)


@pytest.mark.parametrize("attribute", ["class", "source", "type", "selector", "origin"])
def test_a_dom_attribute_named_like_trace_structure_is_still_the_pages_text(attribute):
    # Names such as `class` or `source` are trace structure in an event, and were kept unredacted inside a DOM
    # snapshot too, where they are the page's own attributes.
    raw = trace_zip([snapshot(f"{ORG}/main.aspx", 1, ["DIV", {attribute: f"password={SECRET}"}])])
    assert SECRET not in everything(raw)


def test_a_dom_snapshot_keeps_the_value_of_an_ordinary_element():
    raw = trace_zip([snapshot(f"{ORG}/main.aspx", 1, ["INPUT", {"type": "search", "name": "q", "value": "queue"}])])
    assert '"value":"queue"' in everything(raw)


def test_a_secret_named_property_of_a_value_the_page_returned_is_redacted():
    # Playwright records what page.evaluate returned in its serialized form: names as `k`, text as `v.s`.
    returned = {"o": [{"k": "accessToken", "v": {"s": SECRET}}, {"k": "queue", "v": {"s": "tier1"}}], "id": 1}
    raw = trace_zip(
        [
            {"type": "before", "callId": "call@1", "method": "evaluateExpression", "params": {"expression": "f"}},
            {"type": "after", "callId": "call@1", "result": {"value": returned}},
        ]
    )
    after = [json.loads(line) for line in scrubbed_files(raw)["trace.trace"].splitlines()][1]
    assert after["result"]["value"]["o"] == [
        {"k": "accessToken", "v": {"s": REDACTED}},
        {"k": "queue", "v": {"s": "tier1"}},
    ]


def test_query_string_values_are_default_denied_as_in_the_url():
    entry = network_entry(f"{ORG}/main.aspx?appid=42&login_hint=alice&password={SECRET}", None, "text/html")
    entry["snapshot"]["request"]["queryString"] = [
        {"name": "appid", "value": "42"},
        {"name": "login_hint", "value": "alice@contoso.com"},
        {"name": "password", "value": SECRET},
    ]
    network = scrubbed_files(trace_zip([], [entry]))["trace.network"]
    shown = json.loads(network)["snapshot"]["request"]["queryString"]
    assert shown == [
        {"name": "appid", "value": "42"},
        {"name": "login_hint", "value": REDACTED},
        {"name": "password", "value": REDACTED},
    ]


def test_a_form_field_of_a_kept_cif_body_is_redacted_by_its_name():
    entry = network_entry(PROFILE, None)
    entry["snapshot"]["request"]["postData"] = {
        "mimeType": "application/json",
        "text": "{}",
        "params": [{"name": "password", "value": SECRET}],
    }
    assert SECRET not in everything(trace_zip([], [entry]))


def test_a_request_logged_in_the_trace_file_loses_its_cookie_header_and_its_body():
    # Older Playwright versions logged the network in trace.trace, not trace.network.
    entry = network_entry(f"{SIGN_IN}/login", None, "text/html")
    entry["snapshot"]["request"]["postData"] = {"mimeType": "text/plain", "text": f"login=alice&pw2={SECRET}"}
    shown = json.loads(scrubbed_files(trace_zip([entry]))["trace.trace"])["snapshot"]["request"]
    assert shown["headers"] == [] and shown["cookies"] == []
    assert "text" not in shown["postData"]


# ---- files of the trace zip ------------------------------------------------------------------------------------


def test_a_screencast_frame_no_event_shows_is_dropped():
    # The browser went away before the frame's event was written: which page it showed (a sign-in page?) is unknown.
    raw = trace_zip([snapshot(f"{SIGN_IN}/login", 10)], files={"screencast/orphan.jpeg": "the sign-in page"})
    assert "screencast/orphan.jpeg" not in scrubbed_files(raw)


def test_a_file_named_outside_the_trace_folder_is_not_in_the_scrubbed_trace():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trace.trace", "")
        archive.writestr("../../.bashrc.trace", json.dumps({"type": "log", "message": "echo hello"}))
        archive.writestr("/etc/cron.d/x.trace", "")
    assert set(scrubbed_files(buffer.getvalue())) == {"trace.trace"}


def test_a_raw_trace_with_corrupt_compressed_data_is_a_trace_error():
    raw = bytearray(trace_zip([{"type": "log", "message": f"step {n} " * 20} for n in range(2000)]))
    raw[200:300] = b"\0" * 100  # the middle of trace.trace's deflated data
    with pytest.raises(TraceError, match=r"trace\.trace cannot be read"):
        scrub_trace(bytes(raw), cif, {ORG})


def test_the_secret_scan_reads_a_file_named_zip_that_is_not_a_zip_as_text():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("resources/body.zip", '{"queue": "tier1"}')
    assert leaks(buffer.getvalue()) == ""


def test_a_cif_body_named_zip_in_a_trace_does_not_crash_the_bundle_scan():
    entry = network_entry(PROFILE, "resources/profile.zip")
    scrubbed = scrub_trace(trace_zip([], [entry], {"resources/profile.zip": '{"a": 1}'}), cif, {ORG}).data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("traces/contoso.trace.zip", scrubbed)
    assert leaks(buffer.getvalue()) == ""


# ---- bundles read back -----------------------------------------------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    run_dir = written_run(tmp_path)
    out = tmp_path / "bundle.zip"
    assert CliRunner().invoke(cli, ["bundle", str(run_dir), "--out", str(out)]).exit_code == 0
    return out


def changed(bundle: Path, name: str, data: bytes) -> Path:
    copy = bundle.with_name("changed.zip")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.namelist():
            target.writestr(member, data if member == name else source.read(member))
    return copy


def report_of(path: Path, tmp_path: Path) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["report", str(path), "--output", str(tmp_path / "rejudged")])
    return outcome.exit_code, outcome.output


@pytest.mark.parametrize(
    "manifest",
    [
        b'{"bundle_version": 1' + b"0" * 5000 + b"}",
        b'{"bundle_version": 1, "notes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["number-too-long", "nested-too-deeply"],
)
def test_a_manifest_json_cannot_read_is_refused_in_one_line(bundle, tmp_path, manifest):
    code, output = report_of(changed(bundle, "manifest.json", manifest), tmp_path)
    assert code == 2 and output.count("\n") == 1 and "changed.zip:manifest.json: not usable JSON" in output


def test_a_bundle_member_with_corrupt_compressed_data_is_refused_in_one_line(bundle, tmp_path):
    evidence = f"evidence/{healthy_evidence().target.name}.json"
    copy = changed(bundle, evidence, b"{}" + b" " * 20_000 + b'{"a": "' + os.urandom(3000).hex().encode() + b'"}')
    with zipfile.ZipFile(copy) as archive:
        info = archive.getinfo(evidence)
    data = bytearray(copy.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20 : start + 60] = b"\xff" * 40
    copy.write_bytes(bytes(data))
    code, output = report_of(copy, tmp_path)
    assert code == 2 and output.count("\n") == 1 and f"changed.zip:{evidence}: cannot be read" in output


# ---- the trace folder ------------------------------------------------------------------------------------------


def test_a_trace_folder_that_is_a_file_is_refused_before_the_run_and_the_file_left_as_it_was(tmp_path):
    file = tmp_path / "traces"
    file.write_text("the user's own file")
    file.chmod(0o644)
    config = Config(
        targets=[Target(name="csw", url="sandbox://healthy-csw")],
        output_dir=str(tmp_path / "reports"),
        trace=TraceOptions(mode="on", dir=str(file)),
    )
    with pytest.raises(Exception, match=r"trace\.dir: .*traces is a file, not a folder"):
        check_targets(config)
    assert stat.S_IMODE(file.stat().st_mode) == 0o644


# ---- writing a bundle ------------------------------------------------------------------------------------------


def test_out_naming_a_folder_is_refused_in_one_line_saying_so(bundle, tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    run_dir = next((tmp_path / "reports").glob("2*"))
    outcome = CliRunner().invoke(cli, ["bundle", str(run_dir), "--out", str(folder), "--force"])
    assert outcome.exit_code == 2 and outcome.output.count("\n") == 1
    assert f"--out: {folder} is a folder" in outcome.output


def test_an_interrupt_while_the_bundle_is_written_leaves_no_half_written_file(tmp_path, monkeypatch):
    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(b"PK zip bytes", tmp_path / "bundle.zip", replace=False)
    assert list(tmp_path.iterdir()) == []
