import json
from pathlib import Path

import pytest

from cifcheck.config import ConfigError, config_schema, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_config_targets_the_sandbox_org():
    config = load_config(ROOT / "playwright.config.json")
    assert config.targets[0].is_sandbox


def test_the_shipped_schema_matches_the_models():
    shipped = json.loads((ROOT / "cifcheck" / "config.schema.json").read_text())
    assert shipped == config_schema(), "run: cifcheck schema config > cifcheck/config.schema.json"


def _error(data: object) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(data, "broken.json")
    return str(raised.value)


def test_an_unknown_field_is_named():
    message = _error({"targets": [{"name": "a", "url": "sandbox://healthy-csw", "colour": "red"}]})
    assert message == "broken.json: targets[0].colour: unknown field"


def test_a_wrong_type_is_named_in_plain_words():
    message = _error({"targets": [{"name": "a", "url": "sandbox://healthy-csw"}], "timeouts": {"ready_ms": "soon"}})
    assert message == "broken.json: timeouts.ready_ms: must be a whole number"


def test_repeated_target_names_are_refused():
    target = {"name": "a", "url": "sandbox://healthy-csw"}
    assert "repeated: a" in _error({"targets": [target, target]})


def test_target_names_differing_only_in_case_are_refused_as_their_evidence_files_are_one_file_on_macos_and_windows():
    targets = [{"name": "Contoso", "url": "sandbox://healthy-csw"}, {"name": "contoso", "url": "sandbox://healthy-csw"}]
    assert "repeated, ignoring case: Contoso, contoso" in _error({"targets": targets})


def test_an_invalid_storage_key_pattern_is_refused():
    message = _error(
        {"targets": [{"name": "a", "url": "sandbox://x"}], "storage_keys": {"channel_providers_pattern": "("}}
    )
    assert "storage_keys.channel_providers_pattern: not a valid regular expression" in message


def test_a_sign_in_host_that_is_not_a_host_name_is_refused():
    message = _error({"targets": [{"name": "a", "url": "sandbox://x"}], "sign_in": {"hosts": ["login.[ab].com"]}})
    assert message.startswith("broken.json: sign_in.hosts: 'login.[ab].com' is not a host name")


@pytest.mark.parametrize(
    ("field", "pattern", "matches"),
    [
        ("hosts", "*", "every host"),
        ("hosts", "*?", "every host"),
        ("hosts", "login.*", "every host"),
        ("hosts", "*.com", "every host under .com"),
        ("hosts", "login*.com", "every host under .com"),
        ("credential_hosts", "*.co.uk", "every host under .co.uk"),
        ("credential_hosts", "*.localhost", "every host under .localhost"),
    ],
)
def test_a_sign_in_host_pattern_that_matches_a_whole_public_suffix_is_refused(field, pattern, matches):
    message = _error(
        {"targets": [{"name": "a", "url": "sandbox://x"}], "sign_in": {field: ["login.contoso.com", pattern]}}
    )
    assert message == (
        f"broken.json: sign_in.{field}: {pattern!r} would match {matches}; name the sign-in host itself, like "
        "login.contoso.com"
    )


@pytest.mark.parametrize("pattern", ["*.b2clogin.com", "login-?.contoso.com", "*.login.contoso.co.uk", "127.0.0.1"])
def test_a_sign_in_host_pattern_under_a_named_domain_is_accepted(pattern):
    config = parse_config({"targets": [{"name": "a", "url": "sandbox://x"}], "sign_in": {"hosts": [pattern]}}, "c.json")
    assert config.sign_in.hosts == [pattern]


def test_credential_hosts_count_as_sign_in_hosts_too():
    config = parse_config(
        {"targets": [{"name": "a", "url": "sandbox://x"}], "sign_in": {"credential_hosts": ["sts.contoso.com"]}}, "c"
    )
    assert "sts.contoso.com" in config.sign_in.all_hosts and "*.b2clogin.com" in config.sign_in.all_hosts
    assert "*.b2clogin.com" not in config.sign_in.credential_hosts


def test_invalid_json_names_the_line(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"targets": [\n  {"name": "a",,}\n]}')
    with pytest.raises(ConfigError, match=r"broken.json: not valid JSON: .* line 2"):
        load_config(broken)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.json: config file not found"):
        load_config(tmp_path / "missing.json")


def test_an_app_guid_opens_by_appid_and_a_name_by_appname():
    config = parse_config(
        {
            "targets": [
                {"name": "a", "url": "sandbox://x", "app": "{9BD9E1B1-5C8C-EE11-8179-000D3A7B6F3C}"},
                {"name": "b", "url": "sandbox://x", "app": "OmniChannelEngagementHub"},
            ]
        },
        "c.json",
    )
    assert config.targets[0].app_query == "appid=9bd9e1b1-5c8c-ee11-8179-000d3a7b6f3c"
    assert config.targets[1].app_query == "appname=OmniChannelEngagementHub"


def test_a_retired_wait_setting_is_refused_naming_its_replacements():
    with pytest.raises(ConfigError, match=r"x\.json: timeouts: settle_ms is retired: .*observe_ms.*absence_ms"):
        parse_config(
            {"targets": [{"name": "t", "url": "sandbox://healthy-csw"}], "timeouts": {"settle_ms": 1}}, "x.json"
        )


def test_the_wait_windows_default_to_what_a_slow_real_org_fits_into():
    config = parse_config({"targets": [{"name": "t", "url": "sandbox://healthy-csw"}]}, "x.json")
    assert (config.timeouts.observe_ms, config.timeouts.absence_ms) == (3_000, 10_000)


def _target_url(url: str) -> str:
    return _error({"targets": [{"name": "a", "url": url}]})


def _cdp_endpoint(url: str) -> str:
    return _error({"targets": [{"name": "a", "url": "sandbox://x"}], "browser": {"cdp_endpoint": url}})


BAD_URLS = {
    "an IPv6 address without its closing bracket": ("http://[::1", "not a valid URL"),
    "a port above 65535": ("https://contoso.crm.dynamics.com:99999", "port '99999' is not a number from 1 to 65535"),
    "port 0": ("https://contoso.crm.dynamics.com:0", "port '0' is not a number from 1 to 65535"),
    "a port that is not a number": ("https://contoso.crm.dynamics.com:https", "is not a number from 1 to 65535"),
    "a user name and password": ("https://admin:Hunter2@contoso.crm.dynamics.com", "must not contain a user name"),
    "a percent-encoded user name and password": (
        "https://admin%3AHunter2%40contoso.crm.dynamics.com",
        "must not contain a user name",
    ),
    "no host": ("https://", "has no host name"),
    "a host name with an underscore": ("https://contoso_crm.dynamics.com", "'contoso_crm.dynamics.com' is not a host"),
    "an empty host label": ("https://contoso..dynamics.com", "is not a host name"),
    "an IPv4 address in brackets": ("http://[127.0.0.1]:9222", "not a valid URL"),
    "spaces": ("https://contoso.crm.dynamics.com /", "without spaces"),
}


@pytest.mark.parametrize("case", BAD_URLS, ids=list(BAD_URLS))
def test_a_bad_org_url_or_cdp_endpoint_is_refused_when_the_config_is_read(case):
    url, expected = BAD_URLS[case]
    for message, field in ((_target_url(url), "targets[0].url"), (_cdp_endpoint(url), "browser.cdp_endpoint")):
        assert message.startswith(f"broken.json: {field}: ") and expected in message, message
        assert "\n" not in message and "Hunter2" not in message.replace(url, "")


def test_an_org_url_may_be_an_ipv6_literal_with_a_port_and_a_cdp_endpoint_a_websocket_url():
    config = parse_config(
        {
            "targets": [{"name": "a", "url": "http://[::1]:8400/"}],
            "browser": {"cdp_endpoint": "ws://[::1]:9222/devtools/browser/387adf4c?x=1"},
        },
        "c.json",
    )
    assert config.targets[0].url == "http://[::1]:8400"
    assert config.browser.cdp_endpoint == "ws://[::1]:9222/devtools/browser/387adf4c?x=1"


def test_an_org_url_with_an_upper_case_scheme_is_kept_with_the_scheme_in_lower_case():
    config = parse_config({"targets": [{"name": "a", "url": "HTTPS://contoso.crm.dynamics.com/"}]}, "c.json")
    assert config.targets[0].url == "https://contoso.crm.dynamics.com"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("timeouts", "navigation_ms"),
        ("timeouts", "ready_ms"),
        ("timeouts", "settle_max_ms"),
        ("sign_in", "settle_ms"),
        ("sandbox", "latency_ms"),
    ],
)
def test_a_wait_longer_than_the_browser_can_time_is_refused_when_the_config_is_read(section, field):
    # Playwright hands timeouts to Node's setTimeout, which fires at once for anything above 2**31 - 1 ms: a run
    # would then report "the org did not answer in time" after a millisecond, a false error.
    message = _error({"targets": [SANDBOX], section: {field: 99_999_999_999_999_999_999}})
    assert message == f"broken.json: {section}.{field}: must be 86400000 or less"


def test_a_viewport_larger_than_the_browser_allows_is_refused_when_the_config_is_read():
    message = _error({"targets": [SANDBOX], "browser": {"viewport_width": 999_999_999}})
    assert message == "broken.json: browser.viewport_width: must be 10000 or less"


def test_a_cdp_endpoint_is_an_http_or_websocket_url():
    assert _cdp_endpoint("file:///tmp/x").endswith("must start with http://, https://, ws:// or wss://")


SANDBOX = {"name": "a", "url": "sandbox://healthy-csw"}


def test_an_unknown_field_near_a_known_one_suggests_it():
    assert _error({"targets": [{**SANDBOX, "chekcs": []}]}) == (
        "broken.json: targets[0].chekcs: unknown field (did you mean 'checks'?)"
    )
    assert _error({"targets": [SANDBOX], "timeouts": {"observe": 1}}) == (
        "broken.json: timeouts.observe: unknown field (did you mean 'observe_ms'?)"
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"targets": [{**SANDBOX, "name": "-a"}]},
            "targets[0].name: may hold only letters, digits, '.', '_' and '-', starting with a letter or digit",
        ),
        ({"targets": [{"url": "sandbox://healthy-csw"}]}, "targets[0].name: missing"),
        ({"targets": [SANDBOX], "browser": {"headless": []}}, "browser.headless: must be true or false"),
        ({"targets": [SANDBOX], "timeouts": {"observe_ms": -1}}, "timeouts.observe_ms: must be 0 or more"),
        ({"targets": {}}, "targets: must be a list ([...])"),
        ({"targets": []}, "targets: must not be empty"),
        ({"targets": [SANDBOX], "auth": "x"}, "auth: must be an object ({...})"),
        (
            {"targets": [SANDBOX], "sandbox": {"timing": "Slow"}},
            "sandbox.timing: may hold only lower-case letters, digits and '-'",
        ),
        (
            {"targets": [{**SANDBOX, "expect": {"panel_mode": "dockd"}}]},
            "targets[0].expect.panel_mode: must be "
            "'docked', 'minimized', 'hidden' or 'collapsed' (did you mean 'docked'?)",
        ),
    ],
)
def test_problems_are_said_in_plain_words(data, expected):
    assert _error(data) == f"broken.json: {expected}"


def test_every_problem_is_listed_on_its_own_line():
    message = _error({"targets": [{**SANDBOX, "colour": 1}], "timeouts": {"ready_ms": "soon"}})
    assert message.splitlines() == [
        "broken.json: targets[0].colour: unknown field",
        "broken.json: timeouts.ready_ms: must be a whole number",
    ]


def test_comments_are_accepted_on_any_object_and_must_be_text():
    config = parse_config(
        {"$comment": ["a", "b"], "targets": [{**SANDBOX, "$comment": "c"}], "auth": {"$comment": "d"}}, "c.json"
    )
    assert config.targets[0].name == "a"
    assert _error({"targets": [{**SANDBOX, "$comment": 3}]}) == (
        "broken.json: targets[0]: $comment: must be text or a list of texts"
    )


def test_an_address_bar_target_url_is_trimmed_to_the_org_root_with_a_note_and_opens_its_app():
    url = "https://contoso.crm.dynamics.com/main.aspx?appname=OmniChannelEngagementHub&pagetype=entitylist#x"
    config = parse_config({"targets": [{"name": "a", "url": url}]}, "c.json")
    assert (config.targets[0].url, config.targets[0].app) == (
        "https://contoso.crm.dynamics.com",
        "OmniChannelEngagementHub",
    )
    assert config.notes == [
        "c.json: targets[0].url: trimmed to the org root https://contoso.crm.dynamics.com (cifcheck opens the app "
        "itself); the app OmniChannelEngagementHub it opened is used (set app to choose another)"
    ]


def test_a_trimmed_target_url_keeps_the_app_the_target_names():
    url = "https://contoso.crm.dynamics.com/main.aspx?appname=OmniChannelEngagementHub"
    config = parse_config({"targets": [{"name": "a", "url": url, "app": "mine"}]}, "c.json")
    assert config.targets[0].app == "mine"
    assert config.notes == [
        "c.json: targets[0].url: trimmed to the org root https://contoso.crm.dynamics.com (cifcheck opens the app "
        "itself)"
    ]


def test_a_byte_order_mark_before_the_json_is_accepted(tmp_path):
    config = tmp_path / "c.json"
    config.write_bytes(b"\xef\xbb\xbf" + json.dumps({"targets": [SANDBOX]}).encode())
    assert load_config(config).targets[0].name == "a"


def test_a_field_given_twice_is_refused_rather_than_the_first_silently_dropped(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(
        '{"targets": [{"name": "a", "url": "sandbox://healthy-csw"}], "targets": [{"name": "b", "url": "sandbox://x"}]}'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: targets: given twice in one object; keep one"


def test_the_init_command_a_missing_config_suggests_quotes_a_path_a_shell_would_split(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "my cfg.json")
    assert f"`cifcheck init --file '{tmp_path}/my cfg.json'` writes a starter one" in str(raised.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_config_saved_as_utf_16_says_so_and_to_save_it_as_utf_8(tmp_path, encoding):
    path = tmp_path / "c.json"
    path.write_bytes(json.dumps({"targets": [SANDBOX]}).encode(encoding))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: UTF-16 text (as Windows PowerShell 5 writes a file by default); save it as UTF-8"
    )


def test_a_browser_channel_playwright_does_not_know_is_refused_with_the_closest_one():
    with pytest.raises(ConfigError, match=r"browser.channel: unknown channel 'msedgee' \(did you mean 'msedge'\?\)"):
        parse_config(
            {"targets": [{"name": "a", "url": "sandbox://healthy-csw"}], "browser": {"channel": "msedgee"}}, "x"
        )
