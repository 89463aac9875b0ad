import json

import pytest

from cifcheck.config import Expectations
from tests.evidence_factory import PROVIDERS, healthy_evidence, storage

CHECK = "profile.channel_providers"


def with_providers(value: str, key: str = "channelProviders"):
    evidence = healthy_evidence()
    evidence.storage = storage(**{key: value, "applicationExtensions": "[]"})
    return evidence


def test_passes_listing_each_provider(judge):
    result = judge(CHECK, healthy_evidence())
    assert result.status == "pass"
    assert result.reason == "1 provider: Contoso Phone."
    table = next(d for d in result.details if d.kind == "table")
    assert table.rows[0]["channel_url"] == PROVIDERS[0]["channelUrl"]
    assert {h["key"] for h in table.headings} <= set(table.rows[0])


def test_a_missing_key_fails_as_missing(judge):
    evidence = healthy_evidence()
    evidence.storage = storage(applicationExtensions="[]")
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "no channelProviders key" in result.reason


@pytest.mark.parametrize("value", ["[]", "{}", "", "null", '"[]"'])
def test_a_present_but_empty_value_fails_as_empty(judge, value):
    result = judge(CHECK, with_providers(value))
    assert result.status == "fail"
    assert "present but empty" in result.reason


def test_a_value_that_is_not_json_fails_as_unparseable(judge):
    result = judge(CHECK, with_providers("Contoso Phone;https://phone.contoso.com"))
    assert result.status == "fail"
    assert "unparseable" in result.reason


@pytest.mark.parametrize("value", ["42", "[1, 2, 3]", '"text"', '{"Version": 2}', "[[[[[[[[[[]]]]]]]]]]"])
def test_json_without_provider_records_fails_clearly(judge, value):
    result = judge(CHECK, with_providers(value))
    assert result.status == "fail"


def test_deeply_nested_json_is_a_failure_not_a_crash(judge):
    result = judge(CHECK, with_providers("[" * 100_000 + "]" * 100_000))
    assert result.status == "fail"


def test_a_value_too_long_to_read_whole_is_an_error(judge):
    evidence = with_providers("[" + '{"name": "x"},' * 10)
    evidence.storage.truncated = ["channelProviders"]
    result = judge(CHECK, evidence)
    assert result.status == "error"
    assert "more than cifcheck reads" in result.reason


def test_a_huge_valid_value_is_judged(judge):
    many = [dict(PROVIDERS[0], uniqueName=f"p{i}", label=f"Provider {i}") for i in range(5_000)]
    result = judge(CHECK, with_providers(json.dumps(many)))
    assert result.status == "pass"
    assert result.reason.startswith("5000 providers")


def test_a_prefixed_key_is_found_by_pattern_and_named(judge):
    result = judge(CHECK, with_providers(json.dumps(PROVIDERS), key="CIF.4f1c9a2e.channelProviders"))
    assert result.status == "pass"
    assert "found by pattern" in result.reason


def test_msdyn_field_names_are_read(judge):
    value = json.dumps(
        [{"msdyn_uniquename": "contoso", "msdyn_label": "Contoso Phone", "msdyn_channelurl": "https://x"}]
    )
    assert judge(CHECK, with_providers(value)).reason == "1 provider: Contoso Phone."


def test_an_object_keyed_by_unique_name_with_pascal_case_fields_is_read(judge):
    value = json.dumps({"Providers": {"contoso": {"Label": "Contoso Phone", "ChannelUrl": "https://x"}}})
    result = judge(CHECK, with_providers(value))
    assert result.status == "pass"
    assert next(d for d in result.details if d.kind == "table").rows[0]["unique_name"] == "contoso"


def test_json_encoded_twice_is_read(judge):
    assert judge(CHECK, with_providers(json.dumps(json.dumps(PROVIDERS)))).status == "pass"


def test_an_expected_provider_that_is_absent_fails(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(providers=["fabrikam_chat"])
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "expects provider fabrikam_chat" in result.reason


def test_expected_providers_match_by_label_or_unique_name_ignoring_case(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(providers=["CONTOSO_SOFTPHONE", "contoso phone"])
    assert judge(CHECK, evidence).status == "pass"


def test_an_expected_channel_url_prefix_must_match(judge):
    evidence = healthy_evidence()
    evidence.settings.expect = Expectations(channel_urls=["https://oc-cdn-ocprod.azureedge.net/"])
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "channel URL https://oc-cdn-ocprod.azureedge.net/" in result.reason


def test_a_number_too_long_to_convert_is_a_failure_not_a_crash(judge):
    result = judge(CHECK, with_providers('[{"name": "x", "sortOrder": ' + "9" * 5000 + "}]"))
    assert result.status == "fail"
    assert "not usable JSON" in result.reason
