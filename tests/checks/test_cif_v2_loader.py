import json

from tests.evidence_factory import EXTENSIONS, healthy_evidence, storage

CHECK = "profile.cif_v2_loader"


def with_extensions(value: str, key: str = "applicationExtensions"):
    evidence = healthy_evidence()
    evidence.storage = storage(**{"channelProviders": "[]", key: value})
    return evidence


def test_passes_structurally_when_the_loader_names_the_library(judge):
    result = judge(CHECK, healthy_evidence())
    assert result.status == "pass"
    assert "decided structurally" in result.reason


def test_a_missing_key_fails(judge):
    evidence = healthy_evidence()
    evidence.storage = storage(channelProviders="[]")
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "no applicationExtensions key" in result.reason


def test_no_loader_entry_fails_listing_what_is_there(judge):
    result = judge(CHECK, with_extensions(json.dumps(EXTENSIONS[1:])))
    assert result.status == "fail"
    assert "no msdyn_CIFV2Loader entry" in result.reason
    assert "msdyn_ProductivityToolsLoader" in result.reason


def test_a_loader_pointing_elsewhere_fails_naming_the_resource(judge):
    value = json.dumps([{"uniqueName": "msdyn_CIFV2Loader", "webResourceUrl": "WebResources/custom_loader.js"}])
    result = judge(CHECK, with_extensions(value))
    assert result.status == "fail"
    assert "points at WebResources/custom_loader.js" in result.reason


def test_the_library_under_another_name_fails_naming_it(judge):
    value = json.dumps(
        [{"uniqueName": "contoso_loader", "webResourceUrl": "WebResources/msdyn_channelintegrationframework.js"}]
    )
    result = judge(CHECK, with_extensions(value))
    assert result.status == "fail"
    assert "under the name contoso_loader" in result.reason


def test_names_and_file_names_match_ignoring_case(judge):
    value = json.dumps(
        [
            {
                "msdyn_name": "MSDYN_cifv2loader",
                "msdyn_webresource_url": "/webresources/MSDYN_ChannelIntegrationFramework.js",
            }
        ]
    )
    assert judge(CHECK, with_extensions(value)).status == "pass"


def test_an_object_keyed_by_name_is_read(judge):
    value = json.dumps({"msdyn_CIFV2Loader": {"WebResourceUrl": "WebResources/msdyn_channelintegrationframework.js"}})
    assert judge(CHECK, with_extensions(value)).status == "pass"


def test_a_value_that_is_not_json_is_decided_textually(judge):
    value = "msdyn_CIFV2Loader=WebResources/msdyn_channelintegrationframework.js;other=x.js"
    result = judge(CHECK, with_extensions(value))
    assert result.status == "pass"
    assert "decided textually" in result.reason


def test_text_naming_the_loader_without_the_library_fails_textually(judge):
    result = judge(CHECK, with_extensions("msdyn_CIFV2Loader=WebResources/other.js"))
    assert result.status == "fail"
    assert "decided textually" in result.reason


def test_unexpected_json_types_fail_without_crashing(judge):
    for value in ("42", "true", '"msdyn_CIFV2Loader"', "[null, 1, []]"):
        assert judge(CHECK, with_extensions(value)).status == "fail"


def test_a_prefixed_key_and_a_configured_loader_name_are_honoured(judge):
    evidence = with_extensions(
        json.dumps([{"name": "contoso_loader", "url": "WebResources/contoso.js"}]), key="x_applicationExtensions"
    )
    evidence.settings.loader_name = "contoso_loader"
    evidence.settings.library_file = "contoso.js"
    assert judge(CHECK, evidence).status == "pass"
