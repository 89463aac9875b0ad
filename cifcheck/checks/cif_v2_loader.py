"""profile.cif_v2_loader: applicationExtensions references msdyn_channelintegrationframework.js as msdyn_CIFV2Loader.

Decided structurally when the value is JSON, textually otherwise; the reason says which.
"""

from __future__ import annotations

from cifcheck.checks.channel_providers import key_facts
from cifcheck.checks.profile import APP_PROFILE_FIX, field_of, find_key, parse_json, records
from cifcheck.checks.registry import Verdict, check
from cifcheck.checks.resources import file_name
from cifcheck.evidence import Evidence
from cifcheck.results import Detail

TEXT_WINDOW = 1_000  # how close the file name must follow the loader name when read as text


def _url(record: dict) -> str:
    value = field_of(record, "webResourceUrl", "webResource", "url", "src", "path", "resourceUrl")
    return "" if value is None else str(value)


def _names(map_key: str | None, record: dict) -> list[str]:
    return [str(v) for v in (map_key, field_of(record, "uniqueName"), field_of(record, "name")) if v]


def _table(entries: list[tuple[str | None, dict]]) -> Detail:
    return Detail(
        kind="table",
        title="Application extensions in session storage",
        headings=[
            {"key": "name", "label": "Name", "type": "code"},
            {"key": "url", "label": "Web resource", "type": "code"},
        ],
        rows=[{"name": (_names(k, r) or ["(unnamed)"])[0], "url": _url(r)} for k, r in entries],
    )


def _structural(value: object, loader: str, library: str, details: list[Detail]) -> Verdict:
    how = "decided structurally: the value is JSON"
    entries = records(value)
    details.append(_table(entries))
    loaders = [(k, r) for k, r in entries if loader.lower() in (n.lower() for n in _names(k, r))]
    for _, record in loaders:
        if file_name(_url(record)) == library.lower():
            return Verdict("pass", f"{loader} references {_url(record)} ({how}).", details)
    if loaders:
        pointed = _url(loaders[0][1]) or "no web resource"
        return Verdict(
            "fail",
            f"{loader} points at {pointed}, not {library} ({how}).",
            details,
            remediation=f"The {loader} application extension must load WebResources/{library}. " + APP_PROFILE_FIX,
        )
    by_file = [(k, r) for k, r in entries if file_name(_url(r)) == library.lower()]
    if by_file:
        other = (_names(*by_file[0]) or ["(unnamed)"])[0]
        return Verdict("fail", f"{library} is referenced under the name {other}, not {loader} ({how}).", details)
    listed = ", ".join((_names(k, r) or ["(unnamed)"])[0] for k, r in entries) or "nothing"
    return Verdict("fail", f"applicationExtensions has no {loader} entry; it lists {listed} ({how}).", details)


def _textual(text: str, loader: str, library: str, details: list[Detail]) -> Verdict:
    how = "decided textually: the value is not JSON"
    details.append(Detail(kind="code", title="Value (start)", code=text[:500]))
    lowered = text.lower()
    position = lowered.find(loader.lower())
    if position < 0:
        return Verdict("fail", f"applicationExtensions has no {loader} entry ({how}).", details)
    if library.lower() in lowered[position : position + TEXT_WINDOW]:
        return Verdict("pass", f"{loader} is followed by {library} ({how}).", details)
    return Verdict("fail", f"{loader} is named but {library} does not follow it ({how}).", details)


@check(
    id="profile.cif_v2_loader",
    title="CIF 2.0 loader in the app profile",
    failure_title="CIF 2.0 loader missing from the app profile",
    remediation=APP_PROFILE_FIX,
    checked="Reads session storage key applicationExtensions and looks for the msdyn_CIFV2Loader entry and the "
    "web resource it loads.",
    doc_step="Verify step 2: applicationExtensions references msdyn_channelintegrationframework.js "
    "as msdyn_CIFV2Loader",
    requires=("storage",),
    prerequisites=("session.signed_in",),
)
def judge(evidence: Evidence) -> Verdict:
    settings = evidence.settings
    assert evidence.storage is not None
    found = find_key(evidence.storage, settings.application_extensions_key, settings.application_extensions_pattern)
    if found is None:
        return Verdict(
            "fail",
            f"Session storage has no applicationExtensions key (looked for {settings.application_extensions_key!r} "
            f"and the pattern {settings.application_extensions_pattern}).",
        )
    details = [key_facts(found)]
    value, error = parse_json(found.value)
    if error is None and not found.truncated:
        return _structural(value, settings.loader_name, settings.library_file, details)
    return _textual(found.value, settings.loader_name, settings.library_file, details)
