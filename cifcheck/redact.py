"""Redaction of secrets before anything is stored: URL parameters, JSON fields and bearer strings."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
# A name is secret-looking when it ends in one of these words (customParams.token, sig, access_key, ...).
_SECRET_NAME = re.compile(
    r"(?i)(token|secret|password|passwd|pwd|sig|signature|code|apikey|api_key|accesskey|access_key|key|cookie|"
    r"session|auth|authorization|credential|credentials)$"
)
# "name": "value" in JSON, also inside a JSON string embedded in JSON (quotes escaped as \").
_JSON_FIELD = re.compile(
    r'(?P<open>\\*")(?P<name>[^"\\]{1,80})(?P=open)(?P<sep>\s*:\s*)(?P=open)(?P<value>(?:(?!(?P=open)).)*)(?P=open)'
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# The look-behind makes a match start only where a name starts: long runs of letters (base64) stay linear.
_QUERY_PAIR = re.compile(r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]{1,80})=(?P<value>[^&\s\"'#]*)")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name.strip()))


def redact_url(url: str) -> str:
    """The URL with secret-looking query values replaced; everything else untouched."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return url
    query = urlencode([(name, REDACTED if is_secret_name(name) else value) for name, value in pairs], safe="[]:/")
    return urlunsplit(parts._replace(query=query))


def redact_text(text: str) -> str:
    """Free text (console lines, storage values) with secret-looking JSON fields, query values and tokens hidden."""

    def json_field(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")) or not match.group("value"):
            return match.group(0)
        quote = match.group("open")
        return f"{quote}{match.group('name')}{quote}{match.group('sep')}{quote}{REDACTED}{quote}"

    def query_pair(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")) or not match.group("value"):
            return match.group(0)
        return f"{match.group('name')}={REDACTED}"

    text = _JSON_FIELD.sub(json_field, text)
    text = _QUERY_PAIR.sub(query_pair, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _JWT.sub(REDACTED, text)


# Fields that hold binary data (screenshots) rather than text: never rewritten.
_BINARY_FIELDS = ("image_png_base64", "screenshot_png_base64")


def redact_values(data: object) -> object:
    """Every string in a JSON-like structure redacted; keys and binary fields kept as they are.

    Files cifcheck writes pass through this, so evidence that reached a writer without going through the
    probes (hand-made, or saved by an older cifcheck) still leaves no secret on disk.
    """
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, list):
        return [redact_values(item) for item in data]
    if isinstance(data, dict):
        return {key: value if key in _BINARY_FIELDS else redact_values(value) for key, value in data.items()}
    return data
