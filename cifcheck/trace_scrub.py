"""A raw Playwright trace made fit to share: what `cifcheck bundle --with-trace` puts in a bundle.

A raw trace (trace.py) holds what the browser saw and did: every request's headers and cookies, every answer's
body, the values cifcheck typed at sign-in, DOM snapshots and a screencast. The scrubbed copy keeps what a support
engineer needs to see the page load (the actions, the DOM, the CIF requests and their answers) and removes:

- Cookie, Set-Cookie, Authorization and every other credential header, and the HAR's cookie lists;
- the bodies of requests that are not CIF-related, and every resource file no kept body needs;
- the values typed into the page (sign-in), cookies cifcheck read or added, and any saved storage state;
- every value named like a secret (an element's attributes, a form or query field, a property of what the page
  returned), and query string values as the URL's are (default-deny);
- screencast frames not showing one of the org's own pages (a sign-in page shows the account and the code typed),
  and frames no event places;
- files named outside the trace's folder (`..`, an absolute path);
- the call stacks (trace.stacks: file paths of the machine that ran it);
- from everything left, the known secrets (the cookie, credential header and typed values found in this trace, and
  those registered by the caller) and every value the redaction rules catch (redact.py).

The trace format is Playwright's (JSON lines in `*.trace` and `*.network`, files under resources/ and screencast/);
entries it does not know are dropped, not copied."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cifcheck.redact import (
    KEPT_PARAMETERS,
    MIN_KNOWN_SECRET,
    REDACTED,
    encoded_forms,
    is_secret_name,
    known_leaks,
    redact_text,
    redact_url,
    register_cookie_values,
    register_secret,
    scrub_known,
)

CREDENTIAL_HEADERS = frozenset(
    {"cookie", "set-cookie", "set-cookie2", "authorization", "proxy-authorization", "x-ms-client-request-token"}
)
# Playwright calls whose `value` or `text` is what was typed into the page: at sign-in, the account, the password, the
# one-time code.
TYPING = frozenset({"fill", "type", "pressSequentially", "insertText", "setInputFiles", "selectText"})
# Fields that name trace structure (ids, file names, cifcheck's own scripts and selectors), never page data.
STRUCTURE = frozenset(
    {
        "type", "class", "method", "callId", "pageId", "frameId", "guid", "phase", "sha1", "_sha1", "_file", "file",
        "pageref", "_frameref", "_monotonicTime", "startedDateTime", "mimeType", "stepId", "parentId",
        "beforeSnapshot", "afterSnapshot", "inputSnapshot", "snapshotName", "apiName", "expression", "source",
        "selector", "sdkLanguage", "browserName", "playwrightVersion", "platform", "testIdAttributeName", "origin",
        "version", "monotonicTime", "wallTime", "timestamp", "startTime", "endTime", "time",
    }
)  # fmt: skip
FIELD_VALUE = "__playwright_value_"  # a DOM snapshot's record of an input field's value
# A record that names its own value: a DOM element's attributes (name="csrf-token" content="…"), a query string's
# or a form's field ({"name": "password", "value": "…"}), a property of a value the page returned to cifcheck
# ({"k": "token", "v": {"s": "…"}}, Playwright's serialized form). A secret name makes the value secret.
NAME_FIELDS = ("name", "k", "id", "property", "key")
VALUE_FIELDS = ("value", "v", "content")
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "application/x-javascript")
TEXT_SUFFIXES = (".json", ".html", ".htm", ".js", ".css", ".txt", ".xml", ".svg")
MAX_TRACE_BYTES = 512 * 1024**2  # uncompressed, in all: a page load's trace is a few MB


class TraceError(Exception):
    """A trace that cannot be scrubbed (not a zip, not Playwright's format, too large)."""


class SecretLeft(TraceError):
    """A secret found in the scrubbed copy: nothing of it may be written."""


@dataclass
class Scrubbed:
    data: bytes
    removed: Counter[str] = field(default_factory=Counter)


def _header_name(header: object) -> str:
    return str(header.get("name", "")).lower() if isinstance(header, dict) else ""


def credential_header(name: str) -> bool:
    return name.lower() in CREDENTIAL_HEADERS or is_secret_name(name)


def _lines(data: bytes) -> list[dict]:
    events = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short (the browser went away while the trace was written): nothing to show
        if isinstance(event, dict):
            events.append(event)
    return events


def _dump(events: list[dict]) -> bytes:
    return "".join(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n" for event in events).encode()


def learn_secrets(members: dict[str, bytes]) -> list[str]:
    """Registers as known secrets every cookie value and credential header value in the raw trace, so that they are
    scrubbed wherever else they appear (a token echoed into a page, a cookie in a URL), in the trace and in the
    bundle around it. Returns the values typed into the page: the password and the code, but also the account
    name, which the bundle's evidence may name, so they are scrubbed from the trace alone."""
    calls: dict[str, str] = {}
    typed: list[str] = []
    for name, data in members.items():
        if not name.endswith((".trace", ".network")):
            continue
        for event in _lines(data):
            if event.get("type") == "resource-snapshot":
                entry = event.get("snapshot") or {}
                for part in (entry.get("request") or {}, entry.get("response") or {}):
                    _learn_headers(part.get("headers"))
                    register_cookie_values([str(c.get("value", "")) for c in part.get("cookies") or []])
            elif event.get("type") == "before":
                calls[str(event.get("callId"))] = str(event.get("method"))
                params = event.get("params") or {}
                if event.get("method") in TYPING:
                    typed += [params[key] for key in ("value", "text") if isinstance(params.get(key), str)]
                if event.get("method") == "addCookies":
                    register_cookie_values([str(c.get("value", "")) for c in params.get("cookies") or []])
            elif event.get("type") == "after" and calls.get(str(event.get("callId"))) in ("cookies", "storageState"):
                result = event.get("result") or {}
                register_cookie_values([str(c.get("value", "")) for c in result.get("cookies") or []])
    return [value for value in typed if len(value) >= MIN_KNOWN_SECRET]


def _learn_headers(headers: object) -> None:
    for header in headers if isinstance(headers, list) else []:
        name, value = _header_name(header), str(header.get("value", "")) if isinstance(header, dict) else ""
        if name in ("cookie", "set-cookie", "set-cookie2"):
            # `a=1; b=2` in a request; `a=1; Path=/; HttpOnly` (one cookie per line) in an answer.
            pairs = value.split(";") if name == "cookie" else [line.split(";", 1)[0] for line in value.splitlines()]
            register_cookie_values([pair.partition("=")[2].strip().strip('"') for pair in pairs])
        elif credential_header(name):
            scheme, _, credential = value.partition(" ")
            register_secret(credential or scheme)


def _pattern(values: list[str]) -> re.Pattern[str] | None:
    forms = {form for value in values for form in encoded_forms(value)}
    if not forms:
        return None
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)), re.IGNORECASE)


class _Scrubber:
    def __init__(self, cif_url: Callable[[str], bool], org_origins: set[str], typed: list[str]) -> None:
        self.cif_url = cif_url
        self.org_origins = org_origins
        self.typed = _pattern(typed)
        self.removed: Counter[str] = Counter()
        self.kept_resources: dict[str, bytes] = {}  # name in the zip -> scrubbed bytes

    # -- any value ------------------------------------------------------------------------------------------------

    def text(self, value: str) -> str:
        if self.typed is not None and self.typed.search(value):
            self.removed["values typed into the page, where else they appeared"] += 1
            value = self.typed.sub(REDACTED, value)
        if known_leaks(value):
            self.removed["known secrets (password, one-time code, cookie and credential values)"] += 1
            value = scrub_known(value)
        shown = redact_url(value) if value.startswith(("http://", "https://", "ws://", "wss://")) else None
        if shown is None:
            shown = redact_text(value)
        if shown != value:
            self.removed["values the redaction rules caught (tokens, keys, secrets in URLs and text)"] += 1
        return shown

    def values(self, data: object, key: str = "", page: bool = False) -> object:
        """`data` with every value of the page redacted. Trace structure (ids, file names, cifcheck's own scripts)
        is kept as it is, except inside a DOM snapshot (`page`), where every name is the page's: an attribute
        called `class` or `source` is page text like any other."""
        if key in STRUCTURE and not page:
            return data
        if key == FIELD_VALUE and data:  # what a field of the page held: masked, as in cifcheck's screenshots
            self.removed["values of the page's input fields"] += 1
            return REDACTED
        page = page or key == "html"
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.values(item, page=page) for item in data]
        if isinstance(data, dict):
            secret = self._names_a_secret(data)
            shown = {}
            for name, value in data.items():
                named_secret = (page or name not in STRUCTURE) and is_secret_name(name)
                if (secret and name in VALUE_FIELDS) or named_secret:
                    hidden = _hidden(value)
                    if hidden is not None:
                        self.removed["values of fields named like secrets (DOM attributes, parameters, page data)"] += 1
                        shown[name] = hidden
                        continue
                shown[name] = self.values(value, name, page)
            return shown
        return data

    @staticmethod
    def _names_a_secret(record: dict) -> bool:
        named = [record[field] for field in NAME_FIELDS if isinstance(record.get(field), str)]
        return any(is_secret_name(name) for name in named) or str(record.get("type", "")).lower() == "password"

    def query_string(self, pairs: object) -> list:
        """A request's query string as a HAR lists it, default-denied like the URL it comes from: the values of
        the parameters redact.py keeps, and no other."""
        shown = []
        for pair in pairs if isinstance(pairs, list) else []:
            if not isinstance(pair, dict):
                continue
            name, value = str(pair.get("name", "")), pair.get("value")
            if value and (name.lower() not in KEPT_PARAMETERS or is_secret_name(name)):
                self.removed["query string values (default-denied, as in the URL)"] += 1
                pair = {**pair, "value": REDACTED}
            shown.append(self.values(pair))
        return shown

    def headers(self, headers: object) -> list:
        kept = []
        for header in headers if isinstance(headers, list) else []:
            name = _header_name(header)
            if name in ("cookie", "set-cookie", "set-cookie2"):
                self.removed["Cookie and Set-Cookie headers"] += 1
            elif credential_header(name):
                self.removed["Authorization and other credential headers"] += 1
            else:
                kept.append(self.values(header))
        return kept

    # -- trace.network --------------------------------------------------------------------------------------------

    def network(self, event: dict, resources: dict[str, bytes]) -> dict:
        entry = event.get("snapshot")
        if event.get("type") != "resource-snapshot" or not isinstance(entry, dict):
            return self.values(event)  # type: ignore[return-value]
        url = str((entry.get("request") or {}).get("url", ""))
        cif = self.cif_url(url)
        for part_name in ("request", "response"):
            part = entry.get(part_name)
            if not isinstance(part, dict):
                continue
            if part.get("cookies"):
                self.removed["cookie lists of requests and answers"] += len(part["cookies"])
            part["cookies"] = []
            part["headers"] = self.headers(part.get("headers"))
            key = "postData" if part_name == "request" else "content"
            if isinstance(part.get(key), dict):
                self.body(part[key], cif, resources)
                part[key] = self.values(part[key])
        scrubbed = self.values({k: v for k, v in entry.items() if k not in ("request", "response")})
        for part_name in ("request", "response"):
            part = entry.get(part_name)
            if isinstance(part, dict):
                scrubbed[part_name] = {  # type: ignore[index]
                    k: v
                    if k in ("headers", "cookies", "postData", "content")
                    else self.query_string(v)
                    if k == "queryString"
                    else self.values(v, k)
                    for k, v in part.items()
                }
        return {**event, "snapshot": scrubbed}

    def body(self, body: dict, cif: bool, resources: dict[str, bytes]) -> None:
        name = body.pop("_file", None) or (f"resources/{body['_sha1']}" if body.get("_sha1") else None)
        body.pop("_sha1", None)
        inline = body.pop("text", None)
        fields = body.pop("params", None)  # a form's fields, the sign-in's password among them
        mime = str(body.get("mimeType", "")).lower()
        if not cif or not (mime.startswith(TEXT_TYPES) or str(name or "").lower().endswith(TEXT_SUFFIXES)):
            if name or inline or fields:
                self.removed["bodies of requests that are not CIF-related (or not text)"] += 1
            return
        if fields is not None:
            body["params"] = fields  # redacted with the rest of the body by the caller
        if isinstance(inline, str):
            body["text"] = self.text(inline)
        data = resources.get(str(name)) if name else None
        if data is None:
            return
        scrubbed = self.text(data.decode("utf-8", errors="replace")).encode()
        suffix = str(name).rsplit(".", 1)[-1] if "." in str(name).rsplit("/", 1)[-1] else "dat"
        kept = f"resources/{hashlib.sha1(scrubbed).hexdigest()}.{suffix}"  # Playwright's own naming
        self.kept_resources[kept] = scrubbed
        body["_file"] = kept

    # -- trace.trace ----------------------------------------------------------------------------------------------

    def action(self, event: dict, calls: dict[str, str]) -> dict | None:
        kind = event.get("type")
        if kind == "context-options":
            options = dict(event.get("options") or {})
            for secret in ("httpCredentials", "storageState", "extraHTTPHeaders", "proxy", "clientCertificates"):
                if secret in options:
                    options.pop(secret)
                    self.removed["credentials in the context's options"] += 1
            return {**self.values({k: v for k, v in event.items() if k != "options"}), "options": self.values(options)}  # type: ignore[dict-item]
        if kind == "before":
            calls[str(event.get("callId"))] = method = str(event.get("method"))
            params = dict(event.get("params") or {})
            if method in TYPING:
                for key in ("value", "text", "files", "payloads"):
                    if key in params:
                        params[key] = REDACTED
                        self.removed["values typed into the page (sign-in)"] += 1
            if method == "addCookies":
                params["cookies"] = REDACTED
                self.removed["cookies cifcheck added or read"] += 1
            if method == "setExtraHTTPHeaders":
                params["headers"] = self.headers(params.get("headers"))
            return {**event, "params": self.values(params)}
        if kind == "after" and calls.get(str(event.get("callId"))) in ("cookies", "storageState"):
            self.removed["cookies cifcheck added or read"] += 1
            return {**event, "result": REDACTED}
        if kind == "frame-snapshot":
            return self.values(event)  # type: ignore[return-value]
        if kind == "screencast-frame":
            return event  # kept or dropped by `screencast`, which knows which page it showed
        return self.values(event)  # type: ignore[return-value]

    def screencast(self, events: list[dict]) -> set[str]:
        """The screencast files to drop: frames whose page was not, just before and just after, on one of the org's
        own origins (a sign-in page, another site, a page in between)."""
        shown: dict[str, list[tuple[float, str]]] = {}
        for event in events:
            snapshot = event.get("snapshot") if event.get("type") == "frame-snapshot" else None
            if isinstance(snapshot, dict) and snapshot.get("isMainFrame"):
                when = snapshot.get("timestamp")
                if isinstance(when, int | float):
                    shown.setdefault(str(snapshot.get("pageId")), []).append((when, str(snapshot.get("frameUrl", ""))))
        dropped = set()
        for event in events:
            if event.get("type") != "screencast-frame":
                continue
            timeline = sorted(shown.get(str(event.get("pageId")), []))
            when = event.get("timestamp") if isinstance(event.get("timestamp"), int | float) else None
            before = [url for at, url in timeline if when is not None and at <= when][-1:]
            after = [url for at, url in timeline if when is not None and at >= when][:1]
            urls = before + after
            if not urls or not all(self._org_page(url) for url in urls):
                dropped.add(str(event.get("file") or f"resources/{event.get('sha1')}"))
        return dropped

    def _org_page(self, url: str) -> bool:
        if url in ("about:blank", ""):
            return True
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() in self.org_origins


def scrub_trace(raw: bytes, cif_url: Callable[[str], bool], org_origins: set[str]) -> Scrubbed:
    """The scrubbed copy of the raw trace zip `raw`: `cif_url` tells a CIF-related request (its body is kept,
    redacted), `org_origins` the org's own origins (their screencast frames are kept)."""
    members, unplaced = _read_zip(raw)
    typed = learn_secrets(members)
    scrubber = _Scrubber(cif_url, {origin.lower() for origin in org_origins}, typed)
    if unplaced:
        scrubber.removed["files named outside the trace's folder (an absolute path, `..`)"] += unplaced
    resources = {name: data for name, data in members.items() if name.startswith("resources/")}
    out: dict[str, bytes] = {}
    calls: dict[str, str] = {}
    dropped_frames: set[str] = set()
    shown_frames: set[str] = set()  # screencast files a kept event shows: any other frame is no one's to keep
    for name, data in members.items():
        if name.endswith(".network"):
            out[name] = _dump([scrubber.network(event, resources) for event in _lines(data)])
        elif name.endswith(".trace"):
            events = _lines(data)
            frames = scrubber.screencast(events)
            dropped_frames |= frames
            kept = []
            for event in events:
                if event.get("type") == "screencast-frame":
                    if str(event.get("file") or "") in frames:
                        continue
                    shown_frames.add(str(event.get("file") or ""))
                if event.get("type") == "resource-snapshot":  # older traces logged the network here
                    kept.append(scrubber.network(event, resources))
                    continue
                scrubbed = scrubber.action(event, calls)
                if scrubbed is not None:
                    kept.append(scrubbed)
            out[name] = _dump(kept)
    if dropped_frames:
        scrubber.removed["screencast frames not showing the org's own pages (sign-in, other sites)"] += len(
            dropped_frames
        )
    for name, data in members.items():
        if name.startswith("screencast/") and name in shown_frames:
            out[name] = data
        elif name.startswith("screencast/") and name not in dropped_frames:
            scrubber.removed["screencast frames no event of the trace shows (which page they showed is unknown)"] += 1
        elif name.endswith(".stacks"):
            scrubber.removed["call stacks (file paths of the machine that ran it)"] += 1
        elif not (name.startswith(("resources/", "screencast/")) or name.endswith((".trace", ".network"))):
            scrubber.removed[f"files Playwright's trace format does not define ({name})"] += 1
    out.update(scrubber.kept_resources)
    kept_names = set(scrubber.kept_resources)
    unneeded = sum(1 for name in resources if name not in kept_names)
    if unneeded:
        scrubber.removed["resource files (page bodies, styles, images) no kept body needs"] += unneeded
    for name, data in out.items():
        text = data.decode("utf-8", errors="replace") if not name.startswith("screencast/") else ""
        if (scrubber.typed is not None and scrubber.typed.search(text)) or known_leaks(text):
            raise SecretLeft(f"{name} still holds a secret after scrubbing (a bug: please report it, without the run)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in out.items():
            archive.writestr(name, data)
    return Scrubbed(buffer.getvalue(), scrubber.removed)


def _read_zip(raw: bytes) -> tuple[dict[str, bytes], int]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise TraceError("not a zip file (a Playwright trace is one)") from None
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_TRACE_BYTES:
            raise TraceError(f"more than {MAX_TRACE_BYTES // 1024**2} MB uncompressed")
        if not any(info.filename.endswith(".trace") for info in infos):
            raise TraceError("no *.trace file in it: not a Playwright trace")
        members, unplaced = {}, 0
        for info in infos:
            if info.is_dir():
                continue
            if not _plain_name(info.filename):  # it would land outside the folder it is unzipped into
                unplaced += 1
                continue
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as error:
                raise TraceError(f"{info.filename} cannot be read ({error})") from None
        return members, unplaced


def _hidden(value: object) -> object | None:
    """A text value (or Playwright's serialized one, `{"s": "…"}`) as `[redacted]`, in the same shape; None for
    anything else (a number, a list, a record: judged by their own names)."""
    if isinstance(value, str) and value:
        return REDACTED
    if isinstance(value, dict) and set(value) == {"s"} and isinstance(value["s"], str) and value["s"]:
        return {"s": REDACTED}
    return None


def _plain_name(name: str) -> bool:
    """A zip member name that stays inside the folder it is unzipped into: relative, no `..`, no drive."""
    parts = name.replace("\\", "/").split("/")
    return bool(name) and not name.startswith(("/", "\\")) and ":" not in name and ".." not in parts
