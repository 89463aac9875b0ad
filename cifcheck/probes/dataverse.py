"""The Dataverse records the checks need: who is signed in, and the CIF 1.0 and CIF 2.0 provider records.

Read with cifcheck's own Web API client (webapi.py), outside the page, so no page script can change the reads.
Only the fields below are asked for and kept; their values are redacted. A table that could not be read stays None,
with the reason in `errors`, so its checks give `error` rather than judging an empty table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from playwright.sync_api import Page

from cifcheck.evidence import DataverseEvidence
from cifcheck.probes.webapi import Limits, ReadError, WebApi

V1_FIELDS = ("msdyn_name", "msdyn_label", "msdyn_landingurl", "msdyn_ciproviderapiversion", "statecode")
V2_FIELDS = (
    "msdyn_name",
    "msdyn_uniquename",
    "msdyn_label",
    "msdyn_channelurl",
    "msdyn_apiversion",
    "msdyn_trusteddomain",
    "statecode",
)
READS = ("WhoAmI", "msdyn_ciproviders", "msdyn_channelproviders")

T = TypeVar("T")


def read_dataverse(page: Page, org_hosts: Sequence[str], limits: Limits | None = None) -> DataverseEvidence:
    evidence = DataverseEvidence()
    try:
        api = WebApi.for_page(page, org_hosts, limits)
    except ReadError as error:
        evidence.errors = dict.fromkeys(READS, str(error))
        return evidence

    def attempt(name: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except ReadError as error:  # one table refused is no reason not to read the others
            evidence.errors[name] = str(error)
            return None

    who = attempt("WhoAmI", lambda: api.get("WhoAmI"))
    user_id = who.get("UserId") if who else None
    evidence.user_id = user_id if isinstance(user_id, str) else None
    evidence.v1_providers = attempt("msdyn_ciproviders", lambda: api.records("msdyn_ciproviders", V1_FIELDS))
    evidence.v2_providers = attempt("msdyn_channelproviders", lambda: api.records("msdyn_channelproviders", V2_FIELDS))
    evidence.requests = api.requests
    return evidence
