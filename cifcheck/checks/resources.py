"""Helpers for checks that read the network evidence."""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from cifcheck.evidence import ResourceLoad


def file_name(url: str) -> str:
    """The last path segment, lower-cased: the cache-token prefix and the query do not matter."""
    try:
        path = urlsplit(url).path
    except ValueError:  # not a URL at all: read it as a path
        path = url.split("?", 1)[0]
    return unquote(path).rsplit("/", 1)[-1].lower()


def host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def canonical(url: str) -> str:
    """A URL as the browser requests it: scheme and host lower-cased, an empty path as "/", spaces encoded, no
    fragment (a browser never sends one: single-page widgets route by `#/home`).

    Frame src attributes and configured channel URLs are written by people; request URLs are canonical."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc.lower()
    except ValueError:
        return url.split("#", 1)[0]
    canonical_parts = parts._replace(scheme=parts.scheme.lower(), netloc=netloc, path=parts.path or "/", fragment="")
    return urlunsplit(canonical_parts).replace(" ", "%20")


def succeeded(load: ResourceLoad) -> bool:
    return load.failure is None and load.status is not None and (200 <= load.status < 300 or load.status == 304)


def unanswered(load: ResourceLoad) -> bool:
    """Still in flight when the evidence was taken: neither an answer nor a network error."""
    return load.status is None and load.failure is None


def org_failed(load: ResourceLoad) -> bool:
    """The org (or the network to it) failed to answer: no status but a network error, or a 5xx. Not a verdict
    on the migration: cifcheck could not decide."""
    if load.status is not None:
        return load.status >= 500
    return True  # a network error (refused, reset, DNS, timed out), or no answer at all


def outcome(load: ResourceLoad) -> str:
    """What happened to a request, HTTP status first: Chromium aborts the body of an error answer too."""
    if load.status is not None:
        return f"answered HTTP {load.status}"
    return f"failed with {load.failure}" if load.failure else "got no answer"


def named(resources: list[ResourceLoad], name: str) -> list[ResourceLoad]:
    return [load for load in resources if file_name(load.url) == name.lower()]


def same_page(configured: str, framed: str) -> bool:
    """Whether a frame's src is the configured channel URL as a host may write it: dot segments resolved,
    parameters of its own added (`&ucilib=...`), percent-encoding and redacted values aside. Every parameter
    of the configured URL must be there with the same value (a redacted value matches any)."""
    try:
        want, got = urlsplit(configured.strip()), urlsplit(framed.strip())
        places = [(u.scheme.lower(), (u.hostname or "").lower(), u.port, _path(u.path)) for u in (want, got)]
        wanted, present = dict(parse_qsl(want.query, keep_blank_values=True)), dict(parse_qsl(got.query, True))
    except ValueError:
        return False
    if places[0] != places[1]:
        return False
    redacted = "[redacted]"
    return all(
        name in present and (value == present[name] or redacted in value or redacted in present[name])
        for name, value in wanted.items()
    )


def _path(path: str) -> str:
    normal = posixpath.normpath(unquote(path) or "/")
    return normal + "/" if path.endswith("/") and normal != "/" else normal
