"""The wait after the app is ready ends, whatever the page does."""

from __future__ import annotations

import itertools

from cifcheck.config import Config, Target
from cifcheck.session import _settle, check_settings


class RestlessPage:
    """A page whose CIF state changes on every look and that has no panel: it never settles by itself."""

    def __init__(self) -> None:
        self.looks = itertools.count()

    def evaluate(self, script: str, arguments: object = None) -> dict:
        return {
            "keys": [f"channelProviders{next(self.looks)}"],
            "providers": None,
            "extensionsPresent": False,
            "extensionsMentionLibrary": False,
            "panelFound": False,
            "panelState": None,
            "hostMessages": 0,
        }

    def query_selector(self, selector: str) -> None:
        return None

    def wait_for_timeout(self, milliseconds: float) -> None:
        import time

        time.sleep(milliseconds / 1000)


class QuietNetwork:
    cif_changes = 0

    def finished(self, name: str) -> bool:
        return False

    def succeeded(self, name: str) -> bool:
        return False


def test_a_page_that_never_stops_changing_ends_at_the_time_limit():
    config = Config(targets=[Target(name="t", url="sandbox://healthy-csw")])
    config.timeouts.settle_max_ms = 300
    settings = check_settings(config, config.targets[0])
    assert _settle(RestlessPage(), config, settings, QuietNetwork()) == "time limit"
