"""`cifcheck bundle`: one zip a customer can send a support engineer, and `cifcheck report BUNDLE.zip` to re-judge it.

A bundle holds a run's (or some targets') evidence, result and report, the page and panel screenshots, the console
and the CIF-related requests on their own, and on request a scrubbed trace (trace_scrub.py). Its manifest lists every
file and what was removed. The finished zip is scanned, every file and every file of each trace inside it, for the
known secrets (the password and one-time code secret cifcheck can read, cookie values of the saved sessions and of
the trace, credential header values): one found, and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError

from cifcheck import __version__
from cifcheck.checks.profile import channel_providers
from cifcheck.checks.resources import host
from cifcheck.config import Config, ConfigError, parse_json_text, regular_file
from cifcheck.config_messages import capped, problems
from cifcheck.credentials import load_secrets
from cifcheck.evidence import EVIDENCE_VERSION, Evidence, ResourceLoad
from cifcheck.redact import known_leaks, register_cookie_values, register_secret
from cifcheck.report.html import render_html
from cifcheck.trace_scrub import SecretLeft, TraceError, scrub_trace

BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
MAX_MEMBER_BYTES = 256 * 1024**2  # uncompressed, any one file of a bundle read back
MAX_BUNDLE_BYTES = 1024**3  # uncompressed, all of them
MAX_RAW_TRACE_BYTES = 512 * 1024**2
# Web API tables a CIF page load reads: the providers (2.0 and 1.0), the agent experience profiles and their
# extensions. Their answers are what a support engineer compares.
CIF_TABLES = re.compile(
    r"(?i)/api/data/v[0-9.]+/(msdyn_channelproviders?|msdyn_ciproviders?|msdyn_appconfigurations?|"
    r"msdyn_applicationextensions?|msdyn_appconfig_msdyn_channelprovider)\b"
)
CIF_FILES = re.compile(r"(?i)(msdyn_ci[a-z]*\.js|channelintegrationframework[a-z_]*\.js|msdyn_cifv2loader)")
_JWT = re.compile(rb"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
BINARY_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


class BundleError(Exception):
    """A bundle that cannot be made or read: one line per problem, each naming the file or the option."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class BundledFile(BaseModel):
    path: str
    bytes: int
    sha256: str
    what: str


class Removal(BaseModel):
    what: str
    count: int
    where: str


class Manifest(BaseModel):
    bundle_version: int = BUNDLE_VERSION
    evidence_version: int = EVIDENCE_VERSION
    cifcheck_version: str = __version__
    created_at: str = ""
    run_id: str = ""
    targets: list[str] = Field(default_factory=list)
    files: list[BundledFile] = Field(default_factory=list)
    removed: list[Removal] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What was asked for and is not in the bundle, and why.")


# ---- what is CIF-related ---------------------------------------------------------------------------------------


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme in ("http", "https") and parts.netloc else ""


def provider_hosts(evidence: Evidence) -> set[str]:
    hosts = {host(p.channel_url) for p in channel_providers(evidence) or [] if p.channel_url}
    hosts |= {host(w.src or w.url) for w in (evidence.panel.widgets if evidence.panel else [])}
    org = host(evidence.target.opened_url)
    return hosts - {"", org}


def cif_related_url(url: str, evidence: Evidence, hosts: set[str] | None = None) -> bool:
    """Whether a request is one a CIF page load is judged by: the CIF libraries and loader, the Web API reads of
    the CIF tables, and whatever goes to a provider's host."""
    library = evidence.settings.library_file.lower()
    path = (urlsplit(url).path if "://" in url else url).lower()
    if (library and path.endswith("/" + library)) or CIF_FILES.search(path) or CIF_TABLES.search(url):
        return True
    return host(url) in (provider_hosts(evidence) if hosts is None else hosts)


def cif_requests(evidence: Evidence) -> list[ResourceLoad]:
    hosts = provider_hosts(evidence)
    widget_frames = {w.frame_index for w in (evidence.panel.widgets if evidence.panel else [])} - {None}
    return [
        load
        for load in evidence.resources or []
        if cif_related_url(load.url, evidence, hosts) or load.frame_index in widget_frames
    ]


def org_origins(evidence: Evidence) -> set[str]:
    origins = {_origin(evidence.target.opened_url), _origin(evidence.navigation.final_url)}
    if evidence.dataverse is not None:
        origins.add(_origin(evidence.dataverse.org_url))
    if evidence.navigation.sign_in_page:
        origins.discard(_origin(evidence.navigation.final_url))  # the load ended on a sign-in page
    return origins - {""}


# ---- secrets the bundle must not hold -------------------------------------------------------------------------


def register_config_secrets(config: Config) -> None:
    """Every secret `config` leads to that can be read here: its credentials (environment or file) and the cookie
    and storage values of its saved sessions. What cannot be read is skipped: a bundle is often made elsewhere."""
    for credentials in [config.auth.credentials, *(t.credentials for t in config.targets if t.credentials)]:
        with contextlib.suppress(ConfigError, OSError):
            load_secrets(credentials)
    for _, path in config.saved_sessions():
        register_storage_state(Path(path))


def register_storage_state(path: Path) -> None:
    try:
        if not path.is_file() or path.stat().st_size > 64 * 1024**2:
            return
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return
    if not isinstance(state, dict):
        return
    cookies = state.get("cookies") if isinstance(state.get("cookies"), list) else []
    register_cookie_values([str(c.get("value", "")) for c in cookies if isinstance(c, dict)])
    for origin in state.get("origins") or [] if isinstance(state.get("origins"), list) else []:
        for item in (origin.get("localStorage") or []) if isinstance(origin, dict) else []:
            if isinstance(item, dict):
                register_secret(str(item.get("value", "")), minimum=16)  # tokens, not "true" or "en-US"


# ---- making a bundle -------------------------------------------------------------------------------------------


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _read_evidence(path: Path) -> Evidence:
    from cifcheck.offline import EvidenceError, load_evidence

    try:
        return load_evidence(path)
    except EvidenceError as error:
        raise BundleError(*error.lines) from None


def _decoded(picture: str) -> bytes:
    try:
        return base64.b64decode(picture, validate=True)
    except (binascii.Error, ValueError):
        return b""


def make_bundle(run_dir: Path, targets: list[str], with_trace: bool) -> tuple[bytes, Manifest]:
    """The bundle of the run in `run_dir` (only `targets` when given) as zip bytes, and its manifest. Refuses
    (BundleError) when a known secret is left in any file."""
    from cifcheck.merge import read_result

    result = read_result(run_dir / "result.json", BundleError, "bundle it with that version", "result.json")
    names = [t.target for t in result.targets]
    unknown = [name for name in targets if name not in names]
    if unknown:
        raise BundleError(f"--target: no target named {', '.join(unknown)} in run {result.run_id} ({', '.join(names)})")
    chosen = [t for t in result.targets if not targets or t.target in targets]
    result = result.model_copy(update={"targets": chosen})
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"), run_id=result.run_id)
    manifest.targets = [t.target for t in chosen]
    files: dict[str, tuple[bytes, str]] = {}
    removed: list[Removal] = []
    evidence: list[Evidence] = []
    for target in chosen:
        name = target.target
        path = run_dir / "evidence" / f"{name}.json"
        if target.not_run or not path.exists():
            manifest.notes.append(f"{name}: no evidence (the target did not run)")
            continue
        item = _read_evidence(path)
        if with_trace:
            trace = _scrubbed_trace(item, manifest)
            if trace is not None:
                where = f"traces/{name}.trace.zip"
                files[where] = (trace[0], "the page load's Playwright trace, scrubbed")
                removed += [Removal(what=what, count=count, where=where) for what, count in trace[1]]
        if item.trace_file:
            removed.append(
                Removal(what="the raw trace's path on the machine that ran it", count=1, where=f"evidence/{name}.json")
            )
            item = item.model_copy(update={"trace_file": ""})
        evidence.append(item)
        files[f"evidence/{name}.json"] = (item.model_dump_json(indent=2).encode(), "the evidence (cifcheck report)")
        page = _decoded(item.screenshot_jpeg_base64)
        if page:
            files[f"screenshots/{name}.page.jpg"] = (page, "what the browser showed when gathering ended")
        panel = _decoded(item.panel.screenshot_png_base64) if item.panel else b""
        if panel:
            files[f"screenshots/{name}.panel.png"] = (panel, "the communication panel")
        requests = [load.model_dump(exclude_none=True) for load in cif_requests(item)]
        files[f"network/{name}.json"] = (_json(requests), "CIF-related requests and their outcomes")
        console = [entry.model_dump() for entry in item.console or []]
        files[f"console/{name}.json"] = (_json(console), "console messages and page errors, every frame")
    files["result.json"] = (result.model_dump_json(indent=2).encode(), "the verdicts as the run gave them")
    files["index.html"] = (render_html(result, evidence).encode(), "the report")
    manifest.files = [
        BundledFile(path=path, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), what=what)
        for path, (data, what) in files.items()
    ]
    manifest.removed = removed
    data = _zip({MANIFEST: manifest.model_dump_json(indent=2).encode(), **{p: d for p, (d, _) in files.items()}})
    leaked = leaks(data)
    if leaked:
        raise BundleError(
            f"bundle not written: {leaked} still holds a known secret after scrubbing (a bug: please report it, "
            "without the run)"
        )
    return data, manifest


def _scrubbed_trace(item: Evidence, manifest: Manifest) -> tuple[bytes, list[tuple[str, int]]] | None:
    name = item.target.name
    if not item.trace_file:
        manifest.notes.append(
            f"{name}: no trace (none was kept for it: `--trace on` keeps every target's, `--trace retain-on-failure` "
            "only a target's with a fail or an error)"
        )
        return None
    path = Path(item.trace_file)
    try:
        regular_file(path, "trace", BundleError)
        if path.stat().st_size > MAX_RAW_TRACE_BYTES:
            raise BundleError(f"{path}: larger than {MAX_RAW_TRACE_BYTES // 1024**2} MB")
        raw = path.read_bytes()
    except (BundleError, OSError) as error:
        why = error.lines[0] if isinstance(error, BundleError) else (error.strerror or str(error))
        manifest.notes.append(f"{name}: no trace ({why})")
        return None
    hosts = provider_hosts(item)
    try:
        scrubbed = scrub_trace(raw, lambda url: cif_related_url(url, item, hosts), org_origins(item))
    except SecretLeft as error:
        raise BundleError(f"bundle not written: traces/{name}.trace.zip: {error}") from None
    except TraceError as error:
        manifest.notes.append(f"{name}: no trace ({path}: {error})")
        return None
    return scrubbed.data, sorted(Counter(scrubbed.removed).items())


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def leaks(data: bytes, within: str = "") -> str:
    """The first file of zip `data` (and of any zip inside it) that holds a known secret or a token-shaped value
    (a JWT), "" when none does. Pictures are not text and are skipped."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            where = f"{within}{name}"
            if name.endswith(".zip") and zipfile.is_zipfile(io.BytesIO(content)):
                found = leaks(content, f"{where}:")
                if found:
                    return found
                continue
            if name.lower().endswith(BINARY_SUFFIXES):
                continue
            if known_leaks(content.decode("utf-8", errors="replace")) or _JWT.search(content):
                return where
    return ""


def write_bundle(data: bytes, path: Path, replace: bool) -> None:
    """`data` written to `path` whole or not at all; an existing file is kept unless `replace`."""
    if path.is_dir():
        raise BundleError(f"--out: {path} is a folder; give the zip's file name (--out {path / 'bundle.zip'})")
    if path.exists() and not replace:
        raise BundleError(f"--out: {path} exists; give another file or --force to replace it")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BundleError(f"--out: cannot write {path}: {error.strerror or error}") from None
    except BaseException:  # interrupted: no half-written bundle left behind
        temporary.unlink(missing_ok=True)
        raise


# ---- reading a bundle back -------------------------------------------------------------------------------------


def is_bundle(path: Path) -> bool:
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


def read_bundle(path: Path) -> tuple[Manifest, list[Evidence]]:
    """The manifest and evidence of the bundle at `path`, every problem naming the bundle and the file in it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError(f"{path}: not a bundle cifcheck can read ({error})") from None
    from cifcheck.offline import parse_evidence

    with archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        if sum(info.file_size for info in infos.values()) > MAX_BUNDLE_BYTES:
            raise BundleError(f"{path}: more than {MAX_BUNDLE_BYTES // 1024**2} MB uncompressed: not a cifcheck bundle")
        if MANIFEST not in infos:
            raise BundleError(f"{path}: no {MANIFEST} in it: not a bundle `cifcheck bundle` made")
        manifest = _manifest(path, _member(path, archive, infos[MANIFEST]))
        evidence = []
        for name in sorted(infos):
            if re.fullmatch(r"evidence/[^/]+\.json", name):
                text = _member(path, archive, infos[name])
                evidence.append(parse_evidence(text, f"{path}:{name}", BundleError))
    if not evidence:
        raise BundleError(f"{path}: no evidence/*.json in it: nothing to re-judge")
    return manifest, evidence


def _member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    if info.file_size > MAX_MEMBER_BYTES:
        raise BundleError(f"{path}:{info.filename}: larger than {MAX_MEMBER_BYTES // 1024**2} MB")
    try:
        return archive.read(info).decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{path}:{info.filename}: not UTF-8 text") from None
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as error:
        raise BundleError(f"{path}:{info.filename}: cannot be read ({error})") from None


def _manifest(path: Path, text: str) -> Manifest:
    where = f"{path}:{MANIFEST}"
    data = parse_json_text(text, where, BundleError)  # numbers too long and nesting too deep too, on one line
    version = data.get("bundle_version") if isinstance(data, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(f"{where}: bundle_version: missing or not a number: not a bundle `cifcheck bundle` made")
    if version > BUNDLE_VERSION:
        made_by = data.get("cifcheck_version") if isinstance(data.get("cifcheck_version"), str) else "a newer cifcheck"
        raise BundleError(
            f"{where}: bundle version {version} (made by cifcheck {made_by}); this cifcheck ({__version__}) reads "
            f"bundle version {BUNDLE_VERSION}: upgrade cifcheck to re-judge it"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        raise BundleError(*(f"{where}: {line}" for line in capped(problems(error, Manifest)))) from None
