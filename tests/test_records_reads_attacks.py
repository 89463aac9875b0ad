"""cifcheck's own Dataverse reads against a hostile or merely odd org: answers of odd shapes, secrets echoed where no
secret belongs, and links that try to lead the reads elsewhere. (The fake request API is test_webapi_client.py's.)
"""

from __future__ import annotations

import json

import pytest

from cifcheck.probes.dataverse import read_dataverse
from cifcheck.probes.webapi import Limits, ReadError
from cifcheck.redact import register_cookie_values
from tests.test_webapi_client import API, ORG, Answer, _answers, _page, api, json_answer

# A session cookie as Dynamics 365 sets them: long, and random enough that only its whole value is recognised.
SESSION = "Zk3qLmN8pQ2rS5tU7vW9xY1aB4cD6eF0gH2iJ4kL6mN8oP0qR2sT4uV6wX8yZ"
USER = "0a1b2c3d-0000-4000-8000-000000000001"


def _evidence_of(answers: dict[str, Answer]):
    """read_dataverse against an org answering the first URL part found in `answers`, else an empty listing."""

    def answer(url: str) -> Answer:
        if "WhoAmI" in url:
            return json_answer({"UserId": USER})
        for part, given in answers.items():
            if part in url:
                return given
        if "systemusers(" in url:
            return json_answer({"systemuserid": USER, "fullname": "Agent"})
        return json_answer({"value": []})

    page = _page(f"{ORG}/main.aspx", answer)
    return read_dataverse(page, ("contoso.crm.dynamics.com",), "msdyn_CustomerServiceWorkspace")  # type: ignore[arg-type]


def test_a_retry_after_holding_a_secret_is_not_quoted_in_part():
    register_cookie_values([SESSION])
    client = api(_answers((429, b"", {"retry-after": SESSION})))  # type: ignore[arg-type]
    with pytest.raises(ReadError) as throttled:
        client.get("WhoAmI")
    recorded = json.dumps([r.model_dump() for r in client.requests])
    assert SESSION[:8] not in str(throttled.value) and SESSION[:8] not in recorded
    assert "Retry-After" in str(throttled.value)


@pytest.mark.parametrize("loop", ["same", "a-b-a"])
def test_a_next_link_back_to_a_page_already_read_is_an_error_at_once(loop: str):
    first = f"{API}msdyn_ciproviders?$select=msdyn_label"
    second = f"{API}msdyn_ciproviders?$select=msdyn_label&$skiptoken=2"

    def answer(url: str) -> Answer:
        if loop == "same" or url == second:
            return json_answer({"value": [{"msdyn_label": "A"}], "@odata.nextLink": first if loop == "a-b-a" else url})
        return json_answer({"value": [{"msdyn_label": "A"}], "@odata.nextLink": second})

    client = api(answer)
    with pytest.raises(ReadError, match="the next page of msdyn_ciproviders is a page read already"):
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert len(client.requests) <= 2


def test_an_expanded_collections_next_link_that_loops_is_an_error_at_once():
    deferred = f"{API}msdyn_appconfigurations(p1)/nav?$select=y"

    def answer(url: str) -> Answer:
        if "/nav" in url:
            return json_answer({"value": [{"y": 1}], "@odata.nextLink": deferred})
        return json_answer({"value": [{"x": 1, "nav": [], "nav@odata.nextLink": deferred}]})

    client = api(answer)
    with pytest.raises(ReadError, match="the next page of nav is a page read already"):
        client.records("msdyn_appconfigurations", ("x",), expand={"nav": ("y",)})
    assert len(client.requests) <= 3


@pytest.mark.parametrize(
    "next_link",
    [
        f"{API}../../main.aspx?pagetype=entitylist",
        f"{API}%2e%2e/%2E%2E/main.aspx",
        f"{API}.%2e/.%2e/main.aspx",
        f"{API}msdyn_ciproviders/./../../../main.aspx",
    ],
)
def test_a_next_link_with_dot_segments_that_leave_the_web_api_is_not_followed(next_link: str):
    client = api(lambda url: json_answer({"value": [{"msdyn_label": "A"}], "@odata.nextLink": next_link}))
    with pytest.raises(ReadError, match="not on the org's Web API; not followed"):
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert len(client.requests) == 1


def test_a_role_mapping_column_whose_name_holds_a_secret_is_not_kept():
    register_cookie_values([SESSION])
    mapping = {
        "msdyn_appprofilerolemappingid": "m1",
        "_msdyn_appprofileid_value": "p1",
        "_msdyn_securityroleid_value": "r1",
        f"msdyn_appprofile_{SESSION}": "x",
        f"msdyn_securityrole_{SESSION.lower()}": "y",
    }
    evidence = _evidence_of({"msdyn_appprofilerolemappings": json_answer({"value": [mapping]})})
    assert evidence.role_mappings == [
        {"msdyn_appprofilerolemappingid": "m1", "_msdyn_appprofileid_value": "p1", "_msdyn_securityroleid_value": "r1"}
    ]
    assert SESSION.lower() not in evidence.model_dump_json().lower()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_an_answer_with_a_number_json_cannot_hold_is_not_json(number: str):
    # evidence.json writes NaN and Infinity as null: kept, the run and its offline re-judging would disagree.
    client = api(lambda url: (200, f'{{"value": [{{"msdyn_sortorder": {number}}}]}}'.encode()))
    with pytest.raises(ReadError, match=r"answer is not JSON \(msdyn_ciproviders, HTTP 200\)"):
        client.records("msdyn_ciproviders", ("msdyn_sortorder",))


def test_answers_larger_together_than_the_reads_byte_limit_are_an_error():
    # Each page under the per-answer limit, but a hundred of them would be held in memory at once.
    pages = iter(range(1, 1_000))

    def answer(url: str) -> Answer:
        link = f"{API}msdyn_ciproviders?$skiptoken={next(pages)}"
        return json_answer({"value": [{"msdyn_label": "A" * 800}], "@odata.nextLink": link})

    client = api(answer, Limits(max_body_bytes=1_000, max_total_bytes=2_500))
    with pytest.raises(ReadError, match=r"the Web API answers together are larger than 2,500 bytes"):
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert len(client.requests) == 3


def test_a_custom_parameter_named_by_a_secret_is_not_described_by_half_of_it():
    # A session cookie of an ordinary shape (no random-looking run): only its whole value is recognised.
    cookie = "session-cookie-value-for-contoso-crm-9a7c-aaaa-bbbb-cccc"
    register_cookie_values([cookie])
    provider = {"msdyn_channelproviderid": USER, "msdyn_customparams": json.dumps({cookie: 1, "queue": "q"})}
    evidence = _evidence_of({"msdyn_channelproviders": json_answer({"value": [provider]})})
    assert evidence.v2_providers is not None
    (described,) = [p["msdyn_customparams"] for p in evidence.v2_providers]
    assert cookie[:12] not in described and "queue" in described
