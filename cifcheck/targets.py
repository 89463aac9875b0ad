"""Targets that are not an org's URL. A target URL with a scheme registered here (`sandbox://scenario`) names an org
that cifcheck starts for the run, and the org's host says where the target really is. The runner opens targets
through this interface only: it knows no org, the bundled sandbox plugs in like any other would.

A host is looked up by scheme and imported only when a target uses it, so a run against real orgs never imports
the sandbox (uvicorn, starlette)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from cifcheck.config import Config, Target


@dataclass(frozen=True)
class Opening:
    """Where a hosted target is: its org URL, the hosts its sign-in pages are on (besides the configured ones, and
    the only ones besides them where its own credentials may be typed), and the cookies of a signed-in session to
    start with when the run has none of its own."""

    org_url: str
    sign_in_hosts: tuple[str, ...] = ()
    session_cookies: tuple[dict, ...] = field(default=(), repr=False)
    served_over_http: bool = False  # http on this machine: sign-in there is allowed without https


class RunningHost(Protocol):
    """A host's orgs while a run is on."""

    def opening(self, target: Target, config: Config, with_session: bool) -> Opening:
        """Where `target` is; `with_session`: the run has no saved session for it, give one."""
        ...


class TargetHost(Protocol):
    """Orgs a run starts itself, named by one URL scheme."""

    def problems(self, config: Config, targets: list[tuple[int, Target]]) -> list[str]:
        """What is wrong with these targets (index in config.targets, target) and the host's settings, one line each,
        naming the field; found before any browser starts."""
        ...

    def started(self, config: Config, running: object | None) -> AbstractContextManager[RunningHost]:
        """The host's orgs for the run: `running` is one the caller already started (a test's sandbox server)."""
        ...


# scheme -> "module:attribute" of its TargetHost, imported on first use; `register` adds more.
_HOSTS: dict[str, str | Callable[[], TargetHost]] = {"sandbox": "cifcheck.sandbox.host:SandboxHost"}


def register(scheme: str, host: Callable[[], TargetHost]) -> None:
    _HOSTS[scheme] = host


def scheme_of(target: Target) -> str | None:
    """The target's host scheme, when its URL names a registered one (`sandbox://…`), else None: a real org."""
    scheme, found, _ = target.url.partition("://")
    return scheme.lower() if found and scheme.lower() in _HOSTS else None


def host(scheme: str) -> TargetHost:
    entry = _HOSTS[scheme]
    if callable(entry):
        return entry()
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)()


def hosted(config: Config) -> dict[str, list[tuple[int, Target]]]:
    """The config's hosted targets by scheme, each with its index in config.targets."""
    found: dict[str, list[tuple[int, Target]]] = {}
    for index, target in enumerate(config.targets):
        scheme = scheme_of(target)
        if scheme:
            found.setdefault(scheme, []).append((index, target))
    return found
