"""The scrubbed trace a bundle carries, on traces built by hand: every credential shape removed, in every place a
trace can hold one, and what a support engineer needs kept."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from urllib.parse import quote

import pytest

from cifcheck.redact import REDACTED
from cifcheck.trace_scrub import TraceError, scrub_trace

ORG = "https://contoso.crm.dynamics.com"
SIGN_IN = "https://login.microsoftonline.com"
COOKIE = "Zq8vKp3mNw7xRt2sYb6cLd9f"  # the session cookie's value, as a raw trace holds it
BEARER = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXBhcnQ"
PASSWORD = "Correct-Horse-Battery-9"
LIBRARY = f"{ORG}/%7b1%7d/WebResources/msdyn_channelintegrationframework.js"
PROFILE = f"{ORG}/api/data/v9.2/msdyn_appconfigurations(1)?$expand=msdyn_appconfig_msdyn_channelprovider"


def cif(url: str) -> bool:
    return "msdyn_" in url


def network_entry(url: str, body_file: str | None, mime: str = "application/json", **headers: str) -> dict:
    return {
        "type": "resource-snapshot",
        "snapshot": {
            "pageref": "page@1",
            "request": {
                "method": "GET",
                "url": url,
                "cookies": [{"name": "CrmOwinAuth", "value": COOKIE}],
                "headers": [{"name": "Cookie", "value": f"CrmOwinAuth={COOKIE}"}]
                + [{"name": name.replace("_", "-"), "value": value} for name, value in headers.items()],
                "queryString": [],
            },
            "response": {
                "status": 200,
                "cookies": [{"name": "CrmOwinAuth", "value": COOKIE}],
                "headers": [
                    {"name": "Set-Cookie", "value": f"CrmOwinAuth={COOKIE}; Path=/; HttpOnly"},
                    {"name": "Content-Type", "value": mime},
                ],
                "content": {"mimeType": mime, **({"_file": body_file} if body_file else {})},
            },
        },
    }


def snapshot(url: str, at: float, *html: object) -> dict:
    return {
        "type": "frame-snapshot",
        "snapshot": {
            "callId": "call@1",
            "pageId": "page@1",
            "frameId": "frame@1",
            "frameUrl": url,
            "isMainFrame": True,
            "timestamp": at,
            "html": ["HTML", {}, ["BODY", {}, *html]],
        },
    }


def screencast(at: float, name: str) -> dict:
    return {"type": "screencast-frame", "pageId": "page@1", "file": f"screencast/{name}", "timestamp": at}


def raw_trace() -> bytes:
    events = [
        {"type": "context-options", "version": 8, "options": {"httpCredentials": {"password": PASSWORD}}},
        {"type": "before", "callId": "call@1", "method": "goto", "params": {"url": f"{ORG}/main.aspx?token={BEARER}"}},
        snapshot(f"{SIGN_IN}/login", 10, ["INPUT", {"type": "password", "__playwright_value_": PASSWORD}]),
        screencast(11, "sign-in.jpeg"),
        {"type": "before", "callId": "call@2", "method": "fill", "params": {"selector": "#passwd", "value": PASSWORD}},
        {"type": "after", "callId": "call@2"},
        {"type": "before", "callId": "call@3", "method": "cookies", "params": {}},
        {"type": "after", "callId": "call@3", "result": {"cookies": [{"name": "CrmOwinAuth", "value": COOKIE}]}},
        snapshot(f"{ORG}/main.aspx", 20, "session ", COOKIE, f" echoed as {quote(COOKIE)}"),
        screencast(21, "org.jpeg"),
        snapshot(f"{ORG}/main.aspx", 22, "ready", ["INPUT", {"__playwright_value_": "typed by a person"}]),
        {"type": "console", "messageType": "error", "text": f"CIF failed; Authorization: Bearer {BEARER}"},
        '{"type": "before", "callId": "call@9", "meth',  # cut short: the browser went away while it was written
    ]
    network = [
        network_entry(f"{ORG}/main.aspx", "resources/page.html", "text/html", Authorization=f"Bearer {BEARER}"),
        network_entry(PROFILE, "resources/profile.json", X_Api_Key="k-4f1d2c9e8b7a6f5e4d3c2b1a"),
        network_entry(LIBRARY, "resources/library.js", "application/javascript"),
        network_entry(f"{ORG}/logo.png", "resources/logo.png", "image/png"),
    ]
    profile = {"msdyn_customparams": json.dumps({"queue": "tier1", "token": "provider-token-77aa91bc"})}
    files = {
        "trace.trace": "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events),
        "trace.network": "\n".join(json.dumps(e) for e in network),
        "trace.stacks": json.dumps({"files": ["/home/alice/cifcheck/session.py"]}),
        "resources/page.html": f"<html><body>{COOKIE}</body></html>",
        "resources/profile.json": json.dumps(profile),
        "resources/library.js": "window.Microsoft = window.Microsoft || {}; // CIF 2.0",
        "resources/logo.png": "\x89PNG",
        "screencast/sign-in.jpeg": "jpeg",
        "screencast/org.jpeg": "jpeg",
        "notes.txt": "a file the trace format does not define",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scrubbed() -> tuple[dict[str, str], dict[str, int]]:
    result = scrub_trace(raw_trace(), cif, {ORG})
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        files = {name: archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()}
    return files, dict(result.removed)


def everything(files: dict[str, str]) -> str:
    return "\n".join(files.values())


def events(files: dict[str, str], name: str = "trace.trace") -> list[dict]:
    return [json.loads(line) for line in files[name].splitlines()]


@pytest.mark.parametrize(
    "secret",
    [COOKIE, quote(COOKIE), BEARER, PASSWORD, "provider-token-77aa91bc", "k-4f1d2c9e8b7a6f5e4d3c2b1a"],
    ids=["cookie", "cookie-percent-encoded", "bearer-token", "password", "provider-token", "api-key"],
)
def test_no_file_of_the_scrubbed_trace_holds_a_credential(scrubbed, secret):
    files, _ = scrubbed
    assert secret not in everything(files)


def test_no_credential_header_is_left_in_the_network_log(scrubbed):
    files, _ = scrubbed
    names = {
        header["name"].lower()
        for entry in events(files, "trace.network")
        for part in ("request", "response")
        for header in entry["snapshot"][part]["headers"]
    }
    assert names == {"content-type"}


def test_the_network_log_keeps_every_request_and_its_status(scrubbed):
    files, _ = scrubbed
    entries = events(files, "trace.network")
    assert len(entries) == 4
    assert all(entry["snapshot"]["response"]["status"] == 200 for entry in entries)


def test_only_cif_related_text_bodies_are_kept(scrubbed):
    files, _ = scrubbed
    kept = {
        entry["snapshot"]["request"]["url"].split("?")[0].rsplit("/", 1)[-1]: entry["snapshot"]["response"]["content"]
        for entry in events(files, "trace.network")
    }
    assert "_file" not in kept["main.aspx"] and "_file" not in kept["logo.png"]
    assert files[kept["msdyn_channelintegrationframework.js"]["_file"]].startswith("window.Microsoft")
    profile = json.loads(files[kept["msdyn_appconfigurations(1)"]["_file"]])
    assert json.loads(profile["msdyn_customparams"]) == {"queue": "tier1", "token": REDACTED}


def test_bodies_no_kept_request_needs_are_not_in_the_zip(scrubbed):
    files, _ = scrubbed
    assert len([name for name in files if name.startswith("resources/")]) == 2


def test_typed_values_are_redacted_and_the_action_kept(scrubbed):
    files, _ = scrubbed
    fill = next(e for e in events(files) if e.get("method") == "fill")
    assert fill["params"] == {"selector": "#passwd", "value": REDACTED}


def test_cookies_cifcheck_read_are_not_in_the_trace(scrubbed):
    files, _ = scrubbed
    read = next(e for e in events(files) if e["type"] == "after" and e["callId"] == "call@3")
    assert read["result"] == REDACTED


def test_a_cookie_value_the_page_echoed_is_removed_from_the_dom_snapshot(scrubbed):
    files, _ = scrubbed
    org = [e for e in events(files) if e["type"] == "frame-snapshot" and "contoso" in e["snapshot"]["frameUrl"]]
    assert org[0]["snapshot"]["html"][2][2:] == ["session ", REDACTED, f" echoed as {REDACTED}"]


def test_no_field_value_of_a_dom_snapshot_is_kept(scrubbed):
    files, _ = scrubbed
    assert "typed by a person" not in files["trace.trace"]
    assert files["trace.trace"].count('"__playwright_value_":"[redacted]"') == 2


def test_screencast_frames_of_a_sign_in_page_are_dropped_and_the_orgs_kept(scrubbed):
    files, _ = scrubbed
    assert "screencast/org.jpeg" in files and "screencast/sign-in.jpeg" not in files
    frames = [e["file"] for e in events(files) if e["type"] == "screencast-frame"]
    assert frames == ["screencast/org.jpeg"]


def test_call_stacks_and_unknown_files_are_dropped(scrubbed):
    files, removed = scrubbed
    assert "trace.stacks" not in files and "notes.txt" not in files
    assert removed["call stacks (file paths of the machine that ran it)"] == 1


def test_the_context_options_keep_no_credentials(scrubbed):
    files, _ = scrubbed
    options = events(files)[0]
    assert options["type"] == "context-options" and "httpCredentials" not in options["options"]


def test_a_line_cut_short_is_dropped_and_the_rest_read(scrubbed):
    files, _ = scrubbed
    assert events(files)[-1]["type"] == "console"


def test_what_was_removed_is_counted(scrubbed):
    _, removed = scrubbed
    assert removed["Cookie and Set-Cookie headers"] == 8
    assert removed["Authorization and other credential headers"] == 2
    assert removed["values typed into the page (sign-in)"] == 1
    assert removed["bodies of requests that are not CIF-related (or not text)"] == 2


def test_a_file_that_is_not_a_zip_is_a_trace_error():
    with pytest.raises(TraceError, match="not a zip file"):
        scrub_trace(b"PK not really", cif, {ORG})


def test_a_zip_without_a_trace_file_is_a_trace_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", base64.b64encode(b"hello"))
    with pytest.raises(TraceError, match=r"no \*\.trace file"):
        scrub_trace(buffer.getvalue(), cif, {ORG})
