"""Page text an adversary would write: terminal markup, escape sequences, C1 controls, bidi overrides."""

from __future__ import annotations

import json

from cifcheck.evidence import ConsoleEntry, Evidence
from tests.evidence_factory import PROVIDERS, healthy_evidence, storage

MARKUP = ["Phone [/]", "[/link]", "[link=file:///etc/passwd]x[/link]", "[bold", "]]][[[", "[red]red[/red] :smile:"]
ESCAPES = [
    "\x1b[2J\x1b[H",  # CSI: clear the screen, cursor home
    "\x1b]0;owned\x07",  # OSC: window title
    "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1bP+q544e\x1b\\",  # DCS
    "\x9b2J\x9d0;owned\x9c",  # 8-bit CSI, OSC, ST
    "one\x85two\x08\x7f\x00\r\n\tforged line",  # NEL, backspace, DEL, NUL, line breaks
]
BIDI_OVERRIDE = "\u202eexe.txt\u202c \u2067isolate\u2069 \u200f\u061c"
# Kept out of HOSTILE, which tests also save as evidence.json: pydantic refuses to encode a lone surrogate (on
# the way to disk, redaction turns one into U+FFFD first). Tests of what is shown add it themselves.
LONE_SURROGATE = "\ud800"
REDACTED = "[redacted]"
HOSTILE = " ".join([*MARKUP, *ESCAPES, BIDI_OVERRIDE, REDACTED])
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def unsafe_characters(text: str, keep: str = "\n") -> list[str]:
    """Every character in `text` a terminal or viewer would act on: controls (but `keep`), bidi, surrogates."""
    return [
        c
        for c in text
        if c not in keep
        and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in BIDI or "\ud800" <= c <= "\udfff" or c in "\u2028\u2029")
    ]


def hostile_evidence(label: str = HOSTILE) -> Evidence:
    """A healthy page whose provider label, user name, widget title and a CIF console error are `label`."""
    evidence = healthy_evidence()
    provider = dict(PROVIDERS[0], label=label)
    evidence.storage = storage(
        channelProviders=json.dumps([provider]),
        applicationExtensions=evidence.storage.values["applicationExtensions"],
    )
    assert evidence.app is not None and evidence.panel is not None
    evidence.app.user_name = label
    evidence.panel.widgets[0].title = label
    evidence.console = [ConsoleEntry(level="error", text=f"CIF: {label}")]
    return evidence
