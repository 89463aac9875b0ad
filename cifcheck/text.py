"""Page text made safe to show: what a page wrote is displayed, never obeyed.

A terminal acts on control characters (ESC starts cursor moves, window titles, hyperlinks, clipboard writes;
8-bit C1 codes such as U+009B do the same on some terminals), a bidi control reorders the text around it on
screen and in a copy/paste (U+202E makes `exe.txt` read `txt.exe`), and a lone surrogate cannot even be encoded
for output. Every place that shows page-derived text (terminal, HTML, JUnit) passes it through `safe_text`.

Each such character is replaced by its escape, `\\u001b`, `\\u202e`, rather than dropped or marked:
- the reader sees that something was there, and which code point (a support engineer's evidence);
- once ESC is shown as six plain characters, the rest of any escape sequence (CSI, OSC, DCS, SOS/PM/APC, in
  the ESC or the 8-bit form) is inert text, so no sequence parser is needed, and none can be wrong about where
  a hostile sequence ends;
- `\\uXXXX` is the one notation JSON, JavaScript and Python all read back as the same character, so escaped
  raw evidence is still valid JSON with the same value; and it is ASCII, shown alike by any terminal or font.
A page string that already holds the six characters `\\u202e` looks the same; both are harmless.
"""

from __future__ import annotations

import re

# Escaped everywhere: DEL and the C1 controls (U+0080-U+009F, which include the 8-bit CSI, OSC, DCS and ST);
# Unicode line and paragraph separators (line breaks to some viewers); bidi embeddings, overrides, isolates and
# marks; lone surrogates.
_ALWAYS = "\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ONE_LINE = re.compile(f"[\x00-\x1f{_ALWAYS}]")
# Multi-line text (a code block, raw evidence) keeps tab (0x09) and line feed (0x0a): there they are its shape.
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_ALWAYS}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_text(text: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """`text` with every control, bidi control and lone surrogate escaped as `\\uXXXX`.

    One-line text (a table cell, a message, a name) has line feeds, carriage returns and tabs escaped too, so page
    text cannot start a line that looks like cifcheck's own. Multi-line text keeps line feeds and tabs (a Windows
    line end counts as a line feed); a lone carriage return, which would overwrite the line on a terminal, is
    escaped. `limit` caps how many characters of `text` are shown, ending in an ellipsis with the full length.
    """
    ending = ""
    if limit is not None and len(text) > limit:
        ending = f"… ({len(text):,} characters in all)"
        text = text[:limit]
    if multiline:
        return _MULTI_LINE.sub(_escape, text.replace("\r\n", "\n")) + ending
    return _ONE_LINE.sub(_escape, text) + ending
