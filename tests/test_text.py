"""safe_text: page text is shown, never obeyed by a terminal, a viewer or a copy/paste."""

from __future__ import annotations

import json

import pytest

from cifcheck.text import safe_text
from tests.hostile_text import BIDI, unsafe_characters

ESCAPES = {
    "CSI clear screen": "\x1b[2J\x1b[H",
    "OSC window title": "\x1b]0;owned\x07",
    "OSC 8 hyperlink": "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\",
    "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "DCS": "\x1bP+q544e\x1b\\",
    "8-bit CSI": "\x9b2J",
    "8-bit OSC and ST": "\x9d0;owned\x9c",
    "NEL": "one\x85two",
    "backspace over text": "admin\x08\x08\x08\x08\x08guest",
}


def control_free(text: str) -> bool:
    return unsafe_characters(text, keep="") == []


@pytest.mark.parametrize("sequence", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_sequences_become_inert_visible_text(sequence: str):
    shown = safe_text(f"Phone {sequence} line")
    assert control_free(shown)
    assert shown.startswith("Phone ") and shown.endswith(" line")
    assert "\\u00" in shown  # the reader sees that something was there


def test_bidi_controls_and_lone_surrogates_are_escaped_by_code_point():
    assert safe_text("abc\u202edcba") == "abc\\u202edcba"
    assert control_free(safe_text("".join(sorted(BIDI)) + "\ud800\udfff"))
    safe_text("\ud800").encode("utf-8")  # printable at all


def test_one_line_text_cannot_start_a_new_line():
    shown = safe_text("ok\nPASS  contoso  cif.library_loaded\r\tx")
    assert "\n" not in shown and "\r" not in shown and "\t" not in shown


def test_multi_line_text_keeps_its_lines_and_tabs_but_no_carriage_return():
    assert safe_text("a\r\n\tb\rc", multiline=True) == "a\n\tb\\u000dc"


def test_ordinary_text_markup_and_the_redaction_marker_pass_unchanged():
    for text in ("Contoso Phone", "Téléphone 電話 טלפון", "[/] [bold [link=x]y[/link] [redacted]", "C:\\path"):
        assert safe_text(text) == text


def test_escaped_json_stays_the_same_json():
    value = {"label": "\u202eenohP\x9b\u2028"}
    dumped = json.dumps(value, ensure_ascii=False)
    assert json.loads(safe_text(dumped, multiline=True)) == value


def test_a_limit_caps_what_is_shown_and_states_the_full_length():
    shown = safe_text("x" * 10_000_000, limit=300)
    assert shown == "x" * 300 + "… (10,000,000 characters in all)"
    assert safe_text("short", limit=300) == "short"
