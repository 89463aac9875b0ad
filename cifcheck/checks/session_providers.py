"""records.session_providers: this session's channelProviders are the providers attached to the user's profile.

A provider attached in the records but absent from session storage, or the other way round, means the session did
not get the profile the records give: a profile changed since the user signed in, or another profile wins.
"""

from __future__ import annotations

from cifcheck.checks.profile import channel_providers
from cifcheck.checks.records import (
    PROFILES_PATH,
    assignment,
    counted,
    in_session,
    link_heading,
    provider_label,
    provider_profiles,
    provider_record,
    record_link,
    text,
    unread,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.probes.dataverse import PROFILES, ROLE_MAPPINGS, USERS, V2_TABLE
from cifcheck.results import Detail


@check(
    id="records.session_providers",
    title="Session got the providers the records give",
    failure_title="The session's providers differ from the profile's records",
    remediation="Sign out of the app and in again, so that the session loads the profile as it is now; if the "
    "difference stays, the user gets another profile than the one changed (see records.user_assigned), or the "
    f"providers attached to the profile are not the ones meant ({PROFILES_PATH} > the profile > Channel providers).",
    checked="Compares the channel providers attached to the profile the user gets (the records) with the entries of "
    "channelProviders in this session's storage (the browser).",
    doc_step="Verify step 2: channelProviders is not empty (the profile is wrong)",
    requires=("dataverse", "storage"),
    prerequisites=("session.signed_in", "records.profile_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    refused = unread(evidence, "records.session_providers", "WhoAmI", PROFILES, USERS, ROLE_MAPPINGS)
    if refused is not None:
        return refused
    entries = channel_providers(evidence)
    if entries is None:
        return Verdict("skip", "channelProviders could not be read as providers (see profile.channel_providers).")
    got = assignment(evidence)
    profile = got.profile
    if profile is None or not profile.providers:
        wanted = provider_profiles(evidence)
        profile = wanted[0] if len(wanted) == 1 else None
    if profile is None:
        return Verdict("skip", "The records name no one profile for this user to compare the session with.")
    attached = [provider_record(evidence, r) for r in profile.providers]
    absent = [r for r in attached if not any(in_session(e, r) for e in entries)]
    extra = [e for e in entries if not any(in_session(e, r) for r in attached)]
    details = [
        Detail(
            kind="facts",
            title="Records beside the session",
            facts={
                "Profile": f"{profile.display} ({got.how})" if got.profile == profile else profile.display,
                "Attached in the records": ", ".join(provider_label(r) for r in profile.providers) or "none",
                "In channelProviders": ", ".join(e.display for e in entries) or "none",
            },
        )
    ]
    if not absent and not extra:
        return Verdict(
            "pass",
            f"channelProviders holds the {counted(len(entries), 'provider')} attached to {profile.display}.",
            details,
        )
    details.append(
        Detail(
            kind="table",
            title=f"{profile.display} and the providers attached to it",
            headings=[
                {"key": "name", "label": "Record", "type": "text"},
                {"key": "session", "label": "In channelProviders", "type": "text"},
                {"key": "id", "label": "Record id", "type": "code"},
                link_heading(),
            ],
            rows=[
                {
                    "name": f"{profile.display} (agent experience profile)",
                    "session": "",
                    "id": profile.id,
                    "link": record_link(evidence, PROFILES, profile.id),
                }
            ]
            + [
                {
                    "name": provider_label(r) or "(unnamed)",
                    "session": "no" if any(r is a for a in absent) else "yes",
                    "id": text(r.get("msdyn_channelproviderid")),
                    "link": record_link(evidence, V2_TABLE, r.get("msdyn_channelproviderid")),
                }
                for r in attached
            ],
        )
    )
    found = []
    if absent:
        found.append(
            f"attached to {profile.display} ({profile.id}) in the records but not in this session's channelProviders: "
            + ", ".join(
                f"{provider_label(r) or '(unnamed)'} ({text(r.get('msdyn_channelproviderid'))})" for r in absent[:5]
            )
            + (f" and {len(absent) - 5:,} more" if len(absent) > 5 else "")
        )
    if extra:
        found.append(
            f"in channelProviders but not attached to {profile.display} ({profile.id}): "
            + ", ".join(e.display for e in extra[:5])
            + (f" and {len(extra) - 5:,} more" if len(extra) > 5 else "")
        )
    return Verdict("warn", "The session did not get the profile the records give: " + "; ".join(found) + ".", details)
