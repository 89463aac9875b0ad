"""records.loader_extension: the profile has the msdyn_CIFV2Loader application extension loading the CIF 2.0 library."""

from __future__ import annotations

from cifcheck.checks.records import (
    PROFILES_PATH,
    Profile,
    assignment,
    link_heading,
    list_not_read,
    provider_profiles,
    record_link,
    same,
    text,
    unread,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import file_name
from cifcheck.evidence import Evidence
from cifcheck.probes.dataverse import PROFILE_EXTENSIONS, PROFILES, ROLE_MAPPINGS, USERS
from cifcheck.results import Detail

LOADER, LIBRARY = "msdyn_CIFV2Loader", "msdyn_channelintegrationframework.js"  # the defaults named in the fix


def _judged(evidence: Evidence) -> list[Profile]:
    """The profile the user gets when it is one with the CIF 2.0 provider, else every such profile."""
    wanted = provider_profiles(evidence)
    if (
        unread(evidence, "records.loader_extension", "WhoAmI", USERS, ROLE_MAPPINGS) is None
        and evidence.dataverse
        and evidence.dataverse.user is not None
    ):
        got = assignment(evidence).profile
        if got is not None and any(p.id == got.id for p in wanted):
            return [got]
    return wanted


@check(
    id="records.loader_extension",
    title="CIF 2.0 loader extension on the profile",
    failure_title="The profile lacks the CIF 2.0 loader extension",
    remediation=f"The profile named below must list the {LOADER} application extension loading WebResources/"
    f"{LIBRARY} ({PROFILES_PATH} > the profile). Attaching a CIF 2.0 channel provider adds it: when the session's "
    "applicationExtensions lack it too, profile.cif_v2_loader's card has the migration document's fix.",
    checked="Reads the application extensions of the profile (the N:N msdyn_appconfiguration_applicationextension) "
    "with cifcheck's own Web API GETs and looks for the loader by its unique name and web resource.",
    doc_step="Verify step 2: applicationExtensions names msdyn_CIFV2Loader (the profile is wrong)",
    requires=("dataverse",),
    prerequisites=("session.signed_in", "records.profile_providers"),
)
def judge(evidence: Evidence) -> Verdict:
    refused = unread(evidence, "records.loader_extension", PROFILES)
    if refused is not None:
        return refused
    settings = evidence.settings
    loader, library = settings.loader_name, settings.library_file
    judged = _judged(evidence)
    rows = [
        {
            "profile": p.display,
            "name": text(e.get("msdyn_uniquename")) or text(e.get("msdyn_name")),
            "url": text(e.get("msdyn_webresource_url")),
            "id": text(e.get("msdyn_applicationextensionid")),
            "link": record_link(evidence, PROFILES, p.id),
        }
        for p in judged
        for e in p.extensions
    ] + [  # a profile without any extension still has its row, and its link
        {"profile": p.display, "name": "(none)", "url": "", "id": "", "link": record_link(evidence, PROFILES, p.id)}
        for p in judged
        if p.extensions_read and not p.extensions
    ]
    details = [
        Detail(
            kind="table",
            title="Application extensions of the profile",
            headings=[
                {"key": "profile", "label": "Profile", "type": "text"},
                {"key": "name", "label": "Extension", "type": "code"},
                {"key": "url", "label": "Web resource", "type": "code"},
                {"key": "id", "label": "Extension id", "type": "code"},
                link_heading(),
            ],
            rows=rows,
        )
    ]
    problems = []
    not_read = [p for p in judged if not p.extensions_read]
    for profile in judged:
        if not profile.extensions_read:
            continue
        loaders = [
            e
            for e in profile.extensions
            if same(loader, e.get("msdyn_uniquename")) or same(loader, e.get("msdyn_name"))
        ]
        if any(file_name(text(e.get("msdyn_webresource_url"))) == library.lower() for e in loaders):
            continue
        if loaders:
            pointed = text(loaders[0].get("msdyn_webresource_url")) or "no web resource"
            problems.append(f"{profile.display} ({profile.id}): {loader} points at {pointed}, not {library}")
        else:
            listed = ", ".join(text(e.get("msdyn_uniquename")) or text(e.get("msdyn_name")) for e in profile.extensions)
            problems.append(f"{profile.display} ({profile.id}) has no {loader} extension (it has {listed or 'none'})")
    if problems:
        return Verdict("fail", "; ".join(problems) + ".", details)
    if not_read:
        return list_not_read(
            not_read,
            "application extensions",
            PROFILE_EXTENSIONS,
            "whether the loader is there",
            details,
            "records.loader_extension",
        )
    names = ", ".join(p.display for p in judged)
    return Verdict("pass", f"{names} has the {loader} extension loading {library}.", details)
