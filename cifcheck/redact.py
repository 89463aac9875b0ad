"""Redaction: what cifcheck takes from a page, made safe to store and show. The one module every probe's text goes
through (evidence.py's `PageText` and `PageUrl` types call it when a model is built), so a probe cannot forget.

Three rules, strongest first:
- **Known secrets** (the password, the TOTP secret, codes typed, the browser context's cookie values) are removed
  wherever they appear, in every common encoding: raw, percent-encoded (encodeURIComponent, encodeURI, form, twice),
  JSON- and HTML-escaped, escaped per character, hex, base32, base64 and base64url (at any offset inside a longer
  blob), in any letter case, reversed, spaced out.
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
import unicodedata
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
        # The bundled sandbox's own widget parameters (which scenario and timing profile a frame belongs to).
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

# Parameters kept only when their value has a harmless shape: Unified Interface's error page names the error by
# its HRESULT (errorhandler.aspx?ErrorCode=0x80040220), the one fact needed to diagnose it.
_HRESULT_OR_NUMBER = re.compile(r"0x[0-9A-Fa-f]{1,8}|-?[0-9]{1,10}")
_KEPT_IF_SHAPED = {"errorcode": _HRESULT_OR_NUMBER}

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
# Characters that can hide inside a name: zero-width ones, the soft hyphen, the word joiner, the BOM.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))


def _words(name: str) -> list[str]:
    name = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)
    name = unicodedata.normalize("NFKC", name)  # full-width letters, compatibility forms
    name = name.translate(_DROP_INVISIBLE)
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
        # Escaped character by character, and as hex and base32 of its UTF-8 bytes.
        "".join(f"&#x{ord(ch):x};" for ch in secret),
        "".join(f"\\u{ord(ch):04x}" for ch in secret),
        "".join(f"%u{ord(ch):04x}" for ch in secret),
        "".join(f"\\x{byte:02x}" for byte in secret.encode("utf-8")),
        "".join(f"%{byte:02x}" for byte in secret.encode("utf-8")),
        secret.encode("utf-8").hex(),
        base64.b32encode(secret.encode("utf-8")).decode().rstrip("="),
    }
    forms |= _base64_cores(secret.encode("utf-8"))
    return {form for form in forms if len(form) >= MIN_KNOWN_SECRET}


def encoded_forms(secret: str) -> set[str]:
    """Every encoding cifcheck looks for a known secret in, lower-cased (for a caller's own, local secrets)."""
    return {form.lower() for form in _encodings(secret)}


def _spaced(secret: str) -> str:
    """The secret written with spaces, line breaks or punctuation between its letters, anywhere or everywhere
    (`h u n t e r 2`, a TOTP secret in groups of four, a value folded over two lines)."""
    return r"[\s._\-*|]{0,3}".join(re.escape(ch) for ch in secret if not ch.isspace())


# Every encoding of every known secret, lower-cased. Replaced whole, never changed in place, under the lock: targets
# run in threads, and a reader iterates over the set it picked up.
_forms: frozenset[str] = frozenset()
_prefixes: frozenset[str] = frozenset()  # the first 4 characters of each form: a cheap first look at short texts
_spaced_pattern: re.Pattern[str] | None = None
_registering = threading.Lock()


def register_secret(value: str | None, minimum: int = MIN_KNOWN_SECRET, spaced: bool = True) -> bool:
    """Scrub `value` from everything cifcheck stores or shows from now on; whether it was new."""
    global _forms, _prefixes, _spaced_pattern
    if not value or len(value) < minimum:
        return False
    with _registering:
        if value in _KNOWN_SECRETS:
            return False
        _KNOWN_SECRETS.add(value)
        _forms = _forms | {form.lower() for form in _encodings(value)}
        _prefixes = frozenset(form[:4] for form in _forms)
        if spaced and len(value) >= 6:
            _SPACED.append(_spaced(value))
            _spaced_pattern = re.compile("|".join(_SPACED), re.IGNORECASE)
        # Last, once every form is in place: a text redacted from now on is cached in the new, empty dict.
        global _done
        _done = {}
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
    if len(lowered) < 4_096:
        # Most texts are short (a JSON field, a URL): a few set lookups rule them out before hundreds of scans.
        prefixes = _prefixes
        if not any(lowered[i : i + 4] in prefixes for i in range(len(lowered) - 3)):
            return []
    return [form for form in _forms if form in lowered]


def scrub_known(text: str) -> str:
    if not _forms:
        return text
    present = _present(text)
    if present:
        pattern = "|".join(re.escape(form) for form in sorted(present, key=len, reverse=True))
        text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
    return _spaced_pattern.sub(REDACTED, text) if _spaced_pattern is not None else text


def any_known_secret() -> bool:
    """Whether any secret is registered (else nothing can be a known leak)."""
    return bool(_forms)


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


MAX_NESTING = 6  # URLs in URLs, JSON in JSON: deeper than this is replaced whole


def _nested_url(value: str, nesting: int = 0) -> str | None:
    """A parameter value that is a URL, however many times percent-encoded, redacted and encoded back; else None."""
    decoded, depth = value, 0
    while depth < 4 and not _URL_START.match(decoded) and "%" in decoded:
        decoded, depth = unquote_plus(decoded), depth + 1
    if not _URL_START.match(decoded):
        return None
    if nesting >= MAX_NESTING:
        return REDACTED
    redacted = redact_url(decoded, _nesting=nesting + 1)
    for _ in range(depth):
        redacted = quote(redacted, safe="[]")
    return redacted


def _redact_pairs(text: str, separator: str = "&", nesting: int = 0) -> str:
    pieces = []
    for piece in text.split(separator):
        name, has_value, value = piece.partition("=")
        if not has_value:
            # A bare piece is a value with no name (`?SECRET`), unless it is a short flag word.
            pieces.append(piece if re.fullmatch(r"[A-Za-z][A-Za-z_-]{0,19}", piece) or not piece else REDACTED)
            continue
        shown_name = name if len(name) <= 80 else REDACTED
        shown_name = _redact_free(shown_name) if shown_name != REDACTED else shown_name
        nested = _nested_url(value, nesting) if value else None
        kept_shape = _KEPT_IF_SHAPED.get(unquote_plus(name).lower())
        if nested is not None:
            shown = nested
        elif not value or value == REDACTED:
            shown = value
        elif unquote_plus(name).lower() in KEPT_PARAMETERS and not is_secret_name(name):
            shown = _redact_free(value)
        elif kept_shape is not None and kept_shape.fullmatch(unquote_plus(value)):
            shown = value
        else:
            shown = REDACTED
        pieces.append(f"{shown_name}={shown}")
    return separator.join(pieces)


_URL_PARTS = re.compile(r"(?is)^([a-z][a-z0-9+.-]*:)?(//[^/?#]*)?(.*)$")


def redact_url(url: str, _nesting: int = 0) -> str:
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
        shown += "?" + _redact_pairs(query, nesting=_nesting)
    if has_fragment:
        pairs = "=" in fragment and not fragment.lstrip().startswith(("{", "["))
        shown += "#" + (_redact_pairs(fragment, nesting=_nesting) if pairs else REDACTED if fragment else "")
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
# A URL without a scheme, with a query: `//host/path?…` or `/path?…` (a request line, a relative src).
_RELATIVE_URL_IN_TEXT = re.compile(
    r"(?<![\w/:.])(?://[\w.-]{1,253}(?::\d{1,5})?)?/[^\s?#\"'<>\\`]{0,2000}\?[^\s\"'<>\\`]+"
)
_NAME_CHARS = rf"\w.\-\[\]{_INVISIBLE}"
# A percent escape belongs to a name (`user%5Bpassword%5D`) unless it is an encoded separator (`=`, `:`, `&`).
_NAME_PERCENT = r"%(?!3[dDaA]|26|253[dDaA]|2526)"
_SCHEMES = r"(?:bearer|basic|token|negotiate|ntlm|digest|sharedaccesssignature|mac|hawk|sso|pop)"
# The head of a pair: an optionally quoted name and a separator (`=`, `:`, `=>`, `->`, encoded `=`/`:`, or the
# `"name"] =` and `'name', ` of code). The value is matched only after the name is known to be secret, so that
# ordinary pairs cost nothing and text made of pairs (`a:a:a:…`) stays linear.
_PAIR_HEAD = re.compile(
    # A name starts where no name character is before it; a quoted one may follow a bracket (`headers["…"]`).
    # Starting anywhere inside a run of name characters would make `[[[[…` quadratic.
    rf"(?:(?<=\[)(?=\\*[\"'])|(?<![{_NAME_CHARS}%\\]))"
    rf"(?P<quote>\\*[\"']?)(?P<name>(?:\\u[0-9a-fA-F]{{4}}|{_NAME_PERCENT}|[{_NAME_CHARS}]){{1,2000}})(?P=quote)"
    r"(?P<sep>\]?\s{0,10}(?:=>|->|=|:|%3[dDaA]|%253[dDaA]|(?<=[\"'])\s{0,3},)\s{0,10})",
    re.IGNORECASE,
)
_SCHEME_WORD = re.compile(rf"{_SCHEMES}(?:[ \t]+|%20|\+)", re.IGNORECASE)
_QUOTED_VALUE = re.compile(r"(?P<vq>\\*[\"'])(?:\\.|(?!(?P=vq)).){0,100000}?(?P=vq)", re.S)
_PLAIN_VALUE = re.compile(r"(?:(?!%26|%2526)[^\s&\"'])+")
# A header whose value is the rest of its line: every cookie of a Cookie header, any Authorization scheme.
_WHOLE_LINE_VALUE = re.compile(r"[^\r\n]+")
_HEADER_NAMES = ("cookie", "authorization")
_AUTHORIZATION = re.compile(
    r"(?i)\b(bearer|basic|negotiate|ntlm|digest|sharedaccesssignature)(\s+|%20|\+)([A-Za-z0-9\-._~+/%]+=*)"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?")
_GUID = re.compile(r"(?i)^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$")
_BLOB = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9][A-Za-z0-9+/_-]{15,}={0,2}(?![A-Za-z0-9+/_=-])")
# The scheme is bounded: an unbounded one made text like `a.a.a.…` quadratic.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://)[^/\s@\"']{1,1000}@")
# XML elements and HTML attributes that carry a secret by name: <password>…</password>, name="password" value="…".
_XML_ELEMENT = re.compile(
    r"<(?P<tag>[\w:.-]{1,100})(?P<attrs>[^<>]{0,1000})>(?P<body>(?:<!\[CDATA\[.{0,100000}?\]\]>|[^<]{0,100000}))</(?P=tag)>",
    re.S,
)
_NAMED_INPUT = re.compile(r"(?i)<(?:input|meta)\b(?P<attrs>[^<>]{0,2000})>")
_ATTRIBUTE = re.compile(
    r"(?i)\b(?P<attr>[\w:-]{1,50})\s*=\s*(?:(?P<q>[\"'])(?P<value>.{0,10000}?)(?P=q)|(?P<bare>[^\s\"'<>=`]+))"
)


def _looks_random(token: str) -> bool:
    """A run of 24 or more base64 letters that reads like random data rather than a name: upper- and lower-case
    letters and digits all present, and the kind of character changing at 45% of steps or more. Random base64
    changes kind at about 65% of steps; names, even `msdyn_CIFV2Loader` or `contoso_PhoneChannel2023`, at under
    35%. Shorter runs are left alone: vendor names such as `Five9Plus4D365` look random too, and secrets that short
    are caught by their names. GUIDs, hex digests (one letter case) and numbers never match."""
    token = token.rstrip("=")
    if len(token) < 24 or _GUID.match(token):
        return False
    if not (re.search("[A-Z]", token) and re.search("[a-z]", token) and re.search("[0-9]", token)):
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
    return "/".join(REDACTED if _looks_random(part) else part for part in token.split("/"))


# Values that a key or code name may have without being a secret: an HRESULT, a status or a small number
# (`Error code: 404`, `"code": "0x80040217"`, `Sort key: 10`).
_ORDINARY_VALUE = re.compile(r"[\"']?(?:0x[0-9A-Fa-f]{1,8}|-?[0-9]{1,4})[\"']?")


def _ordinary(name: str, value: str) -> bool:
    """Whether a key or code name holds an ordinary value rather than a secret."""
    return _words(name)[-1:] in (["code"], ["key"]) and _ORDINARY_VALUE.fullmatch(value) is not None


def _is_header(name: str) -> bool:
    return any(header in "".join(_words(name)) for header in _HEADER_NAMES)


def _redact_pairs_in_text(text: str) -> str:
    """Every value of a secret-named pair replaced by `[redacted]`, its quotes kept."""
    shown, position = [], 0
    while (head := _PAIR_HEAD.search(text, position)) is not None:
        name, start = head.group("name"), head.end()
        if not is_secret_name(name):
            shown.append(text[position:start])
            position = start
            continue
        scheme = _SCHEME_WORD.match(text, start)
        value_start = scheme.end() if scheme else start
        value = (
            _WHOLE_LINE_VALUE.match(text, value_start)
            if _is_header(name) and ":" in head.group("sep")
            else _QUOTED_VALUE.match(text, value_start) or _PLAIN_VALUE.match(text, value_start)
        )
        if value is None or _ordinary(name, value.group(0)):
            shown.append(text[position:start])
            position = start
            continue
        quote_mark = value.groupdict().get("vq") or ""
        inner = value.group(0)[len(quote_mark) : len(value.group(0)) - len(quote_mark)]
        replaced = f"{quote_mark}{REDACTED}{quote_mark}" if inner.strip() else value.group(0)
        shown.append(text[position:start] + replaced)
        position = value.end()
    return "".join(shown) + text[position:]


_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]{1,40}-----.*?(?:-----END [A-Z0-9 ]{1,40}-----|$)", re.S)


def _redact_markup(text: str) -> str:
    """XML elements named like secrets (`<password>…</password>`, `<wsse:Password>`), and the value or content of an
    input or meta element named like one (`<input name="password" value="…">`, `<meta name="csrf-token" …>`)."""

    def element(match: re.Match[str]) -> str:
        tag = match.group("tag").rsplit(":", 1)[-1]
        if not is_secret_name(tag) or not match.group("body").strip():
            return match.group(0)
        return f"<{match.group('tag')}{match.group('attrs')}>{REDACTED}</{match.group('tag')}>"

    def named_input(match: re.Match[str]) -> str:
        attributes = {
            m.group("attr").lower(): m.group("value") or m.group("bare") or ""
            for m in _ATTRIBUTE.finditer(match.group("attrs"))
        }
        secret = is_secret_name(attributes.get("name", "")) or attributes.get("type", "").lower() == "password"
        if not secret:
            return match.group(0)
        return _ATTRIBUTE.sub(
            lambda m: (
                m.group(0)
                if m.group("attr").lower() not in ("value", "content") or not (m.group("value") or m.group("bare"))
                else f"{m.group('attr')}={m.group('q') or ''}{REDACTED}{m.group('q') or ''}"
            ),
            match.group(0),
        )

    if "<" not in text:
        return text
    return _NAMED_INPUT.sub(named_input, _XML_ELEMENT.sub(element, text))


def _authorization(match: re.Match[str]) -> str:
    token = match.group(3)
    # "Basic authentication is not supported": a word is not a credential.
    if token.isalpha() and token.islower():
        return match.group(0)
    return match.group(1) + match.group(2) + REDACTED


def _redact_patterns(text: str) -> str:
    # Pure (no known secret is involved), and the same short parts recur in every URL of a table: cached.
    return _redact_short_patterns(text) if len(text) <= 256 else _redact_patterns_of(text)


@functools.lru_cache(maxsize=32_768)
def _redact_short_patterns(text: str) -> str:
    return _redact_patterns_of(text)


def _redact_patterns_of(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _PEM.sub(REDACTED, text)
    text = _redact_markup(text)
    text = _redact_pairs_in_text(text)
    text = _AUTHORIZATION.sub(_authorization, text)
    text = _JWT.sub(REDACTED, text)
    return _BLOB.sub(_redact_blob, text)


def _redact_free(text: str) -> str:
    """Free text without URLs: known secrets are gone already."""
    return _redact_patterns(text) if text else text


_EMPTY = (None, "")
_NAME_FIELDS = ("name", "key", "Name", "Key", "header", "Header", "param", "parameter", "field")
_VALUE_FIELDS = ("value", "Value", "val", "content", "values", "Values")


def _redact_json(value: object, nesting: int = 0) -> object:
    if nesting > 200:  # deeper than any real record: replaced whole rather than exhausting the stack
        return REDACTED
    if isinstance(value, dict):
        # {"name": "token", "value": "…"}: a secret named by a sibling field; the name itself is kept.
        named = [field for field in _NAME_FIELDS if isinstance(value.get(field), str) and is_secret_name(value[field])]
        shown: dict[str, object] = {}
        for key, item in value.items():
            if named and key in _VALUE_FIELDS and item not in _EMPTY:
                shown[redact_text(clean(str(key)))] = REDACTED
            elif key in named:
                shown[key] = item
            elif is_secret_name(str(key)) and isinstance(item, str | int | float) and item not in _EMPTY:
                shown[redact_text(clean(str(key)))] = item if _ordinary(str(key), str(item)) else REDACTED
            else:
                # A secret-looking key over a record or a list (a provider keyed `contoso_session_phone`) is a
                # name, not a secret: what is inside is judged by its own names.
                shown[redact_text(clean(str(key)))] = _redact_json(item, nesting + 1)
        return shown
    if isinstance(value, list):
        # [["password", "…"], …]: name-value pairs written as lists.
        if len(value) == 2 and isinstance(value[0], str) and is_secret_name(value[0]) and value[1] not in _EMPTY:
            return [value[0], REDACTED]
        return [_redact_json(item, nesting + 1) for item in value]
    if isinstance(value, str):
        return redact_text(value, _nesting=nesting + 1)
    return value


def _json_text(text: str, nesting: int) -> str | None:
    """JSON text (an object, an array, or a string holding JSON: storage values may be encoded twice), redacted
    field by field and written back; None when `text` is not JSON."""
    if text.lstrip()[:1] not in ("{", "[", '"'):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, str):
        inner = _json_text(data, nesting + 1) if nesting < MAX_NESTING else None
        return json.dumps(inner if inner is not None else redact_text(data, _nesting=nesting + 1), ensure_ascii=False)
    try:
        return json.dumps(_redact_json(data, nesting), ensure_ascii=False)
    except RecursionError:
        return REDACTED


# Texts already redacted, with what they became, and what they became with itself (redaction is idempotent): the
# same values pass the boundary more than once (a probe, the evidence model, the final rebuild), and thousands of
# provider records make that seconds. Emptied whenever a secret is registered, since that changes every answer, and
# when full: short texts only (record fields, URLs), so it holds some ten megabytes, at most about a hundred.
_done: dict[str, str] = {}
_DONE_MAX = 100_000
_DONE_TEXT_MAX = 512


def redact_text(text: str, _nesting: int = 0) -> str:
    """Free text with secrets hidden (the module docstring has the rules). JSON is redacted field by field, so its
    structure survives for the checks; every URL in it or in other text is default-denied like `redact_url`."""
    if _nesting or len(text) > _DONE_TEXT_MAX:
        return _redact_text(text, _nesting)
    done = _done  # the cache this call started with: a secret registered meanwhile replaces it, never fills it
    shown = done.get(text)
    if shown is None:
        shown = _redact_text(text, _nesting)
        if len(done) >= _DONE_MAX:
            done.clear()
        done[text] = shown
        done[shown] = shown
    return shown


def _redact_text(text: str, _nesting: int = 0) -> str:
    text = scrub_known(clean(text))
    if _nesting > MAX_NESTING * 40:
        return REDACTED
    as_json = _json_text(text, _nesting)
    if as_json is not None:
        return clean(as_json)
    if _URL_START.match(text) and not re.search(r"\s", text):
        return redact_url(text)
    shown = _redact_urls_and_patterns(text)
    if "&" in shown:
        # Entities may spell a name or a quote (`&#112;assword=…`, `password=&quot;…&quot;`): judged decoded too.
        decoded = html.unescape(shown)
        if decoded != shown:
            redacted = _redact_urls_and_patterns(decoded)
            if redacted != decoded:
                return html.escape(redacted, quote=False)
    return shown


def _redact_urls_and_patterns(text: str) -> str:
    text = _ENCODED_URL_IN_TEXT.sub(lambda m: _nested_url(m.group(0)) or REDACTED, text)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    text = _RELATIVE_URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
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


def redact_values(data: object, _nesting: int = 0) -> object:
    """Every string in a JSON-like structure redacted (keys cleaned); binary fields kept as they are."""
    if _nesting > 200:  # deeper than any real record: replaced whole rather than exhausting the stack
        return REDACTED
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, list):
        return [redact_values(item, _nesting + 1) for item in data]
    if isinstance(data, dict):
        return {
            clean(str(key)): value if key in _BINARY_FIELDS else redact_values(value, _nesting + 1)
            for key, value in data.items()
        }
    return data
