import json

import pytest

from cifcheck.checks.resources import same_page
from cifcheck.evidence import CifMessage, ConsoleEntry, ObservationEvidence, ResourceLoad
from tests.evidence_factory import CHANNEL_URL, WIDGET_LIBRARY_URL, healthy_evidence, widget

CHECK = "widget.loaded"


def test_passes_when_every_frame_loaded_and_initialised(judge):
    result = judge(CHECK, healthy_evidence())
    assert result.status == "pass"
    assert "Contoso Phone" in result.reason


def test_a_404_channel_url_fails_with_the_status(judge):
    evidence = healthy_evidence()
    evidence.resources[2] = ResourceLoad(url=CHANNEL_URL, resource_type="document", status=404)
    evidence.panel.widgets = [widget(cif_init_done=False, messages=[])]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "HTTP 404" in result.reason


def test_a_page_that_refuses_framing_fails_as_such(judge):
    evidence = healthy_evidence()
    evidence.resources[2] = ResourceLoad(
        url=CHANNEL_URL, resource_type="document", status=200, frame_options="X-Frame-Options: DENY"
    )
    evidence.panel.widgets = [widget(url="chrome-error://chromewebdata/", cif_init_done=False, error="unreadable")]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "refused to be framed (X-Frame-Options: DENY)" in result.reason
    assert "frame-ancestors" in result.remediation


def test_sender_domain_refusals_fail_with_the_trusted_domain_fix(judge):
    evidence = healthy_evidence()
    landing = "https://landing.contoso.com/widget"
    evidence.resources[2] = ResourceLoad(url=landing, resource_type="document", status=302, redirected_to=CHANNEL_URL)
    evidence.resources.append(ResourceLoad(url=CHANNEL_URL, resource_type="document", status=200))
    refused = "Sender domain is not a recognised or is invalid and hence the message cant be processed"
    evidence.panel.widgets = [widget(src=landing, messages=[CifMessage(outcome="failure", text=refused)])]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "trusted domain" in result.reason
    assert "Trusted Domain field" in result.remediation


def test_a_refusal_seen_only_on_the_console_counts(judge):
    evidence = healthy_evidence()
    evidence.console = [ConsoleEntry(level="trace", text="Ignoring message from unknown event source: https://x")]
    assert judge(CHECK, evidence).status == "fail"


def test_a_missing_widget_library_fails(judge):
    evidence = healthy_evidence()
    evidence.resources = [r for r in evidence.resources if r.url != WIDGET_LIBRARY_URL]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "never requested msdyn_ciLibrary.js" in result.reason


def test_a_redirected_widget_library_points_at_third_party_cookies(judge):
    evidence = healthy_evidence()
    evidence.resources[3] = ResourceLoad(
        url=WIDGET_LIBRARY_URL,
        resource_type="script",
        status=302,
        frame_url=CHANNEL_URL,
        redirected_to="https://login.microsoftonline.com/common/oauth2/authorize",
    )
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "third-party cookies" in result.remediation


def test_no_cif_init_fails(judge):
    evidence = healthy_evidence()
    evidence.panel.widgets = [widget(cif_init_done=False)]
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "CIFInitDone" in result.reason


def test_a_configured_provider_without_a_frame_fails(judge):
    evidence = healthy_evidence()
    evidence.panel.widgets = [widget(title="Other", src="https://other.example.com/")]
    evidence.resources.append(ResourceLoad(url="https://other.example.com/", resource_type="document", status=200))
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "no frame for it" in result.reason


def test_no_frames_at_all_fails(judge):
    evidence = healthy_evidence()
    evidence.panel.widgets = []
    assert judge(CHECK, evidence).status == "fail"


def test_channel_urls_are_compared_as_the_browser_requests_them(judge):
    evidence = healthy_evidence()
    written = "https://Phone.Contoso.com"
    evidence.resources[2] = ResourceLoad(url="https://phone.contoso.com/", resource_type="document", status=200)
    evidence.resources[3] = ResourceLoad(
        url=WIDGET_LIBRARY_URL, resource_type="script", status=200, frame_url="https://phone.contoso.com/"
    )
    evidence.panel.widgets = [widget(src=written, url="https://phone.contoso.com/")]
    evidence.storage.values["channelProviders"] = evidence.storage.values["channelProviders"].replace(
        CHANNEL_URL, written
    )
    assert judge(CHECK, evidence).status == "pass"


def test_a_malformed_url_in_the_evidence_is_judged_not_crashed(judge):
    evidence = healthy_evidence()
    evidence.resources.append(ResourceLoad(url="http://[broken", resource_type="script", status=200))
    assert judge(CHECK, evidence).status == "pass"
    assert judge("cif.library_loaded", evidence).status == "pass"
    assert judge("cif.v1_absent", evidence).status == "pass"


def test_a_widget_still_initialising_when_the_watch_ran_out_of_time_is_an_error(judge):
    evidence = healthy_evidence()
    evidence.panel.widgets = [widget(cif_init_done=False)]
    evidence.observation = ObservationEvidence(settled_by="time limit", settle_max_ms=60_000)
    result = judge(CHECK, evidence)
    assert result.status == "error"
    assert "timeouts.settle_max_ms" in result.reason


def test_a_fragment_in_the_channel_url_is_not_part_of_what_the_browser_requests(judge):
    evidence = healthy_evidence()
    evidence.panel.widgets = [widget(src=CHANNEL_URL + "#/home", url=CHANNEL_URL + "#/home")]
    assert judge(CHECK, evidence).status == "pass"


def test_a_relative_redirect_is_followed_to_the_widget_page(judge):
    evidence = healthy_evidence()
    start = CHANNEL_URL.rsplit("/", 1)[0] + "/start"
    evidence.resources.insert(
        2, ResourceLoad(url=start, resource_type="document", status=302, redirected_to=CHANNEL_URL)
    )
    evidence.panel.widgets = [widget(src=start)]
    evidence.storage.values["channelProviders"] = evidence.storage.values["channelProviders"].replace(
        CHANNEL_URL, start
    )
    assert judge(CHECK, evidence).status == "pass"


def test_a_widget_that_moves_on_by_script_is_judged_by_its_frame_not_its_first_url(judge):
    evidence = healthy_evidence()
    final = CHANNEL_URL.rsplit("/", 1)[0] + "/final.html"
    evidence.resources[2] = ResourceLoad(url=CHANNEL_URL, resource_type="document", status=200, frame_index=3)
    evidence.resources[3] = ResourceLoad(
        url=WIDGET_LIBRARY_URL, resource_type="script", status=200, frame_url=final, frame_index=3
    )
    evidence.resources.append(ResourceLoad(url=final, resource_type="document", status=200, frame_index=3))
    evidence.panel.widgets = [widget(url=final, frame_index=3)]
    assert judge(CHECK, evidence).status == "pass"


@pytest.mark.parametrize(
    ("configured", "framed", "same"),
    [
        ("https://p.example/w.html?q=1", "https://P.example/w.html?q=1&ucilib=https://org/lib.js", True),
        ("https://p.example/a/../w.html", "https://p.example/w.html", True),
        ("https://p.example/w.html?back=https%3A%2F%2Forg", "https://p.example/w.html?back=https://org", True),
        ("https://p.example/w.html?token=abc", "https://p.example/w.html?token=[redacted]", True),
        ("https://p.example/w.html?provider=A", "https://p.example/w.html?provider=B", False),
        ("https://p.example/w.html", "https://p.example/other.html", False),
        ("http://[broken", "https://p.example/", False),
    ],
)
def test_a_frame_is_matched_to_its_provider_as_a_host_writes_its_src(configured, framed, same):
    assert same_page(configured, framed) is same


def test_one_frame_never_stands_for_two_providers(judge):
    evidence = healthy_evidence()
    providers = json.loads(evidence.storage.values["channelProviders"])
    second = dict(providers[0], uniqueName="contoso_line_2", channelUrl=CHANNEL_URL + "&line=2")
    evidence.storage.values["channelProviders"] = json.dumps([*providers, second])
    result = judge(CHECK, evidence)
    assert result.status == "fail"
    assert "no frame for it" in result.reason
