"""cifcheck's own Web API reads, in real Chromium against the sandbox org: only GETs reach the org, and a page that
wraps fetch and XMLHttpRequest (turning reads into DELETEs and faking their answers) changes neither the reads, nor
the requests recorded, nor the verdicts."""

from __future__ import annotations

from collections import Counter

import pytest
from playwright.sync_api import Browser

from cifcheck.checks import judge_target
from cifcheck.config import Config, Target
from cifcheck.evidence import BrowserInfo, Evidence
from cifcheck.probes.webapi import Limits, WebApi
from cifcheck.results import CheckResult, TargetResult
from cifcheck.runner import Browsers, open_target, run
from cifcheck.sandbox.app import REFUSAL_MARKER
from cifcheck.sandbox.host import RunningSandbox
from cifcheck.sandbox.scenarios import SCENARIOS
from cifcheck.session import OpenedTarget, gather

pytestmark = pytest.mark.browser

# What a hostile page can do to reads that run through its globals: every Web API request but the app's own profile
# read (which the app needs to boot) is sent as a DELETE instead, and answered with an empty, made-up table.
HOSTILE = r"""(() => {
  const targeted = (url) => /\/api\/data\//i.test(String(url)) && !/msdyn_appconfigurations/i.test(String(url));
  const fake = JSON.stringify({ value: [], UserId: "00000000-0000-0000-0000-000000000000" });
  const originalFetch = window.fetch;
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    if (!targeted(url)) return originalFetch(input, init);
    await originalFetch(url, { ...init, method: "DELETE" }).catch(() => {});
    return new Response(fake, { status: 200, headers: { "Content-Type": "application/json" } });
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    if (!targeted(url)) return open.call(this, method, url, ...rest);
    for (const [name, value] of [["status", 200], ["responseText", fake], ["response", fake]]) {
      Object.defineProperty(this, name, { get: () => value });
    }
    return open.call(this, "DELETE", url, ...rest);
  };
  const parse = JSON.parse;
  JSON.parse = (text, reviver) => {
    const value = parse(text, reviver);
    return value && Array.isArray(value.value) ? { ...value, value: [] } : value;
  };
})();"""

# The scenario has an active CIF 1.0 provider record: a faked empty table would lose it.
SCENARIO = "cif1-still-active"


def _validate(
    browser: Browser, sandbox, scenario: str, init_script: str | None = None
) -> tuple[TargetResult, Evidence]:
    """One target as the runner validates it, with `init_script` in every frame before the page's own scripts."""
    target = Target(name=scenario, url=f"sandbox://{scenario}", app=SCENARIOS[scenario].app)
    config = Config(targets=[target])
    opened, cookies = open_target(target, config, {"sandbox": RunningSandbox(sandbox)})
    browsers = Browsers(BrowserInfo(name="chromium"), browser)
    with browsers.context_for(target, config, cookies) as context:
        if init_script:
            context.add_init_script(init_script)
        evidence = gather(context, opened, config, browsers.info)
    return judge_target(evidence, target.checks), evidence


def _opened(sandbox, scenario: str) -> tuple[OpenedTarget, list[dict]]:
    target = Target(name="org", url=f"sandbox://{scenario}")
    return open_target(target, Config(targets=[target]), {"sandbox": RunningSandbox(sandbox)})


def _check(result: TargetResult, check_id: str) -> CheckResult:
    return next(c for c in result.checks if c.id == check_id)


def _methods(sandbox) -> Counter[str]:
    return Counter(sandbox.app.state.web_api_requests)


def _forget_writes(sandbox, attempts: int, provoked: Counter[str]) -> None:
    """Forgets the writes a test provoked on purpose, so that the suite's never-writes assertions still hold."""
    del sandbox.app.state.write_attempts[attempts:]
    counts = sandbox.app.state.web_api_requests
    for method in [method for method in provoked if method != "GET"]:
        counts[method] -= provoked[method]
        if counts[method] <= 0:
            del counts[method]


def _requests(evidence: Evidence) -> list[tuple]:
    assert evidence.dataverse is not None
    return [(r.method, r.url, r.status, r.error) for r in evidence.dataverse.requests]


def test_a_full_run_makes_only_get_requests_to_the_orgs_web_api(browser: Browser, sandbox):
    before = _methods(sandbox)
    output = run(Config(targets=[Target(name="org", url="sandbox://healthy-csw")]), sandbox=sandbox, browser=browser)
    made = _methods(sandbox) - before
    assert made["GET"] >= 3
    assert set(made) == {"GET"}, f"non-GET requests to the Web API: {made}"
    made_by_cifcheck = [(method, status) for method, _, status, _ in _requests(output.evidence[0])]
    assert len(made_by_cifcheck) >= 7 and set(made_by_cifcheck) == {("GET", 200)}


def test_the_hostile_page_does_fool_a_read_made_with_its_own_fetch(browser: Browser, sandbox):
    """The control: the wrapper works, so the test below would catch reads that went through the page."""
    opened, cookies = _opened(sandbox, SCENARIO)
    context = browser.new_context()
    attempts = len(sandbox.app.state.write_attempts)
    before = _methods(sandbox)
    try:
        context.add_cookies(cookies)
        context.add_init_script(HOSTILE)
        page = context.new_page()
        page.goto(opened.app_url)
        page.wait_for_function("typeof Xrm !== 'undefined'")
        read = page.evaluate("async () => (await (await fetch('/api/data/v9.2/msdyn_ciproviders')).json()).value")
        xhr = page.evaluate("""() => { const request = new XMLHttpRequest();
          request.open("GET", "/api/data/v9.2/msdyn_ciproviders", false);
          request.send();
          return request.responseText; }""")
    finally:
        context.close()
        provoked = _methods(sandbox) - before
        _forget_writes(sandbox, attempts, provoked)
    assert read == []
    assert '"value": []' in xhr or '"value":[]' in xhr
    assert provoked["DELETE"] == 2


def test_a_page_that_wraps_fetch_and_xhr_changes_neither_cifchecks_reads_nor_its_verdicts(browser: Browser, sandbox):
    plain_result, plain = _validate(browser, sandbox, SCENARIO)
    before = _methods(sandbox)
    hostile_result, hostile = _validate(browser, sandbox, SCENARIO, HOSTILE)
    assert set(_methods(sandbox) - before) == {"GET"}, "the hostile page made cifcheck send something else than GET"
    assert plain.dataverse is not None and hostile.dataverse is not None
    assert plain.dataverse.v1_providers and plain.dataverse.v1_providers[0]["statecode"] == 0
    # Fingerprints are keyed anew each read: the same records have the same ones, not the same values.
    unkeyed = {"requests", "fingerprints"}
    assert hostile.dataverse.model_dump(exclude=unkeyed) == plain.dataverse.model_dump(exclude=unkeyed)
    assert set(hostile.dataverse.fingerprints) == set(plain.dataverse.fingerprints)
    assert _requests(hostile) == _requests(plain)
    assert [(c.id, c.status) for c in hostile_result.checks] == [(c.id, c.status) for c in plain_result.checks]
    assert _check(hostile_result, "cif.v1_absent").reason == _check(plain_result, "cif.v1_absent").reason
    assert "CIF 1.0 provider Contoso Phone is active" in _check(hostile_result, "cif.v1_absent").reason


def test_a_refused_table_is_an_error_naming_it_and_its_answer_never_reaches_the_evidence(browser: Browser, sandbox):
    result, evidence = _validate(browser, sandbox, "v1-records-refused")
    v1 = _check(result, "cif.v1_absent")
    assert v1.status == "error"
    assert "HTTP 403: msdyn_ciproviders was refused" in v1.reason
    refused = [url for _, url, status, _ in _requests(evidence) if status != 200]
    assert len(refused) == 1 and "/msdyn_ciproviders" in refused[0]
    assert REFUSAL_MARKER not in evidence.model_dump_json()
    assert REFUSAL_MARKER not in result.model_dump_json()


def test_next_links_of_the_real_driver_are_followed_page_after_page(browser: Browser, sandbox):
    opened, cookies = _opened(sandbox, "several-providers")
    context = browser.new_context()
    try:
        context.add_cookies(cookies)
        api = WebApi(context, opened.org_url, Limits(page_size=1))
        records = api.records("msdyn_channelproviders", ("msdyn_uniquename", "statecode"))
    finally:
        context.close()
    assert [r["msdyn_uniquename"] for r in records] == ["contoso_softphone", "fabrikam_chat"]
    assert [(r.method, r.status) for r in api.requests] == [("GET", 200), ("GET", 200)]
    assert "skiptoken" in api.requests[1].url
