"""Shared fixtures: one sandbox org per test session, and pytest-playwright pointed at the browser cifcheck finds."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

import pytest

from cifcheck.browser import find_browser
from cifcheck.sandbox.server import REQUEST_LOG, SandboxServer


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches the same browser, with the same flags, as cifcheck itself."""
    choice = find_browser()
    return {
        **browser_type_launch_args,
        "executable_path": choice.executable_path,
        "channel": choice.channel,
        "args": list(choice.args),
    }


@pytest.fixture(scope="session", autouse=True)
def cifcheck_only_ever_gets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Across the whole suite, in this process and every cifcheck it starts: the sandbox orgs' Web API got nothing
    but GETs from outside their pages (from cifcheck). Each sandbox server logs its counts when it stops."""
    log = tmp_path_factory.mktemp("sandbox-requests") / "requests.jsonl"
    log.touch()
    saved = os.environ.get(REQUEST_LOG)
    os.environ[REQUEST_LOG] = str(log)
    yield
    if saved is None:
        del os.environ[REQUEST_LOG]
    else:
        os.environ[REQUEST_LOG] = saved
    methods: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8").splitlines():
        methods.update(json.loads(line))
    assert set(methods) <= {"GET"}, f"requests other than GET reached a sandbox org's Web API: {dict(methods)}"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server
