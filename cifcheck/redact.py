"""Redaction of secrets before anything is stored or shown: URL credentials and parameters, JSON fields,
authorization strings and tokens. Page text also loses broken characters (lone UTF-16 halves) here, which
JavaScript can produce and JSON files cannot hold."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
# A name is secret-looking when it ends in one of these words (customParams.token, sig, access_key, ...).
_SECRET_NAME = re.compile(
    r"(?i)(token|secret|password|passwd|pwd|sig|signature|code|apikey|api_key|accesskey|access_key|key|cookie|"
    r"cookies|session|auth|authorization|credential|credentials|otc)$"
)
# "name": "value" in JSON text, with the value's escapes honoured.
_JSON_FIELD = re.compile(r'"(?P<name>[^"\\]{1,80})"(?P<sep>\s*:\s*)"(?P<value>(?:\\.|[^"\\])*)"')
# The same inside a JSON string embedded in JSON, where quotes are escaped as \" (or \\\" one level deeper).
_ESCAPED_JSON_FIELD = re.compile(
    r'(?P<open>\\+")(?P<name>[^"\\]{1,80})(?P=open)(?P<sep>\s*:\s*)(?P=open)(?P<value>(?:(?!(?P=open)).)*)(?P=open)'
)
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic|negotiate|ntlm)(\s+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"']+@")
# The look-behind makes a match start only where a name starts: long runs of letters (base64) stay linear.
_QUERY_PAIR = re.compile(r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]{1,80})=(?P<value>[^&\s\"'#;]*)")


_SURROGATE = re.compile("[\ud800-\udfff]")


# The actual secrets in use (passwords, TOTP secrets, codes typed): scrubbed wherever they turn up, since a
# sign-in page may echo one in an error message or a URL, under no name a pattern could recognise.
_KNOWN_SECRETS: set[str] = set()
MIN_KNOWN_SECRET = 4


def register_secret(value: str | None) -> None:
    if value and len(value) >= MIN_KNOWN_SECRET:
        _KNOWN_SECRETS.update({value, quote(value, safe=""), quote_plus(value)})


def _scrub_known(text: str) -> str:
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def clean(text: str) -> str:
    """`text` without lone surrogates (half of a character cut by page JavaScript), replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name.strip()))


def _redact_pairs(text: str) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return text
    return urlencode([(name, REDACTED if is_secret_name(name) else value) for name, value in pairs], safe="[]:/")


def redact_url(url: str) -> str:
    """The URL without credentials in it, and with secret-looking query or fragment values replaced."""
    url = _scrub_known(clean(url))
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return redact_text(url)
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    fragment = _redact_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
    query = _redact_pairs(parts.query) if parts.query else parts.query
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


def _redact_json(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_name(str(key)) and value[key] not in (None, "") else _redact_json(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [_redact_json(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Free text (console lines, storage values) with secrets hidden. JSON is redacted field by field;
    other text by pattern: JSON-looking fields, URL credentials and parameters, authorization strings, JWTs."""
    text = _scrub_known(clean(text))
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.dumps(_redact_json(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass  # not JSON after all: redact it as text

    def json_field(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")) or not match.group("value"):
            return match.group(0)
        quote = match.groupdict().get("open") or '"'
        return f"{quote}{match.group('name')}{quote}{match.group('sep')}{quote}{REDACTED}{quote}"

    def query_pair(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")) or not match.group("value"):
            return match.group(0)
        return f"{match.group('name')}={REDACTED}"

    text = _ESCAPED_JSON_FIELD.sub(json_field, text)
    text = _JSON_FIELD.sub(json_field, text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _QUERY_PAIR.sub(query_pair, text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return _JWT.sub(REDACTED, text)


# Fields that hold binary data (screenshots) rather than text: never rewritten.
_BINARY_FIELDS = ("image_png_base64", "screenshot_png_base64")


def redact_values(data: object) -> object:
    """Every string in a JSON-like structure redacted (keys cleaned); binary fields kept as they are.

    Files cifcheck writes pass through this, so evidence that reached a writer without going through the
    probes (hand-made, or saved by an older cifcheck) still leaves no secret on disk.
    """
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, list):
        return [redact_values(item) for item in data]
    if isinstance(data, dict):
        return {
            clean(str(key)): value if key in _BINARY_FIELDS else redact_values(value) for key, value in data.items()
        }
    return data
