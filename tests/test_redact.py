from cifcheck.redact import REDACTED, redact_text, redact_url


def test_secret_query_values_are_redacted_and_others_kept():
    url = redact_url("https://widget.example.com/app?queue=tier1&access_token=abc123&sig=zz")
    assert "abc123" not in url and "zz" not in url
    assert "queue=tier1" in url


def test_a_token_inside_json_embedded_in_json_is_redacted():
    stored = '[{"label":"Phone","customParams":"{\\"queue\\": \\"q1\\", \\"token\\": \\"s3cr3t\\"}"}]'
    shown = redact_text(stored)
    assert "s3cr3t" not in shown
    assert REDACTED in shown and '\\"queue\\": \\"q1\\"' in shown


def test_bearer_strings_and_jwts_are_redacted():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    shown = redact_text(f"Authorization: Bearer abc.def.ghi and {jwt}")
    assert "abc.def.ghi" not in shown and jwt not in shown


def test_ordinary_fields_are_untouched():
    text = '{"uniqueName": "contoso", "sortOrder": "1", "channelUrl": "https://x/y?uci=true"}'
    assert redact_text(text) == text


def test_credentials_in_a_url_are_redacted():
    assert redact_url("https://admin:Hunter2Secret@contoso.crm.dynamics.com/main.aspx") == (
        "https://[redacted]@contoso.crm.dynamics.com/main.aspx"
    )
    assert "Hunter2Secret" not in redact_text("opened https://admin:Hunter2Secret@contoso.crm.dynamics.com")


def test_tokens_in_a_url_fragment_are_redacted():
    url = redact_url("https://contoso.crm.dynamics.com/#id_token=SECRETXYZ123&state=abc")
    assert "SECRETXYZ123" not in url and "state=abc" in url


def test_basic_authorization_and_cookie_headers_are_redacted():
    shown = redact_text("Authorization: Basic dXNlcjpwYXNz; .AspNet.Cookies=CfDJ8Secret")
    assert "dXNlcjpwYXNz" not in shown and "CfDJ8Secret" not in shown


def test_an_escaped_quote_inside_a_secret_does_not_leak_its_end():
    shown = redact_text('{"password": "ab\\"cd-SECRET", "user": "x"}')
    assert "SECRET" not in shown and '"user": "x"' in shown


def test_json_that_does_not_parse_is_still_redacted_as_text():
    shown = redact_text('{"password": "ab\\"cd-SECRET", "user": ')
    assert "SECRET" not in shown


def test_lone_surrogates_are_replaced_so_the_text_can_be_written():
    shown = redact_text("CIF: \ud83d broken")
    shown.encode("utf-8")
    assert shown == "CIF: \ufffd broken"


def test_a_secret_in_use_is_scrubbed_wherever_it_turns_up():
    from cifcheck.redact import register_secret

    register_secret("Zq9-unusual-Pa55")
    assert "Zq9-unusual-Pa55" not in redact_text("The password Zq9-unusual-Pa55 is incorrect")
    assert "Zq9" not in redact_url("https://login.example.com/post?x=Zq9-unusual-Pa55")
    assert "otc=[redacted]" in redact_url("https://login.example.com/?otc=123456")
