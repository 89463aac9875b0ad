"""The top document's session storage: every key name, and the values of keys that may be CIF keys.

Other values (sign-in libraries keep tokens in session storage) are never read into the evidence.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

from cifcheck.evidence import STORAGE_VALUE_MAX, CheckSettings, StorageEvidence
from cifcheck.redact import is_secret_name, redact_key_name

_LOOSE = re.compile(r"(?i)channel.?providers?|application.?extensions?")

_KEYS = "() => Object.keys(sessionStorage)"


def is_cif_key(key: str, settings: CheckSettings) -> bool:
    if key in (settings.channel_providers_key, settings.application_extensions_key):
        return True
    if is_secret_name(key):  # `msal.channelprovider.accesstoken`: a token named after a provider is still a token
        return False
    return (
        re.search(settings.channel_providers_pattern, key) is not None
        or re.search(settings.application_extensions_pattern, key) is not None
        or _LOOSE.search(key) is not None
    )


def storage_keys(page: Page) -> list[str]:
    return page.evaluate(_KEYS)


def read_storage(page: Page, settings: CheckSettings, redacted: bool = True) -> StorageEvidence:
    """The CIF keys' values, redacted by the evidence model. `redacted=False` is only for the wait's own look at
    whether the profile is complete (observation.py): that evidence never leaves memory, and skipping the model's
    redaction keeps large profiles cheap."""
    wanted = [key for key in storage_keys(page) if is_cif_key(key, settings)]
    # Values are read whole, and kept up to STORAGE_VALUE_MAX (a 300-provider profile is hundreds of kB, an
    # ordinary size; a larger value is judged as not read whole).
    snapshot = page.evaluate(
        """(keys) => ({ origin: location.origin, keys: Object.keys(sessionStorage),
             values: Object.fromEntries(keys.map((k) => [k, sessionStorage.getItem(k) ?? ""])) })""",
        wanted,
    )
    fields = {
        "origin": snapshot["origin"],
        # Other keys' names are shown for diagnosis, default-denied: they can hold ids and authorities.
        "keys": [key if is_cif_key(key, settings) else redact_key_name(key) for key in snapshot["keys"]],
        "values": snapshot["values"],
        "value_lengths": {key: len(value) for key, value in snapshot["values"].items()},
        "truncated": [key for key, value in snapshot["values"].items() if len(value) > STORAGE_VALUE_MAX],
    }
    return StorageEvidence(**fields) if redacted else StorageEvidence.model_construct(**fields)
