"""Redaction: what cifcheck takes from a page, made safe to store and show. The one module every probe's text goes
through (evidence.py's `PageText` and `PageUrl` types call it when a model is built), so a probe cannot forget.

Three rules, strongest first:
- **Known secrets** (the password, the TOTP secret, codes typed, the browser context's cookie values) are removed
  wherever they appear, in every common encoding: raw, percent-encoded (encodeURIComponent, encodeURI, form, twice),
  JSON- and HTML-escaped, base64 and base64url (at any offset inside a longer blob), in any letter case, spaced out.
- **URLs are default-deny**: scheme, host, port and path are kept, and the values of the parameters in
  `KEPT_PARAMETERS`; every other value and every fragment becomes `[redacted]`, keeping the name. A URL nested in a
  parameter (raw or percent-encoded, at any depth) is treated the same way, so channel URLs compare on one normal form.
- **Free text** (console, page errors, titles, storage values, Web API answers): values of secret-looking names in
  `name=value`, `name: value`, `"name": "value"` and quoted forms; authorization strings; JWTs, signed or not;
  base64 blobs that decode to something secret; and long random-looking tokens (`_looks_random`).

Page text also loses broken characters (lone UTF-16 halves) here, which JavaScript can produce and JSON cannot hold.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
import re
import threading
from urllib.parse import quote, quote_plus, unquote, unquote_plus

REDACTED = "[redacted]"

# Parameters whose values are known to be harmless in this domain, and useful to see: Unified Interface's app and
# page addressing (main.aspx?appid=…&pagetype=entityrecord&etn=…&id=…), cache-busting versions of web resources,
# and the host's own flags. Everything else is a marker: a channel URL's custom parameters can carry anything.
KEPT_PARAMETERS = frozenset(
    {
        "appid",
        "appname",
        "pagetype",
        "etn",
        "id",
        "viewid",
        "viewtype",
        "formid",
        "navbar",
        "cmdbar",
        "forceuci",
        "ver",
        "v",
        "lcid",
        "lang",
        "uci",
        "uclient",
        "ucilib",
        "cifversion",
        "timing",
        "scenario",
        # OData query options in cifcheck's own Web API reads: field and table names (never $filter's values).
        "$select",
        "$expand",
        "$orderby",
        "$top",
        "$count",
    }
)

# Secret-looking names. A name is split into words (separators, camelCase, brackets, escapes undone); it is secret
# when its letters contain a stem, or a word is one of the short words (short words only as whole words, so that
# "shipping" has no pin and "author" no auth).
_SECRET_STEMS = (
    "token",
    "secret",
    "passw",
    "passphrase",
    "pwd",
    "apikey",
    "credential",
    "cookie",
    "session",
    "sessid",
    "signature",
    "assertion",
    "samlresponse",
    "privatekey",
    "accesskey",
    "authorization",
    "bearer",
    "jwt",
    "csrf",
    "xsrf",
    "saskey",
    "connectionstring",
)
_SECRET_WORDS = frozenset({"sig", "sas", "otp", "otc", "pin", "sid", "pass", "pw", "auth", "hmac", "mfa", "ticket"})
# "key" and "code" are secret unless a word before them says what ordinary thing they are (a sort key, an error code).
_ORDINARY_KEY = frozenset(
    {"sort", "primary", "foreign", "partition", "row", "cache", "public", "lookup", "entity", "index", "unique",
     "storage", "group", "hot", "sequence", "name", "field", "attribute", "column", "table", "map", "dictionary"}
)  # fmt: skip
_ORDINARY_CODE = frozenset(
    {"error", "status", "country", "lang", "language", "locale", "currency", "response", "http", "exit", "result",
     "type", "reason", "area", "zip", "postal", "region", "product", "source", "key", "char", "color", "iso", "event"}
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _words(name: str) -> list[str]:
    name = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)
    name = unquote_plus(name) if "%" in name or "+" in name else name
    return [word.lower() for word in _WORD.findall(name)]


@functools.lru_cache(maxsize=4096)  # the same field names recur in every record of a profile
def is_secret_name(name: str) -> bool:
    words = _words(name)
    letters = "".join(words)
    if any(stem in letters for stem in _SECRET_STEMS):
        return True
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in _SECRET_WORDS:
            return True
        if word in ("key", "keys") and before not in _ORDINARY_KEY:
            return True
        if word in ("code", "codes") and before not in _ORDINARY_CODE:
            return True
    return False


# ---- known secrets ---------------------------------------------------------------------------------------------

_KNOWN_SECRETS: set[str] = set()
MIN_KNOWN_SECRET = 4
# Cookie values shorter than this ("1", "en-US", "true") are not secrets, and scrubbing them would eat ordinary text.
MIN_COOKIE_SECRET = 8


def _base64_cores(value: bytes) -> set[str]:
    """The parts of `value`'s base64 that are the same wherever `value` sits in a longer encoded blob: one per
    alignment of its first byte in a 3-byte group, each without the characters that depend on neighbouring bytes."""
    cores = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + value).decode().rstrip("=")
            start, end = -(-8 * offset // 6), 8 * (offset + len(value)) // 6
            if end - start >= 6:
                cores.add(encoded[start:end])
    return cores


def _encodings(secret: str) -> set[str]:
    forms = set()
    # Letter case is matched without regard to case, except where upper-casing changes the letters (ß → SS).
    for variant in {secret, secret.upper(), secret[::-1]}:
        forms |= _encodings_of(variant)
    return forms


def _encodings_of(secret: str) -> set[str]:
    escaped_json = json.dumps(secret, ensure_ascii=False)[1:-1]
    once = quote(secret, safe="")
    forms = {
        secret,
        once,
        quote(secret, safe="~()*!'"),  # encodeURIComponent
        quote(once, safe=""),  # percent-encoded twice (a URL in a parameter of a URL)
        quote(secret, safe="~@#$&()*!+=:;,?/'"),  # encodeURI
        quote_plus(secret),
        escaped_json,
        json.dumps(secret, ensure_ascii=True)[1:-1],
        escaped_json.replace("/", "\\/"),
        html.escape(secret),
        html.escape(secret, quote=False),
        html.escape(secret).replace("&#x27;", "&#39;"),
        "".join(f"&#{ord(ch)};" for ch in secret),
    }
    forms |= _base64_cores(secret.encode("utf-8"))
    return {form for form in forms if len(form) >= MIN_KNOWN_SECRET}


def _spaced(secret: str) -> str:
    """The secret written letter by letter with spaces or punctuation between (`h u n t e r 2`)."""
    return r"[\s._\-*|]{1,3}".join(re.escape(ch) for ch in secret if not ch.isspace())


# Every encoding of every known secret, lower-cased. Replaced whole, never changed in place, under the lock: targets
# run in threads, and a reader iterates over the set it picked up.
_forms: frozenset[str] = frozenset()
_spaced_pattern: re.Pattern[str] | None = None
_registering = threading.Lock()


def register_secret(value: str | None, minimum: int = MIN_KNOWN_SECRET, spaced: bool = True) -> bool:
    """Scrub `value` from everything cifcheck stores or shows from now on; whether it was new."""
    global _forms, _spaced_pattern
    if not value or len(value) < minimum:
        return False
    with _registering:
        if value in _KNOWN_SECRETS:
            return False
        _KNOWN_SECRETS.add(value)
        _forms = _forms | {form.lower() for form in _encodings(value)}
        if spaced and len(value) >= 6:
            _SPACED.append(_spaced(value))
            _spaced_pattern = re.compile("|".join(_SPACED), re.IGNORECASE)
    return True


_SPACED: list[str] = []


def register_cookie_values(values: list[str]) -> bool:
    """The browser context's cookie values: a page may echo them (document.cookie) into any text cifcheck reads.
    Cookie values are random, so they are not looked for spaced out. Whether any was new."""
    new = False
    for value in values:
        new |= register_secret(value, MIN_COOKIE_SECRET, spaced=False)
        if "%" in value:
            new |= register_secret(unquote(value), MIN_COOKIE_SECRET, spaced=False)
    return new


def _present(text: str) -> list[str]:
    # A substring test per form is fast in C; a regex of hundreds of alternatives is not (cookies make many forms).
    lowered = text.lower()
    return [form for form in _forms if form in lowered]


def scrub_known(text: str) -> str:
    if not _forms:
        return text
    present = _present(text)
    if present:
        pattern = "|".join(re.escape(form) for form in sorted(present, key=len, reverse=True))
        text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
    return _spaced_pattern.sub(REDACTED, text) if _spaced_pattern is not None else text


def known_leaks(text: str) -> bool:
    """Whether `text` still holds a known secret in any encoding: what writers verify before writing."""
    return bool(_forms) and (
        bool(_present(text)) or (_spaced_pattern is not None and bool(_spaced_pattern.search(text)))
    )


# ---- URLs ------------------------------------------------------------------------------------------------------

_URL_START = re.compile(r"(?i)^(?:https?|wss?)://")
_SURROGATE = re.compile("[\ud800-\udfff]")
_KEEP_WHOLE = ("about:", "chrome-error:", "chrome:", "blob:", "sandbox:")


def clean(text: str) -> str:
    """`text` without lone surrogates (half of a character cut by page JavaScript), replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _nested_url(value: str) -> str | None:
    """A parameter value that is a URL, however many times percent-encoded, redacted and encoded back; else None."""
    decoded, depth = value, 0
    while depth < 4 and not _URL_START.match(decoded) and "%" in decoded:
        decoded, depth = unquote_plus(decoded), depth + 1
    if not _URL_START.match(decoded):
        return None
    redacted = redact_url(decoded)
    for _ in range(depth):
        redacted = quote(redacted, safe="[]")
    return redacted


def _redact_pairs(text: str, separator: str = "&") -> str:
    pieces = []
    for piece in text.split(separator):
        name, has_value, value = piece.partition("=")
        if not has_value:
            # A bare piece is a value with no name (`?SECRET`), unless it is a short flag word.
            pieces.append(piece if re.fullmatch(r"[A-Za-z][A-Za-z_-]{0,19}", piece) or not piece else REDACTED)
            continue
        shown_name = name if len(name) <= 80 else REDACTED
        shown_name = _redact_free(shown_name) if shown_name != REDACTED else shown_name
        nested = _nested_url(value) if value else None
        if nested is not None:
            shown = nested
        elif not value or value == REDACTED:
            shown = value
        elif unquote_plus(name).lower() in KEPT_PARAMETERS and not is_secret_name(name):
            shown = _redact_free(value)
        else:
            shown = REDACTED
        pieces.append(f"{shown_name}={shown}")
    return separator.join(pieces)


_URL_PARTS = re.compile(r"(?is)^([a-z][a-z0-9+.-]*:)?(//[^/?#]*)?(.*)$")


def redact_url(url: str) -> str:
    """The URL default-denied: scheme, host, port and path kept; values of parameters not in KEPT_PARAMETERS, every
    fragment, and any user name or password replaced by `[redacted]`. Relative URLs too. Idempotent."""
    url = scrub_known(clean(url))
    if not url or url.lower().startswith(_KEEP_WHOLE):
        return url
    match = _URL_PARTS.match(url)
    assert match is not None  # the pattern matches any text
    scheme, authority, rest = match.group(1) or "", match.group(2) or "", match.group(3)
    if scheme and not authority and scheme.lower() not in ("http:", "https:", "ws:", "wss:"):
        return f"{scheme}{REDACTED}" if rest else url  # data:, javascript:, mailto: ... carry only a value
    if "@" in authority:
        authority = f"//{REDACTED}@{authority.rsplit('@', 1)[1]}"
    before_fragment, has_fragment, fragment = rest.partition("#")
    path, has_query, query = before_fragment.partition("?")
    shown = scheme + authority + _redact_path(path)
    if has_query:
        shown += "?" + _redact_pairs(query)
    if has_fragment:
        pairs = "=" in fragment and not fragment.lstrip().startswith(("{", "["))
        shown += "#" + (_redact_pairs(fragment) if pairs else REDACTED if fragment else "")
    return shown


def _redact_path(path: str) -> str:
    # Matrix parameters (`;jsessionid=…`) are parameters too; path segments keep only what free text keeps.
    segments = []
    for segment in path.split("/"):
        head, has_parameters, parameters = segment.partition(";")
        segments.append(_redact_free(head) + (";" + _redact_pairs(parameters, ";") if has_parameters else ""))
    return "/".join(segments)


# ---- free text -------------------------------------------------------------------------------------------------

_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>\\`]+")
_ENCODED_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?|wss?)(?:%3A|%253A)(?:%2F|%252F){2}[A-Za-z0-9%._~+\-]*")
_NAME_CHARS = r"A-Za-z0-9_.\-\[\]"
# A percent escape belongs to a name (`user%5Bpassword%5D`) unless it is an encoded separator (`=`, `:`, `&`).
_NAME_PERCENT = r"%(?!3[dDaA]|26|253[dDaA]|2526)"
_SCHEMES = r"(?:bearer|basic|token|negotiate|ntlm|digest|sharedaccesssignature|mac|hawk|sso)"
_PAIR = re.compile(
    rf"(?<![{_NAME_CHARS}%\\])"
    rf"(?P<quote>\\*[\"']?)(?P<name>(?:\\u[0-9a-fA-F]{{4}}|{_NAME_PERCENT}|[{_NAME_CHARS}]){{1,300}})(?P=quote)"
    r"(?P<sep>[ \t]*(?:=|:|%3[dDaA]|%253[dDaA])[ \t]*)"
    rf"(?P<scheme>{_SCHEMES}(?:[ \t]+|%20|\+))?"
    r"(?P<value>(?P<vq>\\*[\"'])(?:\\.|(?!(?P=vq)).)*?(?P=vq)|(?:(?!%26|%2526|%3[bB])[^\s&\"'#;,<>()\[\]{}|\\`])+)",
    re.IGNORECASE,
)
_AUTHORIZATION = re.compile(
    r"(?i)\b(bearer|basic|negotiate|ntlm|digest|sharedaccesssignature)(\s+|%20|\+)[A-Za-z0-9\-._~+/%]+=*"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?")
_GUID = re.compile(r"(?i)^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$")
_BLOB = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9][A-Za-z0-9+/_-]{15,}={0,2}(?![A-Za-z0-9+/_=-])")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"']+@")


def _looks_random(token: str) -> bool:
    """A run of base64 letters that reads like random data rather than a name: upper- and lower-case letters and
    digits all present, and the kind of character changing at most steps. Random base64 changes kind at about 65%
    of steps; names, even `msdyn_CIFV2Loader` or `contoso_PhoneChannel2023`, at under 35%. GUIDs, hex digests
    (one letter case) and numbers never match."""
    token = token.rstrip("=")
    if _GUID.match(token) or not (
        re.search("[A-Z]", token) and re.search("[a-z]", token) and re.search("[0-9]", token)
    ):
        return False

    def kind(ch: str) -> int:
        return 0 if ch.isupper() else 1 if ch.islower() else 2 if ch.isdigit() else 3

    changes = sum(kind(a) != kind(b) for a, b in itertools.pairwise(token))
    return changes / (len(token) - 1) >= 0.45


def _decodes_to_secret(token: str) -> bool:
    """Whether a base64 blob decodes to text that holds a secret (`password=…`, a JWT, a known secret)."""
    padded = token + "=" * (-len(token) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            text = decode(padded).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if text.isprintable() and _redact_patterns(text) != text:
            return True
    return False


def _redact_blob(match: re.Match[str]) -> str:
    token = match.group(0)
    if _looks_random(token) or _decodes_to_secret(token):
        return REDACTED
    if "/" not in token:
        return token
    # Not a blob as a whole: a path (`WebResources/…`), whose segments are judged one by one.
    return "/".join(REDACTED if len(part) >= 16 and _looks_random(part) else part for part in token.split("/"))


def _pair(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("name")):
        return match.group(0)
    value = match.group("value")
    quote_mark = match.group("vq") or ""
    shown = f"{quote_mark}{REDACTED}{quote_mark}" if quote_mark and len(value) > 2 * len(quote_mark) else REDACTED
    if quote_mark and len(value) <= 2 * len(quote_mark):
        shown = value  # an empty value: nothing to hide
    return match.group(0)[: match.start("sep") - match.start()] + match.group("sep") + shown


def _redact_pairs_in_text(text: str) -> str:
    """Every secret-named pair replaced. A pair whose name is ordinary is not skipped whole: its value is scanned
    too, since it may hold a pair of its own (`failed: client_secret=…`)."""
    shown, position = [], 0
    while (match := _PAIR.search(text, position)) is not None:
        if is_secret_name(match.group("name")):
            shown.append(text[position : match.start()] + _pair(match))
            position = match.end()
        else:
            shown.append(text[position : match.start("value")])
            position = match.start("value")
    return "".join(shown) + text[position:]


_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]{1,40}-----.*?(?:-----END [A-Z0-9 ]{1,40}-----|$)", re.S)


def _redact_patterns(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _PEM.sub(REDACTED, text)
    text = _redact_pairs_in_text(text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    return _BLOB.sub(_redact_blob, text)


def _redact_free(text: str) -> str:
    """Free text without URLs: known secrets are gone already."""
    return _redact_patterns(text) if text else text


_EMPTY = (None, "")


def _redact_json(value: object) -> object:
    if isinstance(value, dict):
        # {"name": "token", "value": "…"}: a secret named by a sibling field.
        named_secret = any(
            isinstance(value.get(field), str) and is_secret_name(value[field]) for field in ("name", "key", "Name")
        )
        return {
            key: REDACTED
            if (is_secret_name(str(key)) or (named_secret and key in ("value", "Value")))
            and value[key] not in (None, "")
            else _redact_json(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [_redact_json(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Free text with secrets hidden (the module docstring has the rules). JSON is redacted field by field, so its
    structure survives for the checks; every URL in it or in other text is default-denied like `redact_url`."""
    text = scrub_known(clean(text))
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.dumps(_redact_json(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass  # not JSON after all: redact it as text
    if _URL_START.match(text) and not re.search(r"\s", text):
        return redact_url(text)
    text = _ENCODED_URL_IN_TEXT.sub(lambda m: _nested_url(m.group(0)) or REDACTED, text)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _redact_patterns(text)


_KEY_NAME_PART = re.compile(r"[^.:|/@\s]+")
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,39}")


def redact_key_name(name: str) -> str:
    """A storage key name that is not a CIF key, default-denied like a URL: sign-in libraries put ids and
    authorities in key names (`oidc.user:<authority>:<client id>`). Parts that are plain words stay; the rest is
    `[redacted]`, so the shape of the name remains for diagnosis."""
    return _KEY_NAME_PART.sub(lambda m: m.group(0) if _PLAIN_WORD.fullmatch(m.group(0)) else REDACTED, name)


# Fields that hold binary data (screenshots) rather than text: never rewritten.
_BINARY_FIELDS = ("image_png_base64", "screenshot_png_base64")


def redact_values(data: object) -> object:
    """Every string in a JSON-like structure redacted (keys cleaned); binary fields kept as they are."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, list):
        return [redact_values(item) for item in data]
    if isinstance(data, dict):
        return {
            clean(str(key)): value if key in _BINARY_FIELDS else redact_values(value) for key, value in data.items()
        }
    return data
