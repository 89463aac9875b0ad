"""Helpers for checks that read the network evidence."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from cifcheck.evidence import ResourceLoad


def file_name(url: str) -> str:
    """The last path segment, lower-cased: the cache-token prefix and the query do not matter."""
    return unquote(urlsplit(url).path).rsplit("/", 1)[-1].lower()


def host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def succeeded(load: ResourceLoad) -> bool:
    return load.failure is None and load.status is not None and (200 <= load.status < 300 or load.status == 304)


def outcome(load: ResourceLoad) -> str:
    """What happened to a request, HTTP status first: Chromium aborts the body of an error answer too."""
    if load.status is not None:
        return f"answered HTTP {load.status}"
    return f"failed with {load.failure}" if load.failure else "got no answer"


def named(resources: list[ResourceLoad], name: str) -> list[ResourceLoad]:
    return [load for load in resources if file_name(load.url) == name.lower()]
