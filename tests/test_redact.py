"""Redaction, as a corpus: text that holds a secret (each with its own marker) and text that must survive whole."""

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from cifcheck.redact import (
    REDACTED,
    known_leaks,
    redact_text,
    redact_url,
    register_cookie_values,
    register_secret,
)

# (where a page might put it, the text). Each text holds its own marker "MKnn" + letters, which must be gone.
SECRETS_IN_TEXT = [
    ("nested URL, raw", "https://w.example/cb?next=https://x.example/a?client_secret=MK01qz"),
    ("nested URL, encoded", "https://w.example/cb?next=https%3A%2F%2Fx.example%2Fa%3Faccess_token%3DMK02qz"),
    ("nested SAS signature", "https://w.example/cb?sas=https%3A%2F%2Fx.blob%2Fa%3Fsv%3D1%26sig%3DMK03qz"),
    ("nested twice encoded", "see https%253A%252F%252Fx.example%252Fa%253Ftoken%253DMK04qz here"),
    ("JSON in a fragment", 'https://x.example/#{"token":"MK05qz"}'),
    ("quoted with =", 'token="MK06qz"'),
    ("Python dict", "{'client_secret': 'MK07qz'}"),
    ("escaped name", '{"\\u0074oken": "MK08qz"}'),
    ("escaped name in text", 'a "\\u0074oken": "MK09qz" b'),
    ("name over 80 characters", "x" * 90 + "_token=MK10qz"),
    ("name over 1,000 characters", "x" * 1_500 + "_token=MK44qz"),
    ("plural", "tokens=MK11qz"),
    ("suffix after the word", "token_value=MK12qz"),
    ("private key", "private_key_pem=MK13qz"),
    ("bracketed", "user[password]=MK14qz"),
    ("bearer percent-encoded", "Authorization: Bearer%20MK15qz"),
    ("ASP.NET session cookie", "ASP.NET_SessionId=MK16qz; x=1"),
    ("Java session cookie", "JSESSIONID=MK17qz"),
    ("title with password:", "Sign in failed, password: MK18qz"),
    ("header-style key", "x-api-key: MK19qz"),
    ("sas", "sas=MK20qz"),
    ("otp", "otp=MK21qz"),
    ("pin", "pin: MK22qz"),
    ("SAML response", "SAMLResponse=MK23qz"),
    ("client assertion", "client_assertion=MK24qz"),
    ("Authorization Token scheme", "Authorization: Token MK25qz"),
    ("Web API body not JSON", 'not json {"password": "MK26qz", "x": '),
    ("matrix parameter", "https://x.example/p;jsessionid=MK27qz?a=b"),
    ("unnamed query value", "see https://x.example/a?foo=MK28qz now"),
    ("user info", "https://user:MK29qz@x.example/"),
    ("JSON in JSON", '{"customParams": "{\\"apikey\\": \\"MK30qz\\"}"}'),
    ("name/value pair", '[{"name":"token","value":"MK31qz"}]'),
    ("encoded separator", "otc%3DMK32qz%26x=1"),
    ("single-quoted value", "secret='MK33qz'"),
    ("csrf", "__RequestVerificationToken=MK34qz"),
    ("camelCase access key", "accessKey: MK35qz"),
    ("auth code", "code=MK36qz&state=1"),
    ("fragment pairs", "https://x.example/cb#state=1&id_token=MK37qz"),
    ("basic credentials", "Authorization: Basic MK38qz=="),
    ("refresh token JSON", '{"refresh_token": "MK39qz"}'),
    ("number value", '{"pin": 4242}'),
]
# Opaque tokens found with no name to go by.
OPAQUE = [
    ("signed JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJNSzQxcXoifQ.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("unsigned JWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJNSzQycXoifQ."),
    ("base64 of a named secret", base64.b64encode(b"token=MK43qz").decode()),
    ("random token", "aB3xY9kLm2Qw7Rt5Zp8Vn4Hc"),
    ("base64url random", "Zk9vYmFyX2Jhel9xdXV4XzEyMzQ1Njc4OTA_-wQ"),
]
MUST_SURVIVE = [
    "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
    "msdyn_CIFV2Loader",
    "msdyn_channelintegrationframework.js",
    "contoso_PhoneChannel2023",
    "Телефон — основной канал",
    "电话渠道",
    "قناة الهاتف",
    "https://org.crm.dynamics.com/WebResources/msdyn_channelintegrationframework.js?ver=123",
    "https://org.crm.dynamics.com/main.aspx?appid=3f2504e0-4f89-11d3-9a0c-0305e82c3301&pagetype=entityrecord&etn=incident",
    "https://org.crm.dynamics.com/%7B638412345678901234%7D/WebResources/x.js?ver=1.0.0.123",
    "errorCode=0x80040217",
    "statusCode: 500",
    "sortKey=abc",
    "Failed to load resource: net::ERR_FAILED",
    "CIF: setMode(1) done",
    "/uclient/scripts/app.B2xY7kq9.js",
    "Phone [/]",
    '{"label": "Phone", "sortOrder": "1", "apiVersion": "2.0"}',
    "9a0c0305e82c33019a0c0305e82c3301a0c0305e82c3301",
]


@pytest.mark.parametrize(("where", "text"), SECRETS_IN_TEXT + OPAQUE, ids=[w for w, _ in SECRETS_IN_TEXT + OPAQUE])
def test_a_secret_in_page_text_is_redacted(where, text):
    shown = redact_text(text)
    assert REDACTED in shown
    for marker in ("MK", "4242", "aB3xY9", "Zk9vYm", base64.b64encode(b"token=MK43qz").decode()[4:12]):
        if marker in text:
            assert marker not in shown, f"{where}: {shown}"


@pytest.mark.parametrize("text", MUST_SURVIVE)
def test_ordinary_text_survives_whole(text):
    assert redact_text(text) == text


def test_redaction_is_idempotent():
    for _, text in SECRETS_IN_TEXT + OPAQUE:
        once = redact_text(text)
        assert redact_text(once) == once


def test_a_url_keeps_scheme_host_port_path_and_allowlisted_values_only():
    url = redact_url("https://widget.example.com:8443/app/soft?queue=tier1&ver=7&appid=abc#section")
    assert url == "https://widget.example.com:8443/app/soft?queue=[redacted]&ver=7&appid=abc#[redacted]"


def test_channel_urls_compare_on_the_same_normal_form_from_storage_and_from_a_frame():
    stored = redact_text(json.dumps([{"channelUrl": "https://w.example/p?queue=1&token=MK90qz"}]))
    assert json.loads(stored)[0]["channelUrl"] == redact_url("https://w.example/p?queue=1&token=MK90qz")


def test_non_web_urls_keep_only_their_scheme():
    assert redact_url("javascript:alert('MK91qz')") == "javascript:[redacted]"
    assert redact_url("data:text/html,MK92qz") == "data:[redacted]"
    assert redact_url("about:blank") == "about:blank"


PASSWORD = 'Zq9 "uñ&usual"/Pa55'


def _password_encodings(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "encodeURIComponent": quote(secret, safe="~()*!'"),
        "encodeURI": quote(secret, safe="~@#$&()*!+=:;,?/'"),
        "form": quote_plus(secret),
        "JSON-escaped": json.dumps(secret)[1:-1],
        "JSON ASCII-escaped": json.dumps(secret, ensure_ascii=True)[1:-1],
        "HTML-escaped": html.escape(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "base64 inside a blob": base64.b64encode(b"user:" + secret.encode()).decode(),
        "upper-cased": secret.upper(),
        "spaced": " ".join(secret.replace(" ", "")),
        "percent-encoded twice": quote(quote(secret, safe=""), safe=""),
    }


@pytest.mark.parametrize("encoding", list(_password_encodings(PASSWORD)))
def test_the_sign_in_password_is_scrubbed_in_every_common_encoding(encoding):
    register_secret(PASSWORD)
    echoed = _password_encodings(PASSWORD)[encoding]
    shown = redact_text(f"The password {echoed} was refused")
    assert echoed not in shown and "Pa55" not in shown and "PA55" not in shown
    assert not known_leaks(shown)


def test_a_cookie_value_echoed_by_page_script_is_scrubbed():
    register_cookie_values(["CfDJ8Nq1x7cookieMK93qz", "1"])
    assert "MK93qz" not in redact_text("document.cookie: CrmOwinAuth=CfDJ8Nq1x7cookieMK93qz; lang=1")
    assert redact_text("retry 1 of 3") == "retry 1 of 3"  # short cookie values are not secrets


def test_writers_can_verify_that_no_known_secret_is_left():
    register_secret("Verify-MK94qz")
    assert known_leaks('{"x": "Verify-MK94qz"}') and not known_leaks('{"x": "[redacted]"}')


def test_lone_surrogates_are_replaced_so_the_text_can_be_written():
    shown = redact_text("CIF: \ud83d broken")
    shown.encode("utf-8")
    assert shown == "CIF: \ufffd broken"


def test_a_secret_in_use_is_scrubbed_wherever_it_turns_up():
    register_secret("Zq9-unusual-Pa55")
    assert "Zq9-unusual-Pa55" not in redact_text("The password Zq9-unusual-Pa55 is incorrect")
    assert "Zq9" not in redact_url("https://login.example.com/post?x=Zq9-unusual-Pa55")
