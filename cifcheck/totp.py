"""Time-based one-time codes (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), as authenticator apps make them.

pyotp refuses secrets shorter than 112 bits, but the keys Microsoft's sign-in hands to "other authenticator
apps" can be 80 bits (16 base32 characters), often shown in groups of four: both are accepted here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time


class TotpSecretError(ValueError):
    """The configured TOTP secret is not base32."""


def secret_bytes(secret: str) -> bytes:
    compact = "".join(secret.split()).upper().rstrip("=")
    try:
        decoded = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (binascii.Error, ValueError):
        raise TotpSecretError("the TOTP secret is not base32 (letters A-Z and digits 2-7)") from None
    if not decoded:
        raise TotpSecretError("the TOTP secret is empty")
    return decoded


def totp_now(secret: str, at: float | None = None, step_s: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // step_s)
    digest = hmac.new(secret_bytes(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)
