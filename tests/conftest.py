"""Shared fixtures: one sandbox org per test session, and pytest-playwright pointed at the browser cifcheck finds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cifcheck.browser import find_browser
from cifcheck.sandbox.server import SandboxServer


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


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server
