from cifcheck.evidence import ConsoleEntry, DataverseEvidence, Evidence, ResourceLoad, WebApiRequest
from tests.evidence_factory import CHANNEL_URL, ORG, healthy_evidence


def test_v1_absent_passes_without_v1_pieces(judge):
    assert judge("cif.v1_absent", healthy_evidence()).status == "pass"


def test_a_loaded_v1_library_warns_naming_it(judge):
    evidence = healthy_evidence()
    evidence.resources.append(
        ResourceLoad(
            url=f"{ORG}/webresources/CRMClients/msdyn_internal_ci_library.js", resource_type="script", status=200
        )
    )
    result = judge("cif.v1_absent", evidence)
    assert result.status == "warn"
    assert "msdyn_internal_ci_library.js loaded" in result.reason


def test_an_active_v1_provider_record_warns(judge):
    evidence = healthy_evidence()
    evidence.dataverse.v1_providers = [{"msdyn_label": "Old Phone", "statecode": 0}]
    result = judge("cif.v1_absent", evidence)
    assert result.status == "warn"
    assert "Old Phone" in result.reason


REFUSED = "HTTP 403: msdyn_ciproviders was refused (signed out, or the user may not read msdyn_ciproviders)"


def test_unreadable_v1_records_are_an_error_never_a_pass(judge):
    evidence = healthy_evidence()
    evidence.dataverse = DataverseEvidence(
        errors={"msdyn_ciproviders": REFUSED},
        requests=[WebApiRequest(url=f"{ORG}/api/data/v9.2/msdyn_ciproviders?$select=statecode", status=403)],
    )
    result = judge("cif.v1_absent", evidence)
    assert result.status == "error"
    assert REFUSED in result.reason
    assert "msdyn_ciproviders" in result.remediation
    requests = next(d for d in result.details if d.title == "cifcheck's Web API requests for msdyn_ciproviders")
    assert [(row["method"], row["status"]) for row in requests.rows] == [("GET", 403)]


def test_a_failed_web_api_probe_is_an_error_never_a_pass(judge):
    evidence = healthy_evidence()
    evidence.dataverse = None
    evidence.probe_errors["dataverse"] = "Error: Target page, context or browser has been closed"
    result = judge("cif.v1_absent", evidence)
    assert result.status == "error"
    assert "the Web API probe failed: Error: Target page" in result.reason


def test_a_loaded_v1_library_warns_even_when_the_records_could_not_be_read(judge):
    evidence = healthy_evidence()
    evidence.resources.append(
        ResourceLoad(url=f"{ORG}/webresources/CRMClients/msdyn_core_ci_library.js", resource_type="script", status=200)
    )
    evidence.dataverse = DataverseEvidence(errors={"msdyn_ciproviders": REFUSED})
    result = judge("cif.v1_absent", evidence)
    assert result.status == "warn"
    assert "msdyn_core_ci_library.js loaded" in result.reason
    assert "could not be checked: HTTP 403" in result.reason


def test_evidence_saved_before_requests_were_recorded_is_still_judged(judge):
    evidence = healthy_evidence()
    saved = evidence.model_dump(mode="json")
    saved["dataverse"] = {"user_id": "u", "v1_providers": [{"msdyn_label": "Old", "statecode": 1}], "errors": {}}
    old = Evidence.model_validate(saved)
    assert old.dataverse is not None and old.dataverse.requests == []
    assert judge("cif.v1_absent", old).status == "pass"


def test_console_passes_ignoring_unrelated_errors(judge):
    evidence = healthy_evidence()
    evidence.console = [ConsoleEntry(level="error", text="Telemetry upload failed", source_url=f"{ORG}/telemetry.js")]
    result = judge("console.cif_errors", evidence)
    assert result.status == "pass"
    assert "1 other errors ignored" in result.reason


def test_console_warns_quoting_a_cif_error(judge):
    evidence = healthy_evidence()
    evidence.console = [
        ConsoleEntry(
            level="error",
            text="Failed to load resource: the server responded with a status of 404",
            source_url=f"{ORG}/webresources/msdyn_channelintegrationframework.js",
        )
    ]
    result = judge("console.cif_errors", evidence)
    assert result.status == "warn"
    assert "“Failed to load resource" in result.reason


def test_console_counts_errors_from_a_provider_host(judge):
    evidence = healthy_evidence()
    evidence.console = [ConsoleEntry(level="pageerror", text="TypeError: x is undefined", source_url=CHANNEL_URL)]
    assert judge("console.cif_errors", evidence).status == "warn"


def test_console_ignores_warnings_and_info(judge):
    evidence = healthy_evidence()
    evidence.console = [ConsoleEntry(level="warning", text="CIF deprecated API")]
    assert judge("console.cif_errors", evidence).status == "pass"
