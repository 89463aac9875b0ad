"""The top document's session storage: every key name, and the values of keys that may be CIF keys.

Other values (sign-in libraries keep tokens in session storage) are never read into the evidence.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

from cifcheck.evidence import CheckSettings, StorageEvidence
from cifcheck.redact import redact_text

MAX_VALUE = 256 * 1024
_LOOSE = re.compile(r"(?i)channel.?providers?|application.?extensions?")

_KEYS = "() => Object.keys(sessionStorage)"


def is_cif_key(key: str, settings: CheckSettings) -> bool:
    return (
        key in (settings.channel_providers_key, settings.application_extensions_key)
        or re.search(settings.channel_providers_pattern, key) is not None
        or re.search(settings.application_extensions_pattern, key) is not None
        or _LOOSE.search(key) is not None
    )


def storage_keys(page: Page) -> list[str]:
    return page.evaluate(_KEYS)


def read_storage(page: Page, settings: CheckSettings) -> StorageEvidence:
    wanted = [key for key in storage_keys(page) if is_cif_key(key, settings)]
    snapshot = page.evaluate(
        """([keys, maxValue]) => ({ origin: location.origin, keys: Object.keys(sessionStorage),
             values: Object.fromEntries(keys.map((k) => [k, (sessionStorage.getItem(k) ?? "").slice(0, maxValue)])),
             lengths: Object.fromEntries(keys.map((k) => [k, (sessionStorage.getItem(k) ?? "").length])) })""",
        [wanted, MAX_VALUE],
    )
    return StorageEvidence(
        origin=snapshot["origin"],
        keys=snapshot["keys"],
        values={key: redact_text(value) for key, value in snapshot["values"].items()},
        value_lengths=snapshot["lengths"],
        truncated=[key for key, length in snapshot["lengths"].items() if length > MAX_VALUE],
    )
