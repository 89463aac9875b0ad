"""records.user_assigned: the signed-in user gets the profile with the CIF 2.0 provider, and by which path."""

from __future__ import annotations

from cifcheck.checks.profile import channel_providers
from cifcheck.checks.records import (
    PROFILES_PATH,
    Profile,
    assignment,
    in_session,
    link_heading,
    provider_profiles,
    provider_record,
    record_link,
    unread,
    user_name,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.probes.dataverse import PROFILES, ROLE_MAPPINGS, USERS
from cifcheck.results import Detail


@check(
    id="records.user_assigned",
    title="Signed-in user gets the profile with the CIF 2.0 provider",
    failure_title="The signed-in user does not get the profile with the CIF 2.0 provider",
    remediation=f"Open the agent experience profile with the CIF 2.0 provider ({PROFILES_PATH}) and add the user "
    "under Users, or map one of the user's security roles to it with a better rank (Set rank and roles); then sign "
    "out of the app and in again.",
    checked="Reads the signed-in user (WhoAmI, systemusers) with the profiles it is assigned to directly "
    "(msdyn_appconfiguration_systemuser) and its security roles, and the profile role mappings "
    "(msdyn_appprofilerolemappings), and works out which profile the user gets: direct, by role (best rank), or "
    "default.",
    doc_step="Step 3 (Customer Service workspace) / step 4 (Omnichannel): assign the user to this profile",
    requires=("dataverse",),
    prerequisites=("session.signed_in", "records.profile_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    refused = unread(evidence, "records.user_assigned", "WhoAmI", PROFILES, USERS, ROLE_MAPPINGS)
    if refused is not None:
        return refused
    wanted = provider_profiles(evidence)
    got = assignment(evidence)
    user = user_name(evidence)
    names = " or ".join(p.display for p in wanted)
    details = [
        Detail(
            kind="facts",
            title="How the profile was worked out",
            facts={
                "User": user,
                "Profile the user gets": got.profile.display if got.profile else "none",
                "How": got.how,
                "Also applies": "; ".join(got.others) or "nothing else",
                "With the CIF 2.0 provider": names or "no profile",
            },
        )
    ]
    # Every profile the verdict names, each once: the one the user gets, those tied with it, those with the provider.
    named = list({p.id: p for p in [*([got.profile] if got.profile else []), *got.tied, *wanted]}.values())
    if named:
        details.append(
            Detail(
                kind="table",
                title="Profiles named",
                headings=[
                    {"key": "name", "label": "Profile", "type": "text"},
                    {"key": "id", "label": "Record id", "type": "code"},
                    link_heading(),
                ],
                rows=[{"name": p.display, "id": p.id, "link": record_link(evidence, PROFILES, p.id)} for p in named],
            )
        )
    also = f" Also applies: {'; '.join(got.others)}." if got.others else ""
    wanted_ids = {p.id for p in wanted}
    if any(p.id in wanted_ids for p in got.tied) and any(p.id not in wanted_ids for p in got.tied):
        # Several direct assignments, or mappings of the same best rank: the documentation says nothing of which
        # one the user then gets, so neither a pass nor a fail would be known to hold.
        listed = ", ".join(f"{p.display} ({p.id})" for p in got.tied)
        rank = got.how.rsplit("(", 1)[-1].rstrip(")")
        tie = f"is assigned directly to {listed}" if got.path == "direct" else f"gets {listed} by role, each at {rank}"
        with_provider = ", ".join(p.display for p in got.tied if p.id in wanted_ids)
        without = ", ".join(p.display for p in got.tied if p.id not in wanted_ids)
        return Verdict(
            "warn",
            f"{user} {tie}, and the documentation does not say which one wins: {with_provider} has the CIF 2.0 "
            f"provider, {without} has not.",
            details,
            remediation="Leave the user one profile of this app directly, or give the profile with the CIF 2.0 "
            f"provider a better rank than the others ({PROFILES_PATH} > Set rank and roles).",
        )
    if got.profile is not None and any(p.id == got.profile.id for p in wanted):
        return Verdict("pass", f"{user} gets {got.profile.display} {got.how}.{also}", details)
    if got.profile is None:
        reason = f"{user} is assigned to no agent experience profile of this app, directly or through a role."
    elif got.path in ("direct", "role"):
        reason = (
            f"{user} gets {got.profile.display} {got.how}, not {names}: {got.profile.display} wins"
            + (", and it has no CIF 2.0 provider" if not got.profile.providers else "")
            + f".{also}"
        )
    else:
        reason = (
            f"{user} is assigned to {names} neither directly nor through a security role, so they get "
            f"{got.profile.display} {got.how}."
        )
        if got.path == "out-of-box default":
            reason += " An out-of-box profile cannot have channel providers."
    custom_default = _custom_default_seen(evidence, wanted)
    if got.path in ("out-of-box default", "none") and custom_default is not None:
        # Which column marks a custom default profile is not published: the session's providers tell instead.
        return Verdict(
            "warn",
            f"{user} is assigned to {custom_default.display} ({custom_default.id}) neither directly nor through a "
            "security role, but this session got its channel providers: it is probably the custom default profile. "
            "Set records.default_profile to it to have this confirmed.",
            details,
            remediation=f"If it is not the default profile, open it ({PROFILES_PATH}) and add the user under Users.",
        )
    return Verdict("fail", reason, details)


def _custom_default_seen(evidence: Evidence, wanted: list[Profile]) -> Profile | None:
    """The profile whose providers are exactly the session's, when no default profile is configured."""
    if evidence.settings.records.default_profile:
        return None
    entries = channel_providers(evidence) or []
    for profile in wanted:
        attached = [provider_record(evidence, r) for r in profile.providers]
        if attached and len(entries) == len(attached) and all(any(in_session(e, r) for e in entries) for r in attached):
            return profile
    return None
