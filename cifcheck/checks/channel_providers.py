"""profile.channel_providers: session storage channelProviders is present and lists at least one provider."""

from __future__ import annotations

from cifcheck.checks.fixes import config_in_use
from cifcheck.checks.profile import PROVIDERS_FIX, FoundKey, find_key, is_empty, parse_json, providers_from
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.redact import redact_url
from cifcheck.results import Detail


def key_facts(found: FoundKey) -> Detail:
    return Detail(
        kind="facts",
        title="Session storage key",
        facts={"Key": found.key, "Found by": found.how, "Length (characters)": found.full_length},
    )


def _providers_table(providers: list) -> Detail:
    return Detail(
        kind="table",
        title="Channel providers in session storage",
        headings=[
            {"key": "label", "label": "Label", "type": "text"},
            {"key": "unique_name", "label": "Unique name", "type": "code"},
            {"key": "channel_url", "label": "Channel URL", "type": "url"},
            {"key": "sort_order", "label": "Sort order", "type": "text"},
        ],
        rows=[
            {
                "label": p.label or p.name,
                "unique_name": p.unique_name,
                "channel_url": p.channel_url,
                "sort_order": p.sort_order,
            }
            for p in providers
        ],
    )


def _missing_expectations(evidence: Evidence, providers: list) -> list[str]:
    expect = evidence.settings.expect
    known = {name.lower() for p in providers for name in (p.name, p.unique_name, p.label) if name}
    missing = [f"provider {name}" for name in expect.providers if name.lower() not in known]
    # Evidence holds channel URLs default-denied (redact.py); the expected prefixes are compared in the same form.
    urls = [redact_url(p.channel_url).lower() for p in providers]
    missing += [
        f"channel URL {prefix}"
        for prefix in expect.channel_urls
        if not any(u.startswith(redact_url(prefix).lower()) for u in urls)
    ]
    return missing


@check(
    id="profile.channel_providers",
    title="Channel providers in session storage",
    failure_title="No channel providers in session storage",
    remediation=PROVIDERS_FIX,
    checked="Reads session storage key channelProviders (exact name, else the configured pattern) and parses the "
    "providers it lists.",
    doc_step="Verify step 2: session storage key channelProviders is not empty",
    requires=("storage",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    settings = evidence.settings
    storage = evidence.storage
    assert storage is not None
    found = find_key(storage, settings.channel_providers_key, settings.channel_providers_pattern)
    if found is None:
        return Verdict(
            "fail",
            f"Session storage has no channelProviders key (looked for {settings.channel_providers_key!r} and the "
            f"pattern {settings.channel_providers_pattern}; {len(storage.keys)} keys present).",
            [Detail(kind="code", title="Session storage key names", code="\n".join(storage.keys) or "(none)")],
        )
    details = [key_facts(found)]
    if found.truncated:
        return Verdict(
            "error",
            f"{found.key} is {found.full_length:,} characters long, more than cifcheck reads ({len(found.value):,}).",
            details,
            remediation="Attach evidence.json to a cifcheck issue; the value is too large to judge.",
        )
    value, error = parse_json(found.value)
    if error is not None and found.value.strip():
        excerpt = Detail(kind="code", title="Value (start)", code=found.value[:500])
        return Verdict("fail", f"{found.key} is present but unparseable: {error}.", [*details, excerpt])
    if error is not None or is_empty(value):
        return Verdict("fail", f"{found.key} is present but empty ({found.value.strip()[:20]!r}).", details)
    providers = providers_from(value)
    if not providers:
        excerpt = Detail(kind="code", title="Value (start)", code=found.value[:500])
        return Verdict(
            "fail",
            f"{found.key} is present but holds no provider records (a JSON {type(value).__name__}).",
            [*details, excerpt],
        )
    details.append(_providers_table(providers))
    count = f"{len(providers)} provider{'s' if len(providers) != 1 else ''}"
    names = ", ".join(p.display for p in providers)
    missing = _missing_expectations(evidence, providers)
    if missing:
        return Verdict(
            "fail",
            f"{count} configured ({names}), but this target expects {', '.join(missing)}.",
            details,
            remediation="Add the expected provider to the app profile (copy its channel URL and settings from the "
            f"CIF 1.0 provider), or correct expect.providers / expect.channel_urls in {config_in_use(evidence)}. "
            "Updating the Customer Service workspace profile can overwrite the Omnichannel channel URL.",
        )
    where = "" if found.how == "exact name" else f" (key {found.key}, found by pattern)"
    return Verdict("pass", f"{count}: {names}{where}.", details)
