"""cifcheck's Web API client, against a fake request API: what it sends, what it follows, what it records, and that
an org's error or non-JSON answer never reaches the evidence. (Real Chromium: tests/test_web_api_out_of_page_reach.py.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cifcheck.probes.dataverse import READS, read_dataverse
from cifcheck.probes.webapi import Limits, ReadError, WebApi, org_origin

ORG = "https://contoso.crm.dynamics.com"
API = f"{ORG}/api/data/v9.2/"
SECRET = "org-secret-in-an-answer-4b1f"
COOKIE = "session-cookie-value-9a7c"

Answer = tuple[int, bytes] | Exception


def json_answer(body: object, status: int = 200) -> Answer:
    return status, json.dumps(body).encode()


@dataclass
class FakeResponse:
    status: int
    _body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return self._body

    def dispose(self) -> None:
        pass


@dataclass
class FakeRequests:
    """A request API that answers each URL with `answer(url)` and remembers every call."""

    answer: Callable[[str], Answer]
    calls: list[dict] = field(default_factory=list)

    def get(self, url: str, **options: object) -> FakeResponse:
        self.calls.append({"url": url, **options})
        answer = self.answer(url)
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(*answer)


class FakeContext:
    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self.request = FakeRequests(answer)

    def cookies(self, url: str) -> list[dict]:
        return [{"name": "CrmOwinAuth", "value": COOKIE}]


SLEPT: list[float] = []


def api(answer: Callable[[str], Answer], limits: Limits | None = None, origin: str = ORG) -> WebApi:
    SLEPT.clear()
    return WebApi(FakeContext(answer), origin, limits, sleep=SLEPT.append)  # type: ignore[arg-type]


def test_only_gets_with_the_odata_headers_and_time_limits_are_sent():
    client = api(lambda url: json_answer({"UserId": "u"}), Limits(page_size=50, request_timeout_ms=4_000))
    assert client.get("WhoAmI") == {"UserId": "u"}
    (call,) = client._context.request.calls  # type: ignore[attr-defined]
    assert call["url"] == f"{API}WhoAmI"
    assert call["headers"] == {
        "Accept": "application/json",
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
        "If-None-Match": "null",
        "Prefer": "odata.maxpagesize=50",
    }
    assert call["timeout"] == 4_000
    assert call["max_redirects"] == 0
    assert [(r.method, r.url, r.status, r.error) for r in client.requests] == [("GET", f"{API}WhoAmI", 200, None)]
    assert client.requests[0].duration_ms is not None


def test_records_select_and_keep_only_the_fields_asked_for_with_values_redacted():
    answer = {
        "value": [
            {
                "@odata.etag": 'W/"1"',
                "msdyn_ciproviderid": "id-1",
                "msdyn_label": "Old Phone",
                "msdyn_landingurl": f"https://phone.example/?token={SECRET}",
                "statecode": 0,
            }
        ]
    }
    client = api(lambda url: json_answer(answer))
    records = client.records("msdyn_ciproviders", ("msdyn_label", "msdyn_landingurl", "statecode"))
    assert records == [
        {"msdyn_label": "Old Phone", "msdyn_landingurl": "https://phone.example/?token=[redacted]", "statecode": 0}
    ]
    assert client.requests[0].url == f"{API}msdyn_ciproviders?$select=msdyn_label,msdyn_landingurl,statecode"


def test_next_links_on_the_org_are_followed_page_after_page():
    second = f"{API}msdyn_ciproviders?$select=msdyn_label&$skiptoken=%3Ccookie%20pagenumber%3D%222%22%20/%3E"

    def answer(url: str) -> Answer:
        if "skiptoken" in url:
            return json_answer({"value": [{"msdyn_label": "B"}]})
        return json_answer({"value": [{"msdyn_label": "A"}], "@odata.nextLink": second})

    client = api(answer)
    assert client.records("msdyn_ciproviders", ("msdyn_label",)) == [{"msdyn_label": "A"}, {"msdyn_label": "B"}]
    assert [call["url"] for call in client._context.request.calls][1] == second  # type: ignore[attr-defined]
    assert len(client.requests) == 2


@pytest.mark.parametrize(
    "next_link",
    [
        "https://evil.example/api/data/v9.2/msdyn_ciproviders?page=2",
        "http://contoso.crm.dynamics.com/api/data/v9.2/msdyn_ciproviders?page=2",
        "https://contoso.crm.dynamics.com:8443/api/data/v9.2/msdyn_ciproviders?page=2",
        "https://contoso.crm.dynamics.com@evil.example/api/data/v9.2/msdyn_ciproviders",
        "https://contoso.crm.dynamics.com/main.aspx?page=2",
        "//evil.example/api/data/v9.2/msdyn_ciproviders",
        42,
    ],
)
def test_a_next_link_that_leaves_the_orgs_web_api_is_not_followed(next_link: object):
    client = api(lambda url: json_answer({"value": [{"msdyn_label": "A"}], "@odata.nextLink": next_link}))
    with pytest.raises(ReadError, match="not on the org's Web API; not followed"):
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert len(client._context.request.calls) == 1  # type: ignore[attr-defined]


def test_a_listing_longer_than_the_page_cap_is_an_error_not_a_partial_answer():
    pages = iter(range(1, 100))  # a new next link each page: a link read already is a loop (another error)
    client = api(
        lambda url: json_answer(
            {"value": [{"msdyn_label": "A"}], "@odata.nextLink": f"{API}msdyn_ciproviders?n={next(pages)}"}
        ),
        Limits(page_size=1, max_pages=3),
    )
    with pytest.raises(ReadError, match="more than 3 pages of 1 records; not read whole"):
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert len(client.requests) == 3


def _error_body() -> bytes:
    return json.dumps({"error": {"message": f"Principal user is missing privilege. {SECRET}"}}).encode()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_read_is_an_error_naming_the_table_without_quoting_the_answer(status: int):
    client = api(lambda url: (status, _error_body()))
    with pytest.raises(ReadError) as refused:
        client.records("msdyn_ciproviders", ("msdyn_label",))
    assert str(refused.value).startswith(f"HTTP {status}: msdyn_ciproviders was refused")
    assert client.requests[0].status == status
    assert client.requests[0].error == str(refused.value)
    assert SECRET not in json.dumps([r.model_dump() for r in client.requests])


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((200, f"<html><title>Sign in</title>{SECRET}</html>".encode()), "answer is not JSON (WhoAmI, HTTP 200)"),
        ((200, b"[1, 2]"), "answer is not a JSON object (WhoAmI, HTTP 200)"),
        ((500, _error_body()), "HTTP 500 for WhoAmI"),
        ((302, b""), "HTTP 302: the read of WhoAmI was redirected (not followed; signed out?)"),
    ],
)
def test_an_answer_that_is_not_a_json_object_is_recorded_with_a_fixed_message(answer: Answer, message: str):
    client = api(lambda url: answer)
    with pytest.raises(ReadError) as failed:
        client.get("WhoAmI")
    assert str(failed.value) == client.requests[-1].error == message
    assert SECRET not in message


def test_a_records_answer_without_a_list_of_records_is_an_error():
    client = api(lambda url: json_answer({"value": "none"}))
    with pytest.raises(ReadError, match="holds no list of records"):
        client.records("msdyn_ciproviders", ("msdyn_label",))


def test_a_request_without_an_answer_in_time_is_an_error_with_its_limit():
    client = api(lambda url: PlaywrightTimeoutError("Timeout 2000ms exceeded."), Limits(request_timeout_ms=2_000))
    with pytest.raises(ReadError, match="no answer for WhoAmI within 2,000 ms"):
        client.get("WhoAmI")
    assert client.requests[0].status is None


def test_a_failed_request_keeps_only_the_first_line_of_the_error():
    failure = PlaywrightError(
        f"APIRequestContext.get: connect ECONNREFUSED 10.0.0.1:443\nCall log:\n  - cookie: CrmOwinAuth={COOKIE}"
    )
    client = api(lambda url: failure)
    with pytest.raises(ReadError) as failed:
        client.get("WhoAmI")
    assert str(failed.value) == "the request for WhoAmI failed: connect ECONNREFUSED 10.0.0.1:443"
    assert COOKIE not in json.dumps([r.model_dump() for r in client.requests])


def test_all_reads_share_one_time_limit():
    def slow(url: str) -> Answer:
        time.sleep(0.12)
        return json_answer({"value": []})

    client = api(slow, Limits(total_ms=100, request_timeout_ms=5_000))
    client.records("msdyn_ciproviders", ("msdyn_label",))
    assert client._context.request.calls[0]["timeout"] <= 100  # type: ignore[attr-defined]
    with pytest.raises(ReadError, match=r"time limit \(100 ms\) was reached"):
        client.records("msdyn_channelproviders", ("msdyn_label",))
    assert len(client.requests) == 1, "a request past the time limit is not made"


def test_a_localhost_org_is_reached_at_the_loopback_address_with_the_contexts_cookies():
    client = api(lambda url: json_answer({"UserId": "u"}), origin="http://healthy.crm.localhost:8123")
    client.get("WhoAmI")
    (call,) = client._context.request.calls  # type: ignore[attr-defined]
    assert call["url"] == "http://127.0.0.1:8123/api/data/v9.2/WhoAmI"
    assert call["headers"]["Host"] == "healthy.crm.localhost:8123"
    assert call["headers"]["Cookie"] == f"CrmOwinAuth={COOKIE}"
    assert client.requests[0].url == "http://healthy.crm.localhost:8123/api/data/v9.2/WhoAmI"


@pytest.mark.parametrize(
    ("page_url", "origin"),
    [
        (f"{ORG}/main.aspx?appid=1", ORG),
        ("https://CONTOSO.crm.dynamics.com:443/main.aspx", ORG),
        ("http://healthy.crm.localhost:8123/main.aspx", None),
        ("https://evil.example/main.aspx?org=contoso.crm.dynamics.com", None),
        ("https://contoso.crm.dynamics.com@evil.example/main.aspx", None),
        ("https://contoso.crm.dynamics.com.evil.example/", None),
        ("about:blank", None),
    ],
)
def test_reads_go_to_the_pages_origin_only_when_it_is_the_orgs_host(page_url: str, origin: str | None):
    assert org_origin(page_url, ("contoso.crm.dynamics.com",)) == origin


def _page(url: str, answer: Callable[[str], Answer]) -> SimpleNamespace:
    return SimpleNamespace(url=url, context=FakeContext(answer))


def test_a_page_off_the_org_is_not_read_and_every_table_says_why():
    page = _page("https://evil.example/main.aspx", lambda url: json_answer({"value": []}))
    evidence = read_dataverse(page, ("contoso.crm.dynamics.com",))  # type: ignore[arg-type]
    assert page.context.request.calls == []
    assert evidence.v1_providers is None and evidence.v2_providers is None
    assert set(evidence.errors) == set(READS)
    assert "is not on the org's host (contoso.crm.dynamics.com)" in evidence.errors["msdyn_ciproviders"]


def test_one_refused_table_leaves_the_other_reads_and_records_every_request():
    user = "0a1b2c3d-0000-4000-8000-000000000001"

    def answer(url: str) -> Answer:
        if "msdyn_ciproviders" in url:
            return 403, _error_body()
        if "WhoAmI" in url:
            return json_answer({"UserId": user})
        if f"systemusers({user})" in url:
            return json_answer({"systemuserid": user, "fullname": "Agent", "msdyn_appconfiguration_systemuser": []})
        return json_answer({"value": [{"msdyn_uniquename": "contoso_softphone", "msdyn_customparams": SECRET}]})

    page = _page(f"{ORG}/main.aspx", answer)
    evidence = read_dataverse(page, ("contoso.crm.dynamics.com",), "msdyn_CustomerServiceWorkspace")  # type: ignore[arg-type]
    assert evidence.user_id == user
    assert evidence.v1_providers is None
    assert list(evidence.errors) == ["msdyn_ciproviders"]
    assert evidence.v2_providers == [
        {"msdyn_uniquename": "contoso_softphone", "msdyn_customparams": "(not kept: 28 characters)"}
    ]
    assert evidence.user is not None and evidence.user["fullname"] == "Agent"
    assert all(r.method == "GET" for r in evidence.requests)
    assert [r.status for r in evidence.requests].count(403) == 1
    assert SECRET not in evidence.model_dump_json()


def test_a_user_id_that_is_no_record_id_is_not_put_into_a_path():
    def answer(url: str) -> Answer:
        if "WhoAmI" in url:
            return json_answer({"UserId": "x)/../../evil"})
        return json_answer({"value": []})

    evidence = read_dataverse(_page(f"{ORG}/main.aspx", answer), ("contoso.crm.dynamics.com",), "app")  # type: ignore[arg-type]
    assert evidence.errors == {"systemusers": "not read: WhoAmI named no user"}
    assert not any("systemusers" in r.url for r in evidence.requests)


def test_an_answer_larger_than_the_limit_is_an_error_not_read():
    client = api(lambda url: (200, b'{"value": []}' + b" " * 2_000), Limits(max_body_bytes=1_000))
    with pytest.raises(ReadError, match="larger than 1,000 bytes"):
        client.get("WhoAmI")


def _answers(*answers: Answer) -> Callable[[str], Answer]:
    """The answers in turn, one per request."""
    waiting = list(answers)
    return lambda url: waiting.pop(0)


def test_a_throttled_read_waits_what_retry_after_asks_and_is_served():
    client = api(_answers((429, b"", {"retry-after": "2"}), json_answer({"UserId": "u"})))  # type: ignore[arg-type]
    assert client.get("WhoAmI") == {"UserId": "u"}
    assert SLEPT == [2.0]
    assert [r.status for r in client.requests] == [429, 200]


def test_a_retry_after_beyond_the_bound_is_an_error_naming_the_table_without_waiting():
    client = api(_answers((429, b"", {"retry-after": "300"})), Limits(max_retry_after_s=10))  # type: ignore[arg-type]
    with pytest.raises(ReadError, match=r"HTTP 429: the org throttled the reads of msdyn_ciproviders"):
        client.records("msdyn_ciproviders", ("msdyn_name",))
    assert SLEPT == []


def test_a_read_throttled_again_and_again_gives_up_after_the_bounded_retries():
    client = api(lambda url: (429, b"", {"retry-after": "1"}), Limits(max_throttled_retries=3))  # type: ignore[arg-type]
    with pytest.raises(ReadError, match="HTTP 429"):
        client.get("WhoAmI")
    assert SLEPT == [1.0, 1.0, 1.0]
    assert len(client.requests) == 4


def test_a_server_error_is_tried_once_more():
    client = api(_answers((503, b""), json_answer({"UserId": "u"})))
    assert client.get("WhoAmI") == {"UserId": "u"}
    assert [r.status for r in client.requests] == [503, 200]
    assert client.requests[0].error == "HTTP 503 for WhoAmI: tried once more"


def test_a_second_server_error_is_the_answer():
    client = api(lambda url: (502, b""))
    with pytest.raises(ReadError, match="HTTP 502 for WhoAmI"):
        client.get("WhoAmI")
    assert len(client.requests) == 2


def test_expanded_collections_keep_only_their_selected_fields():
    answer = {
        "value": [
            {
                "@odata.etag": 'W/"1"',
                "msdyn_appconfigurationid": "p1",
                "msdyn_name": "Agents",
                "msdyn_appconfig_msdyn_channelprovider": [{"@odata.etag": 'W/"2"', "msdyn_channelproviderid": "c1"}],
            }
        ]
    }
    client = api(lambda url: json_answer(answer))
    records = client.records(
        "msdyn_appconfigurations",
        ("msdyn_appconfigurationid", "msdyn_name"),
        expand={"msdyn_appconfig_msdyn_channelprovider": ("msdyn_channelproviderid",)},
    )
    assert records == [
        {
            "msdyn_appconfigurationid": "p1",
            "msdyn_name": "Agents",
            "msdyn_appconfig_msdyn_channelprovider": [{"msdyn_channelproviderid": "c1"}],
        }
    ]
    assert "$expand=msdyn_appconfig_msdyn_channelprovider($select=msdyn_channelproviderid)" in (client.requests[0].url)


def test_an_expanded_collection_answered_by_a_next_link_is_followed_to_its_end():
    deferred = f"{API}msdyn_appconfigurations(p1)/msdyn_appconfig_msdyn_channelprovider?$select=msdyn_channelproviderid"

    def answer(url: str) -> Answer:
        if "/msdyn_appconfig_msdyn_channelprovider" in url:
            return json_answer({"value": [{"msdyn_channelproviderid": "c1"}, {"msdyn_channelproviderid": "c2"}]})
        return json_answer(
            {
                "value": [
                    {
                        "msdyn_appconfigurationid": "p1",
                        "msdyn_appconfig_msdyn_channelprovider": [],
                        "msdyn_appconfig_msdyn_channelprovider@odata.nextLink": deferred,
                    }
                ]
            }
        )

    client = api(answer)
    (profile,) = client.records(
        "msdyn_appconfigurations",
        ("msdyn_appconfigurationid",),
        expand={"msdyn_appconfig_msdyn_channelprovider": ("msdyn_channelproviderid",)},
    )
    assert profile["msdyn_appconfig_msdyn_channelprovider"] == [
        {"msdyn_channelproviderid": "c1"},
        {"msdyn_channelproviderid": "c2"},
    ]


def test_an_expanded_collections_next_link_off_the_org_is_not_followed():
    answer = {"value": [{"x": 1, "nav": [], "nav@odata.nextLink": "https://elsewhere.example/api/data/v9.2/nav"}]}
    client = api(lambda url: json_answer(answer))
    with pytest.raises(ReadError, match="not on the org's Web API"):
        client.records("msdyn_appconfigurations", ("x",), expand={"nav": ("y",)})
