"""Finding planted values in what a run wrote and printed, in any encoding a writer may have put them in: each JSON
string (and key) and each line of other text is searched as written and decoded (HTML entities, percent-encoding
once and twice, form encoding, JSON escapes)."""

from __future__ import annotations

import html
import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from tests.attacks.corpus import Placement

RUN_FOLDER = re.compile(r"^\d{8}-\d{6}-\d{3}/")
BINARY_KEYS = {"screenshot_png_base64", "image_png_base64"}
_DATA_URL = re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+")
_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")


@dataclass(frozen=True)
class Sighting:
    file: str  # as the run folder names it, or stdout / stderr
    where: str  # a JSON path, or the line
    view: str  # as written, or the decoding that revealed it


@dataclass(frozen=True)
class _Entry:
    file: str
    where: str
    views: tuple[tuple[str, str], ...]


def _json_unescaped(text: str) -> str:
    return _JSON_ESCAPE.sub(lambda m: json.loads(f'"{m.group(0)}"'), text)


def _views(text: str) -> tuple[tuple[str, str], ...]:
    views = {
        "as written": text,
        "HTML entities decoded": html.unescape(text),
        "percent-decoded": unquote(text),
        "percent-decoded twice": unquote(unquote(text)),
        "form-decoded": unquote_plus(text),
        "JSON escapes decoded": _json_unescaped(text),
    }
    seen: set[str] = set()
    unique = []
    for name, view in views.items():
        if view not in seen:
            seen.add(view)
            unique.append((name, view))
    return tuple(unique)


def _json_strings(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield f"{here} (the key)", str(key)
            if key not in BINARY_KEYS:
                yield from _json_strings(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _entries(name: str, text: str) -> Iterator[_Entry]:
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            for where, value in _json_strings(data):
                yield _Entry(name, where, _views(value))
            return
    for number, line in enumerate(_DATA_URL.sub("data:…", text).splitlines(), start=1):
        yield _Entry(name, f"line {number}", _views(line))


class Written:
    """Everything a run left for people and scripts: its files (PNG images skipped) and what it printed."""

    def __init__(self, folder: Path, printed: dict[str, str]) -> None:
        self.files = sorted(
            path for path in folder.rglob("*") if path.is_file() and not path.is_symlink() and path.suffix != ".png"
        )
        self._entries: list[_Entry] = []
        for path in self.files:
            self._entries += _entries(_name(path, folder), path.read_text(encoding="utf-8", errors="replace"))
        for name, text in printed.items():
            self._entries += _entries(name, text)
        # Every view of every entry in one text, NUL-separated (no needle holds a NUL): one search per needle.
        self._starts: list[int] = []
        parts: list[str] = []
        offset = 0
        for entry in self._entries:
            self._starts.append(offset)
            joined = "\0".join(text for _, text in entry.views) + "\0"
            parts.append(joined)
            offset += len(joined)
        self._text = "".join(parts)

    def find(self, needles: Iterable[str]) -> list[Sighting]:
        """Where any of `needles` shows, in the first view that shows it."""
        needles = tuple(needles)
        hits: set[int] = set()
        for needle in needles:
            at = self._text.find(needle)
            while at != -1:
                hits.add(bisect_right(self._starts, at) - 1)
                at = self._text.find(needle, at + 1)
        found = []
        for index in sorted(hits):
            entry = self._entries[index]
            view = next(name for name, text in entry.views if any(needle in text for needle in needles))
            found.append(Sighting(entry.file, entry.where, view))
        return found


def _name(path: Path, folder: Path) -> str:
    """`evidence/hostile.json` for a file of the run folder; the reports folder's own index.html is the history."""
    name = str(path.relative_to(folder))
    return "index.html (history)" if name == "index.html" else RUN_FOLDER.sub("", name)


def _general(where: str) -> str:
    """A JSON path with its list indexes dropped: `console[3].text` -> `console[].text`."""
    return re.sub(r"\[\d+\]", "[]", where)


def _summary(sightings: list[Sighting], limit: int = 6) -> str:
    places = Counter(
        f"{s.file}:{_general(s.where) if not s.where.startswith('line') else 'text'}"
        + (f" ({s.view})" if s.view != "as written" else "")
        for s in sightings
    )
    shown = [f"{place} x{count}" if count > 1 else place for place, count in places.most_common(limit)]
    more = f" +{len(places) - limit} more" if len(places) > limit else ""
    return ", ".join(shown) + more


def leak_table(leaks: dict[Placement, list[Sighting]], total: list[Placement]) -> str:
    """The placements that leaked, each with where; then leaks counted by channel."""
    lines = [f"{len(leaks)} of {len(total)} planted secrets leaked:", ""]
    width = max((len(p.name) for p in leaks), default=10)
    for placement, sightings in leaks.items():
        form = placement.form if len(placement.form) <= 60 else placement.form[:57] + "..."
        lines.append(f"{placement.name:<{width}}  {placement.channel}  [{form}]")
        lines.append(f"{'':<{width}}    in {_summary(sightings)}")
    lines += ["", "By channel (leaked / planted):"]
    channels = Counter(p.channel for p in total)
    leaked = Counter(p.channel for p in leaks)
    for channel, count in sorted(channels.items()):
        lines.append(f"  {leaked[channel]:>2} / {count:<2} {channel}")
    return "\n".join(lines)
