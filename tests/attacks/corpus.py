"""The secrets a hostile org plants, each in one place, and what counts as that secret leaking.

Every placement has its own marker (`MK0042zq`): the marker is the secret value itself, so a redaction that misses
the value leaves the marker behind. Where a secret is written encoded (a JWT, base64), the encoded text is what must
not appear. Known secrets (the configured password and TOTP secret) are planted in many encodings.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

SECRET = "{S}"  # where a form puts its marker

# Characters that make encodings differ: a space, quotes, an ampersand, a backslash, non-ASCII, <, >, ?.
PASSWORD = "Wq7Kx9 \"Zü&ß\\Tp4Ln'<Mv>?>"
USERNAME = "agent@contoso.example"
TOTP_SECRET = "MK7QZT4XHV2LPW3N6R5Y"  # base32, 100 bits


@dataclass(frozen=True)
class Placement:
    name: str  # the marker, or for a known secret which one and how it is encoded
    channel: str  # where the org puts it
    form: str  # how it is written, {S} standing for the secret
    needles: tuple[str, ...]  # any of these in a written file is a leak


Encoder = Callable[[str], tuple[str, tuple[str, ...]]]


def plain(marker: str) -> tuple[str, tuple[str, ...]]:
    return marker, (marker,)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _jwt(marker: str, signed: bool) -> tuple[str, tuple[str, ...]]:
    header = _b64url(json.dumps({"alg": "RS256" if signed else "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": marker, "aud": "https://contoso.crm.dynamics.com"}).encode())
    signature = _b64url(hashlib.sha256(marker.encode()).digest()) if signed else ""
    return f"{header}.{payload}.{signature}", (payload, signature) if signed else (payload,)


def unsigned_jwt(marker: str) -> tuple[str, tuple[str, ...]]:
    """`eyJ….eyJ….` with an empty signature, as `alg: none` tokens are written."""
    return _jwt(marker, signed=False)


def signed_jwt(marker: str) -> tuple[str, tuple[str, ...]]:
    return _jwt(marker, signed=True)


def base64_blob(inner: str) -> Encoder:
    """The marker inside `inner` (a form), the whole of it base64-encoded: the blob is the secret."""

    def encode(marker: str) -> tuple[str, tuple[str, ...]]:
        blob = base64.b64encode(inner.replace(SECRET, marker).encode()).decode("ascii")
        return blob, (blob,)

    return encode


def encodings(secret: str) -> dict[str, str]:
    """The forms a page may echo a secret in, by name."""
    utf8 = secret.encode()
    return {
        "raw": secret,
        "encodeURIComponent": quote(secret, safe="!~*'()"),
        "form-encoded": quote_plus(secret),
        "encodeURI": quote(secret, safe=";,/?:@&=+$!~*'()#"),
        "percent-encoded twice": quote(quote(secret, safe=""), safe=""),
        "JSON-escaped": json.dumps(secret, ensure_ascii=False)[1:-1],
        "JSON-escaped ASCII": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(utf8).decode("ascii"),
        "base64url": _b64url(utf8),
        "HTML-escaped": html.escape(secret),
        "upper-cased": secret.upper(),
        "spaced out": " ".join(secret),
        "reversed": secret[::-1],
    }


def totp_forms(secret: str) -> dict[str, str]:
    """A TOTP secret as set-up pages and apps show it."""
    return {
        "raw": secret,
        "lower-cased": secret.lower(),
        "in groups of four": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }


class Corpus:
    """Hands out markers: `put` returns the text to plant and records where it went."""

    def __init__(self) -> None:
        self.placements: list[Placement] = []
        self._markers = 0

    def put(self, channel: str, form: str, encode: Encoder = plain) -> str:
        self._markers += 1
        number = self._markers
        marker = f"MK{number:04d}{chr(97 + number * 7 % 26)}{chr(97 + number * 11 % 26)}"
        written, needles = encode(marker)
        self.placements.append(Placement(marker, channel, form, needles))
        return form.replace(SECRET, written)

    def known(self, channel: str, secret_name: str, encoding: str, written: str) -> str:
        """A known secret (`secret_name`) planted as `written`, its `encoding`."""
        self.placements.append(Placement(f"{secret_name} ({encoding})", channel, encoding, (written,)))
        return written
