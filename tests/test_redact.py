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
