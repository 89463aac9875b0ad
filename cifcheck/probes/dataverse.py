"""Read-only Web API GETs from the page (its own cookies authenticate): who is signed in, and the CIF 1.0
and CIF 2.0 provider records. Only the fields below are kept; their values are redacted."""

from __future__ import annotations

from playwright.sync_api import Page

from cifcheck.evidence import DataverseEvidence
from cifcheck.redact import redact_text

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

_READ = """async ([v1Fields, v2Fields]) => {
  const base = location.origin + "/api/data/v9.2/";
  const get = async (path) => {
    const response = await fetch(base + path, { credentials: "same-origin", headers: {
      Accept: "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0" } });
    if (!response.ok) throw new Error("HTTP " + response.status + " for " + path.split("?")[0]);
    return response.json();
  };
  const out = { errors: {} };
  const attempt = async (name, read) => {
    try { await read(); } catch (error) { out.errors[name] = String(error.message || error); }
  };
  await Promise.all([
    attempt("WhoAmI", async () => { out.user_id = (await get("WhoAmI")).UserId; }),
    attempt("msdyn_ciproviders", async () => {
      out.v1_providers = (await get("msdyn_ciproviders?$select=" + v1Fields.join(","))).value; }),
    attempt("msdyn_channelproviders", async () => {
      out.v2_providers = (await get("msdyn_channelproviders?$select=" + v2Fields.join(","))).value; }),
  ]);
  return out;
}"""


def _keep(records: list[dict] | None, fields: tuple[str, ...]) -> list[dict] | None:
    if records is None:
        return None
    return [
        {
            name: redact_text(value) if isinstance(value, str) else value
            for name, value in record.items()
            if name in fields
        }
        for record in records
    ]


def read_dataverse(page: Page) -> DataverseEvidence:
    raw = page.evaluate(_READ, [list(V1_FIELDS), list(V2_FIELDS)])
    return DataverseEvidence(
        user_id=raw.get("user_id"),
        v1_providers=_keep(raw.get("v1_providers"), V1_FIELDS),
        v2_providers=_keep(raw.get("v2_providers"), V2_FIELDS),
        errors=raw["errors"],
    )
