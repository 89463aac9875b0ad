"""records.profile_providers: the app's agent experience profile exists and has a CIF 2.0 provider attached."""

from __future__ import annotations

from cifcheck.checks.records import (
    PROFILES_PATH,
    V2_PATH,
    is_active,
    is_omnichannel,
    is_out_of_box,
    link_heading,
    list_not_read,
    profiles,
    provider_label,
    provider_profiles,
    provider_record,
    quoted,
    record_link,
    same,
    text,
    unread,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.probes.dataverse import PROFILE_PROVIDERS, PROFILES, V2_TABLE
from cifcheck.results import Detail


def _attached(evidence: Evidence, provider: dict) -> dict:
    """The provider record an attachment names, from the CIF 2.0 provider table (which says whether it is active)."""
    return provider_record(evidence, provider)


@check(
    id="records.profile_providers",
    title="CIF 2.0 provider attached to the agent experience profile",
    failure_title="No CIF 2.0 provider is attached to the app's agent experience profile",
    remediation=f"Open the app's agent experience profile ({PROFILES_PATH}), and under Channel providers select "
    "Edit and attach the CIF 2.0 channel provider; in Omnichannel, edit the 'Omnichannel upgraded app profile' when "
    "there is one, else create a profile.",
    checked="Reads the app's agent experience profiles (msdyn_appconfigurations for the app's unique name) with "
    "their channel providers (the N:N msdyn_appconfig_msdyn_channelprovider), with cifcheck's own Web API GETs.",
    doc_step="Step 3 (Omnichannel): attach the channel provider to the app profile",
    requires=("dataverse",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    refused = unread(evidence, "records.profile_providers", PROFILES)
    if refused is not None:
        return refused
    dataverse = evidence.dataverse
    assert dataverse is not None
    app = dataverse.app_unique_name or evidence.target.app
    every = profiles(dataverse)
    details = [_profiles_table(evidence, every)] if every else []
    wanted = evidence.settings.records.profile
    if not every:
        return Verdict(
            "fail",
            f"No agent experience profile exists for the app {app} (no msdyn_appconfiguration with "
            f"msdyn_appmoduleuniquename {app}).",
            remediation=f"Create an agent experience profile for {app} ({PROFILES_PATH} > New) and attach the "
            "CIF 2.0 channel provider to it.",
        )
    if wanted and not provider_profiles(evidence):
        names = ", ".join(p.display for p in every)
        return Verdict(
            "fail",
            f"No agent experience profile of {app} is named {quoted(wanted)} (records.profile); the app has {names}.",
            details,
            remediation="Set records.profile to one of the app's profiles, or leave it out to judge the profile "
            "the signed-in user gets.",
        )
    judged = [p for p in every if p.named(wanted)] if wanted else [p for p in every if not is_out_of_box(p, evidence)]
    with_active = [p for p in judged if any(is_active(_attached(evidence, x)) for x in p.providers)]
    upgraded = _upgraded_note(evidence, with_active or judged)
    if with_active:
        said = "; ".join(f"{p.display} has {_named(evidence, p.providers)}" for p in with_active)
        if V2_TABLE in dataverse.errors:
            # The attachment is there; whether the provider it names is active the provider table would say.
            said = "; ".join(f"{p.display} ({p.id}) has {_named(evidence, p.providers)}" for p in with_active)
            return Verdict(
                "warn",
                f"CIF 2.0 provider attached: {said}; whether it is active could not be told ({V2_TABLE} was not "
                f"read: {dataverse.errors[V2_TABLE]}).{upgraded}",
                details,
                remediation="records.provider_parity's card says why the provider table could not be read.",
            )
        return Verdict("pass", f"CIF 2.0 provider attached: {said}.{upgraded}", details)
    not_read = [p for p in judged if not p.providers_read]
    if not_read:
        return list_not_read(
            not_read,
            "channel providers",
            PROFILE_PROVIDERS,
            "whether a provider is attached",
            details,
            "records.profile_providers",
        )
    inactive = [
        (p, _attached(evidence, x)) for p in judged for x in p.providers if not is_active(_attached(evidence, x))
    ]
    if inactive:
        said = "; ".join(
            f"{provider_label(record) or '(unnamed)'} ({text(record.get('msdyn_channelproviderid'))}), attached to "
            f"{profile.display} ({profile.id})"
            for profile, record in inactive[:5]
        )
        more = f" and {len(inactive) - 5:,} more" if len(inactive) > 5 else ""
        one = len(inactive) == 1
        details.append(
            Detail(
                kind="table",
                title="Deactivated channel providers attached",
                headings=[
                    {"key": "name", "label": "Channel provider", "type": "text"},
                    {"key": "profile", "label": "Attached to", "type": "text"},
                    {"key": "id", "label": "Record id", "type": "code"},
                    link_heading(),
                ],
                rows=[
                    {
                        "name": provider_label(record),
                        "profile": profile.display,
                        "id": text(record.get("msdyn_channelproviderid")),
                        "link": record_link(evidence, V2_TABLE, record.get("msdyn_channelproviderid")),
                    }
                    for profile, record in inactive
                ],
            )
        )
        return Verdict(
            "fail",
            f"The channel provider{'' if one else 's'} {said}{more} {'is' if one else 'are'} deactivated.{upgraded}",
            details,
            remediation=f"Activate the channel provider{'' if one else 's'} the table names (each link opens one; "
            f"{V2_PATH}), or attach an active CIF 2.0 provider to the profile.",
        )
    if not judged:
        names = ", ".join(p.display for p in every)
        return Verdict(
            "fail",
            f"{app} has only its out-of-box {'profile' if len(every) == 1 else 'profiles'} ({names}), which cannot "
            f"be modified: no channel provider can be attached to {'it' if len(every) == 1 else 'them'}.",
            details,
            remediation=f"Create an agent experience profile for {app} ({PROFILES_PATH} > New), attach the CIF 2.0 "
            "channel provider to it, and assign the users to it.",
        )
    names = ", ".join(f"{p.display} ({p.id})" for p in judged)
    return Verdict(
        "fail",
        f"No CIF 2.0 channel provider is attached to {names}.{upgraded}",
        details,
        remediation=f"Open {judged[0].display} ({record_link(evidence, PROFILES, judged[0].id) or PROFILES_PATH}; "
        f"{PROFILES_PATH}), and under Channel providers select Edit and attach the CIF 2.0 channel provider.",
    )


def _named(evidence: Evidence, providers: list[dict], most: int = 5) -> str:
    """The providers by label, the first few of a long list (the table lists them all)."""
    labels = [provider_label(_attached(evidence, provider)) for provider in providers]
    if len(labels) <= most:
        return ", ".join(labels)
    return f"{len(labels):,} providers: {', '.join(labels[:most])} and {len(labels) - most:,} more"


def _upgraded_note(evidence: Evidence, judged: list) -> str:
    """Omnichannel: whether the profile is the one an upgrade created or a new one (the document's step 3)."""
    if not is_omnichannel(evidence) or not judged:
        return ""
    upgraded = evidence.settings.records.upgraded_profile
    if any(same(upgraded, p.name) for p in judged):
        return f" It is the {quoted(upgraded)}, as the document says to edit when there is one."
    return f" It is a new profile, not the {quoted(upgraded)}."


def _profiles_table(evidence: Evidence, every: list) -> Detail:
    return Detail(
        kind="table",
        title="The app's agent experience profiles",
        headings=[
            {"key": "name", "label": "Profile", "type": "text"},
            {"key": "unique_name", "label": "Unique name", "type": "code"},
            {"key": "rank", "label": "Rank", "type": "text"},
            {"key": "providers", "label": "Channel providers attached", "type": "text"},
            {"key": "id", "label": "Record id", "type": "code"},
            link_heading(),
        ],
        rows=[
            {
                "name": p.display + (" (out of box)" if is_out_of_box(p, evidence) else ""),
                "unique_name": p.unique_name,
                "rank": "" if p.rank is None else f"{p.rank:g}",
                "providers": ", ".join(
                    provider_label(_attached(evidence, x))
                    + ("" if is_active(_attached(evidence, x)) else " (deactivated)")
                    for x in p.providers
                )
                or "none",
                "id": p.id,
                "link": record_link(evidence, PROFILES, p.id),
            }
            for p in every
        ],
    )
