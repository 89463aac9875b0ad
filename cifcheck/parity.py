"""What the migration copies from a CIF 1.0 provider to its CIF 2.0 provider, and the normal form each value is
compared in. Shared by the Web API probe (which fingerprints the values redaction would hide) and the parity check.

The migration document (step 2): the channel URL and the other attribute values of the CIF 1.0 provider are copied
into the new CIF 2.0 provider. Values that mean the same compare equal: a host's letter case, a default port, a
trailing slash, the order of query parameters, JSON whitespace and key order, 1 and "1", an unset switch and false.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cifcheck.redact import redact_text

Kind = Literal["url", "text", "number", "domains", "json", "switch"]


@dataclass(frozen=True)
class ParityField:
    label: str
    v1: str  # msdyn_ciprovider column
    v2: str  # msdyn_channelprovider column
    kind: Kind


PARITY_FIELDS = (
    ParityField("Channel URL", "msdyn_landingurl", "msdyn_channelurl", "url"),
    ParityField("Label", "msdyn_label", "msdyn_label", "text"),
    ParityField("Sort order", "msdyn_sortorder", "msdyn_sortorder", "number"),
    ParityField("Trusted domain", "msdyn_trusteddomain", "msdyn_trusteddomain", "domains"),
    ParityField("Custom parameters", "msdyn_customparams", "msdyn_customparams", "json"),
    ParityField("Enable analytics", "msdyn_enableanalytics", "msdyn_enableanalytics", "switch"),
)


def canonical_url(value: object) -> str:
    """A URL in a normal form: scheme and host in lower case, no default port, no trailing slash, query parameters
    sorted; the fragment kept (single-page widgets route by it). Text that is no URL is only trimmed."""
    text = "" if value is None else str(value).strip()
    try:
        parts = urlsplit(text)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return text
    if parts.scheme.lower() not in ("http", "https") or not host:
        return text
    scheme = parts.scheme.lower()
    netloc = host if port in (None, {"http": 80, "https": 443}[scheme]) else f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), query, parts.fragment))


def canonical(kind: Kind, value: object) -> str:
    """`value` in the normal form its kind is compared in."""
    if isinstance(value, str | int | float | bool | None):
        return _canonical(kind, value)  # thousands of providers: each value is normalised once
    return _normal_form(kind, value)


@functools.lru_cache(maxsize=65_536)
def _canonical(kind: Kind, value: str | int | float | bool | None) -> str:
    return _normal_form(kind, value)


def _normal_form(kind: Kind, value: object) -> str:
    if kind == "url":
        return canonical_url(value)
    if kind == "switch":
        return "true" if value is True or str(value).strip().lower() in ("true", "1", "yes") else "false"
    text = "" if value is None else str(value).strip()
    if kind == "number":
        try:
            return format(float(text), "g") if text else ""
        except ValueError:
            return text
    if kind == "domains":
        # One or several domains, with or without a scheme, separated by ; , or spaces. CIF compares the sender's
        # domain by host name only, the port ignored (cif-facts.md): so scheme, port and path do not count here.
        return ";".join(sorted({host for host in map(_host, _split(text)) if host}))
    if kind == "json":
        try:
            return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (ValueError, RecursionError):
            return text
    return text


def _host(name: str) -> str:
    try:
        return (urlsplit(name if "://" in name else f"https://{name}").hostname or "").rstrip(".")
    except ValueError:
        return name.lower()


def _split(text: str) -> list[str]:
    for separator in ",; \t\n":
        text = text.replace(separator, " ")
    return text.split()


# Custom parameters are the provider's own settings, API keys among them: never kept, only described and fingerprinted.
NOT_KEPT = ("msdyn_customparams",)


def described(value: object) -> str:
    """What a value that is not kept looked like: its JSON keys, or its length."""
    text = "" if value is None else str(value)
    if not text.strip():
        return ""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        # Each name redacted whole before it is cut: the first 40 characters of a secret are no longer recognised.
        keys = ", ".join(redact_text(key)[:40] for key in sorted(str(key) for key in parsed)[:12])
        return f"(not kept: JSON with keys {keys})" if keys else "(not kept: an empty JSON object)"
    return f"(not kept: {len(text):,} characters)"


def fingerprint(key: bytes, kind: Kind, value: object) -> str:
    """A keyed fingerprint of a value's normal form. The key is random and never stored, so a fingerprint tells
    only whether two values of one read were equal: nothing of the value can be recovered or tried against it."""
    return hmac.new(key, canonical(kind, value).encode(), hashlib.sha256).hexdigest()[:16]
