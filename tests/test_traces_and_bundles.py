"""Traces and bundles against the sandbox org, in real Chromium: `--trace retain-on-failure` keeps a trace for each
target with a fail or an error and none for one that passes; a bundle of the run re-judges to the same verdicts;
and no file in any bundle, nor in any scrubbed trace inside one, holds a session cookie, a password, a TOTP secret
or a provider token."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from playwright._impl._driver import compute_driver_executable

from cifcheck.cli import cli
from cifcheck.config import Config, Credentials, Target, Timeouts, TraceOptions
from cifcheck.report import write_run
from cifcheck.runner import RunOutput, check_targets, run
from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_TOTP_SECRET

from .short_waits import SHORT_WAITS

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "not-the-sandbox-password-41"
PROVIDER_TOKENS = ("sandbox-widget-token-3f9a", "sandbox-widget-token-0ld1")  # the sandbox providers' custom params


def credentials_file(folder: Path, name: str, **secrets: str) -> Credentials:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    return Credentials(file=str(path))


class TracedRun:
    def __init__(self, output: RunOutput, run_dir: Path, traces: Path, cookies: set[str]) -> None:
        self.output = output
        self.run_dir = run_dir
        self.traces = traces
        self.cookies = cookies

    def evidence(self, name: str):
        return next(item for item in self.output.evidence if item.target.name == name)


@pytest.fixture(scope="module")
def traced(tmp_path_factory, sandbox, browser) -> TracedRun:
    """One run of four targets, retain-on-failure: one passes; one fails with both providers' tokens in its records;
    one signs in unattended (password and one-time code) and fails; one is refused its password (an error)."""
    folder = tmp_path_factory.mktemp("traced")
    mfa = credentials_file(
        folder, "mfa", username="mfa@contoso.sandbox", password=SANDBOX_PASSWORD, totp_secret=SANDBOX_TOTP_SECRET
    )
    refused = credentials_file(folder, "refused", username="admin@contoso.sandbox", password=WRONG_PASSWORD)
    config = Config(
        targets=[
            Target(name="passing", url="sandbox://healthy-csw"),
            Target(name="tokens", url="sandbox://parity-custom-params"),
            Target(name="signed-in", url="sandbox://library-missing", credentials=mfa),
            Target(name="refused", url="sandbox://healthy-csw", credentials=refused),
        ],
        output_dir=str(folder / "reports"),
        trace=TraceOptions(mode="retain-on-failure", dir=str(folder / "traces")),
        timeouts=Timeouts(**SHORT_WAITS),  # what is traced and bundled is the subject, not how long a run waits
    )
    before = set(sandbox.app.state.sessions)
    output = run(config, sandbox=sandbox, browser=browser)
    cookies = set(sandbox.app.state.sessions) - before
    run_dir = write_run(output.result, output.evidence, folder / "reports")
    return TracedRun(output, run_dir, folder / "traces", cookies)


# Every other shape a secret comes in, each traced: a session that expired (the sign-in page), an org that answers
# 503, records the user may not read, storage under other field names, two providers, a widget that redirects,
# Omnichannel's storage. Not the 300-provider profile: its page load alone takes a minute or more on a 2-CPU machine,
# and it holds the same tokens as two providers.
EVERY_SHAPE = (
    "signed-out",
    "org-503",
    "v1-records-refused",
    "storage-json-variant",
    "several-providers",
    "widget-relative-redirect",
    "healthy-omnichannel",
)


@pytest.fixture(scope="module")
def every_shape(tmp_path_factory, sandbox) -> TracedRun:
    """The scenarios of EVERY_SHAPE, each traced (`on`), two at a time in their own browsers."""
    folder = tmp_path_factory.mktemp("every-shape")
    config = Config(
        targets=[Target(name=name, url=f"sandbox://{name}") for name in EVERY_SHAPE],
        output_dir=str(folder / "reports"),
        trace=TraceOptions(mode="on", dir=str(folder / "traces")),
        timeouts=Timeouts(**SHORT_WAITS),
    )
    before = set(sandbox.app.state.sessions)
    output = run(config, sandbox=sandbox, workers=2)
    cookies = set(sandbox.app.state.sessions) - before
    run_dir = write_run(output.result, output.evidence, folder / "reports")
    return TracedRun(output, run_dir, folder / "traces", cookies)


def statuses(result) -> dict[str, list[tuple[str, str, str]]]:
    return {
        target["target"]: [(check["id"], check["status"], check["reason"]) for check in target["checks"]]
        for target in result["targets"]
    }


def bundle(run_dir: Path, out: Path, *args: str) -> Path:
    outcome = CliRunner().invoke(cli, ["bundle", str(run_dir), "--out", str(out), *args])
    assert outcome.exit_code == 0, outcome.output
    return out


def every_file(data: bytes, within: str = "") -> dict[str, bytes]:
    """Every file of the zip `data`, and of every zip inside it, by its path."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            if name.endswith(".zip"):
                found.update(every_file(content, f"{within}{name}:"))
            found[f"{within}{name}"] = content
    return found


def test_a_trace_is_kept_for_each_target_with_a_fail_or_an_error_and_none_for_the_passing_one(traced):
    kept = {item.target.name: bool(item.trace_file) for item in traced.output.evidence}
    assert kept == {"passing": False, "tokens": True, "signed-in": True, "refused": True}
    assert sorted(path.name for path in traced.traces.glob("*/*")) == [
        "refused.trace.zip",
        "signed-in.trace.zip",
        "tokens.trace.zip",
    ]


def test_traces_are_in_a_folder_only_their_user_can_open_each_readable_by_them_only(traced):
    trace = Path(traced.evidence("tokens").trace_file)
    assert stat.S_IMODE(trace.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    assert not trace.is_relative_to(traced.run_dir.parent)


def test_a_kept_trace_is_playwrights_trace_of_the_page_load(traced):
    files = every_file(Path(traced.evidence("tokens").trace_file).read_bytes())
    events = [json.loads(line) for line in files["trace.trace"].decode().splitlines()]
    assert events[0]["type"] == "context-options" and events[0]["browserName"] == "chromium"
    opened = [e["params"]["url"] for e in events if e.get("method") == "goto"]
    assert any("parity-custom-params" in url for url in opened)
    assert any(e["type"] == "frame-snapshot" for e in events) and any(n.startswith("screencast/") for n in files)
    network = [json.loads(line) for line in files["trace.network"].decode().splitlines()]
    assert any("msdyn_channelintegrationframework.js" in e["snapshot"]["request"]["url"] for e in network)


def test_the_report_says_where_each_kept_trace_is(traced):
    html = (traced.run_dir / "index.html").read_text()
    assert traced.evidence("tokens").trace_file in html


def test_a_trace_folder_inside_the_reports_folder_is_refused(tmp_path):
    config = Config(
        targets=[Target(name="csw", url="sandbox://healthy-csw")],
        output_dir=str(tmp_path / "reports"),
        trace=TraceOptions(mode="on", dir=str(tmp_path / "reports" / "traces")),
    )
    with pytest.raises(Exception, match=r"trace\.dir: .* is inside the reports folder"):
        check_targets(config)


def test_a_bundle_of_the_run_rejudged_gives_the_same_verdicts(traced, tmp_path):
    path = bundle(traced.run_dir, tmp_path / "run.zip", "--with-trace")
    outcome = CliRunner().invoke(cli, ["report", str(path), "--output", str(tmp_path / "rejudged")])
    assert outcome.exit_code == 1, outcome.output  # a fail: exit 1, as the run's
    again = json.loads(next((tmp_path / "rejudged").glob("*/result.json")).read_text())
    assert statuses(again) == statuses(json.loads((traced.run_dir / "result.json").read_text()))


def secrets(traced: TracedRun) -> list[str]:
    values = [SANDBOX_PASSWORD, WRONG_PASSWORD, SANDBOX_TOTP_SECRET, *PROVIDER_TOKENS, *traced.cookies]
    return [form for value in values for form in {value, quote(value, safe=""), json.dumps(value)[1:-1]}]


@pytest.mark.parametrize("target", ["passing", "tokens", "signed-in", "refused", None])
def test_no_file_in_a_bundle_holds_a_session_cookie_a_password_or_a_provider_token(traced, tmp_path, target):
    assert traced.cookies, "the run was given session cookies and signed in for more"
    args = ["--with-trace", *(["--target", target] if target else [])]
    files = every_file(bundle(traced.run_dir, tmp_path / "bundle.zip", *args).read_bytes())
    for name, content in files.items():
        text = content.decode("utf-8", errors="replace")
        for secret in secrets(traced):
            assert secret.lower() not in text.lower(), f"{name} holds a secret"


def raw_trace_text(traced: TracedRun, name: str) -> str:
    files = every_file(Path(traced.evidence(name).trace_file).read_bytes())
    return b"".join(files.values()).decode(errors="replace")


def test_no_file_in_a_bundle_of_any_other_shape_holds_a_session_cookie_or_a_provider_token(every_shape, tmp_path):
    assert all(item.trace_file for item in every_shape.output.evidence), "every target was traced"
    files = every_file(bundle(every_shape.run_dir, tmp_path / "shapes.zip", "--with-trace").read_bytes())
    assert sum(name.endswith(".trace.zip") for name in files) == len(EVERY_SHAPE)
    for name, content in files.items():
        text = content.decode("utf-8", errors="replace").lower()
        for secret in secrets(every_shape):
            assert secret.lower() not in text, f"{name} holds a secret"


def test_the_raw_traces_did_hold_the_secrets_the_bundles_do_not(traced):
    # What makes the test above able to fail: the raw traces carry each kind of secret.
    raw = {name: raw_trace_text(traced, name) for name in ("tokens", "signed-in", "refused")}
    assert any(cookie in raw["tokens"] for cookie in traced.cookies)
    assert PROVIDER_TOKENS[0] in raw["tokens"]  # the page's read of its profile (the 1.0 record's is cifcheck's own)
    assert SANDBOX_PASSWORD in raw["signed-in"] and WRONG_PASSWORD in raw["refused"]


def test_no_value_typed_at_sign_in_is_kept_in_a_scrubbed_trace(traced, tmp_path):
    files = every_file(
        bundle(traced.run_dir, tmp_path / "signed-in.zip", "--with-trace", "--target", "signed-in").read_bytes()
    )
    events = [json.loads(line) for line in files["traces/signed-in.trace.zip:trace.trace"].decode().splitlines()]
    fills = [e["params"] for e in events if e.get("method") == "fill"]
    assert len(fills) >= 3  # the account, the password, the one-time code
    assert all(params["value"] == "[redacted]" for params in fills)


def test_the_manifest_says_what_was_removed_from_each_trace(traced, tmp_path):
    files = every_file(bundle(traced.run_dir, tmp_path / "m.zip", "--with-trace").read_bytes())
    manifest = json.loads(files["manifest.json"])
    removed = {(item["where"], item["what"]) for item in manifest["removed"]}
    assert ("traces/tokens.trace.zip", "Cookie and Set-Cookie headers") in removed
    assert ("traces/signed-in.trace.zip", "values typed into the page (sign-in)") in removed
    assert any("passing: no trace" in note for note in manifest["notes"])


def test_a_scrubbed_trace_opens_in_playwright_show_trace_listing_its_actions(traced, tmp_path, browser):
    files = every_file(bundle(traced.run_dir, tmp_path / "t.zip", "--with-trace", "--target", "tokens").read_bytes())
    trace = tmp_path / "tokens.trace.zip"
    trace.write_bytes(files["traces/tokens.trace.zip"])
    node, cli_js = compute_driver_executable()  # the driver itself: `python -m playwright` would leave it orphaned
    viewer = subprocess.Popen(
        [node, cli_js, "show-trace", "--host", "127.0.0.1", "--port", "0", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "BROWSER": "none"},
        start_new_session=True,
    )
    try:
        address = None
        while address is None and (line := viewer.stdout.readline()):
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            address = found.group(0) if found else None
        assert address, "the trace viewer did not say where it listens"
        page = browser.new_page()
        page.goto(address)
        page.get_by_role("treeitem").first.wait_for(timeout=30_000)
        actions = page.get_by_role("treeitem").all_inner_texts()
        page.close()
    finally:
        os.killpg(viewer.pid, signal.SIGKILL)  # the viewer and anything it started
        viewer.wait(10)
    assert any(action.startswith("Navigate") and "parity-custom-params" in action for action in actions)


def test_a_page_load_that_broke_keeps_its_trace_with_the_error(tmp_path, sandbox, browser, monkeypatch):
    from cifcheck import runner

    def gathers_then_breaks(*args, **kwargs):
        runner_gather(*args, **kwargs)
        raise RuntimeError("a probe's bug")

    runner_gather = runner.gather
    monkeypatch.setattr(runner, "gather", gathers_then_breaks)
    config = Config(
        targets=[Target(name="csw", url="sandbox://healthy-csw")],
        output_dir=str(tmp_path / "reports"),
        trace=TraceOptions(mode="retain-on-failure", dir=str(tmp_path / "traces")),
    )
    (evidence,) = run(config, sandbox=sandbox, browser=browser).evidence
    assert "cifcheck itself failed" in (evidence.navigation.error or "")
    assert evidence.trace_file and zipfile.is_zipfile(evidence.trace_file)


def test_an_existing_trace_folder_keeps_its_mode_and_each_runs_folder_is_private(tmp_path):
    from cifcheck.trace import RunTraces

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    folder = RunTraces(TraceOptions(mode="on", dir=str(shared)), "20261201-120000-000").folder()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert folder.parent == shared and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_missing_trace_folders_are_made_private(tmp_path):
    from cifcheck.trace import RunTraces

    RunTraces(TraceOptions(mode="on", dir=str(tmp_path / "a" / "b")), "20261201-120000-000").folder()
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_trace_folders_beyond_the_history_kept_are_removed_oldest_first(tmp_path):
    from cifcheck.trace import RunTraces

    root = tmp_path / "traces"
    for run_id in ("20261101-000000-000", "20261102-000000-000", "20261103-000000-000", "20261103-000000-000-1"):
        (root / run_id).mkdir(parents=True)
    (root / "notes").mkdir()
    (root / "20261001-000000-001").symlink_to(root / "notes")
    traces = RunTraces(TraceOptions(mode="on", dir=str(root)), "20261201-120000-000")
    traces.folder()
    traces.prune(3)
    assert sorted(entry.name for entry in root.iterdir()) == [
        "20261001-000000-001",  # a link: never followed, never removed
        "20261103-000000-000",
        "20261103-000000-000-1",
        "20261201-120000-000",
        "notes",
    ]
