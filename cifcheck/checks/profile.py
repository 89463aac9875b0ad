"""Reading the app profile that Unified Interface caches in session storage, tolerantly.

cif-facts.md: the exact shape is UNKNOWN. Keys are found by exact name first, then by pattern (prefixes).
Values are parsed as JSON when they can be (an array, an object holding an array, or an object keyed by
name; camelCase, PascalCase or msdyn_ field names; JSON encoded twice), and read as text otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cifcheck.evidence import Evidence, StorageEvidence

MAX_DEPTH = 6

# The migration document's fix when step 1 or 2 fails: the app profile is wrong. One card carries it (the loader's);
# the others say what is specific to them, so no paragraph repeats across a report's cards.
APP_PROFILE_FIX = (
    "In the app profile manager, open this app's agent experience profile, remove the channel provider from it, "
    "add it again and save, then sign out of the app and in again: the profile is wrong, as the migration document "
    "says when this step fails. In Omnichannel, enable the 'Active Channel Providers' view first."
)
# channelProviders empty or absent: the user gets no provider from any profile.
PROVIDERS_FIX = (
    "In the app profile manager, check that the user is assigned to this app's agent experience profile (directly, "
    "through a security role, or as the default profile) and that the profile lists the CIF 2.0 channel provider: "
    "the user gets no channel provider from any profile. A provider record that was never created for CIF 2.0 is "
    "added with the channel URL and settings of the CIF 1.0 provider."
)


@dataclass(frozen=True)
class FoundKey:
    key: str
    how: str  # "exact name" or "pattern ..."
    value: str
    full_length: int
    truncated: bool


def find_key(storage: StorageEvidence, exact: str, pattern: str) -> FoundKey | None:
    def found(key: str, how: str) -> FoundKey:
        value = storage.values.get(key, "")
        return FoundKey(key, how, value, storage.value_lengths.get(key, len(value)), key in storage.truncated)

    if exact in storage.keys:
        return found(exact, "exact name")
    matches = [key for key in storage.keys if re.search(pattern, key)]
    return found(matches[0], f"pattern {pattern}") if matches else None


def normalise(name: str) -> str:
    """A field name without case, underscores or the msdyn_ prefix: channelUrl = ChannelUrl = msdyn_channelurl."""
    return name.lower().removeprefix("msdyn_").replace("_", "")


def parse_json(text: str) -> tuple[Any, str | None]:
    """The parsed value, or None with the parser's complaint. JSON encoded twice is decoded twice."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error})"
    except (ValueError, RecursionError) as error:  # a number too long to convert, or nesting too deep
        return None, f"not usable JSON ({str(error)[:80] or 'nested too deeply'})"
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        return parse_json(value)
    return value, None


def is_empty(value: Any) -> bool:
    return value in (None, "", [], {})


def field_of(record: dict, *names: str) -> Any:
    wanted = {normalise(name) for name in names}
    for key, value in record.items():
        if normalise(str(key)) in wanted:
            return value
    return None


def records(value: Any, depth: int = 0) -> list[tuple[str | None, dict]]:
    """Every object that looks like a record, with the map key it was stored under (if any).

    Accepts an array of objects, an object keyed by name, or an object wrapping either (value, Providers, ...).
    """
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, list):
        found: list[tuple[str | None, dict]] = []
        for item in value:
            found += [(None, item)] if isinstance(item, dict) and _looks_like_record(item) else records(item, depth + 1)
        return found
    if not isinstance(value, dict):
        return []
    if _looks_like_record(value):
        return [(None, value)]
    found = []
    for key, child in value.items():
        if isinstance(child, dict) and _looks_like_record(child):
            found.append((str(key), child))
        else:
            found += records(child, depth + 1)
    return found


def _looks_like_record(value: dict) -> bool:
    names = {normalise(str(key)) for key in value}
    return bool(names & {"name", "uniquename", "label", "channelurl", "webresourceurl", "url", "id"})


@dataclass
class ProviderEntry:
    id: str = ""
    name: str = ""
    unique_name: str = ""
    label: str = ""
    channel_url: str = ""
    sort_order: str = ""
    trusted_domain: str = ""
    fields: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.label or self.name or self.unique_name or "(unnamed)"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def providers_from(value: Any) -> list[ProviderEntry]:
    entries = []
    for map_key, record in records(value):
        entries.append(
            ProviderEntry(
                id=_text(field_of(record, "id", "providerId", "msdyn_channelproviderid")),
                name=_text(field_of(record, "name")),
                unique_name=_text(field_of(record, "uniqueName")) or (map_key or ""),
                label=_text(field_of(record, "label")),
                channel_url=_text(field_of(record, "channelUrl", "landingUrl", "url")),
                sort_order=_text(field_of(record, "sortOrder")),
                trusted_domain=_text(field_of(record, "trustedDomain")),
                fields=sorted(str(key) for key in record),
            )
        )
    return entries


def channel_providers(evidence: Evidence) -> list[ProviderEntry] | None:
    """The providers in session storage, or None when there is no storage evidence, no key, or no JSON."""
    if evidence.storage is None:
        return None
    settings = evidence.settings
    found = find_key(evidence.storage, settings.channel_providers_key, settings.channel_providers_pattern)
    if found is None:
        return None
    value, error = parse_json(found.value)
    return None if error else providers_from(value)
