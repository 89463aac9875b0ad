"""The observation model (cifcheck/observation.py) on pages that stand still, change, or stay busy: when the wait
ends, and why. Fake pages and networks, so each rule is checked on its own, in milliseconds of configured windows."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import pytest

from cifcheck.config import Config, Target
from cifcheck.evidence import TargetInfo
from cifcheck.observation import Watch
from cifcheck.session import check_settings


class FakePage:
    """A page with no panel whose storage digest is `digest()` at each look; idle from the start."""

    def __init__(self, digest=lambda: 1, idle=lambda: True) -> None:
        self.digest = digest
        self.idle = idle

    def evaluate(self, script: str, arguments: object = None) -> object:
        if "sessionStorage" not in script:
            return self.idle()  # the idle expression
        return {
            "now": time.monotonic() * 1000,
            "providers": ["channelProviders", 10, self.digest()],
            "extensions": None,
            "panelFound": False,
            "panelState": None,
            "box": None,
            "visible": False,
            "inViewport": False,
            "hostMessages": 0,
        }

    def wait_for_timeout(self, milliseconds: float) -> None:
        time.sleep(milliseconds / 1000)


class FakeNetwork:
    def __init__(self, library: str = "absent", in_flight: list | None = None, loading_until_ms: float = 0) -> None:
        self.cif_changes = 0
        self.loading_until_ms = loading_until_ms
        self._library = library
        self._in_flight = in_flight or []

    def library(self, name: str) -> str:
        return self._library

    def in_flight(self, frames: object = (), wait_s: float = 0) -> list:
        return self._in_flight

    def last_load_activity_ms(self, started: float, offset_ms: float) -> float:
        return min(self.loading_until_ms, (time.monotonic() - started) * 1000)


def _watch(page: FakePage, network: FakeNetwork, **timeouts: int) -> Watch:
    config = Config(targets=[Target(name="t", url="sandbox://healthy-csw")], timeouts=timeouts)
    settings = check_settings(config, config.targets[0])
    target = TargetInfo(name="t", url="sandbox://healthy-csw", app="x")
    return Watch(page, config, settings, network, None, target, time.monotonic(), 0)


@pytest.fixture(autouse=True)
def _storage_never_complete(monkeypatch):
    monkeypatch.setattr(Watch, "_judge_storage", lambda self, digests: None)


def test_a_page_that_never_stops_changing_ends_at_the_time_limit():
    looks = itertools.count()
    observed = _watch(FakePage(lambda: next(looks)), FakeNetwork(), settle_max_ms=300, absence_ms=100).run()
    assert observed.settled_by == "time limit"


def test_an_absent_signal_is_judged_only_once_the_absence_window_after_idle_has_passed():
    observed = _watch(FakePage(), FakeNetwork(), observe_ms=50, absence_ms=400, settle_max_ms=5000).run()
    assert observed.settled_by == "absence window"
    assert observed.ended_ms - observed.idle_ms >= 400


def test_a_request_in_flight_is_awaited_and_never_judged_absent():
    network = FakeNetwork(library="in flight", in_flight=[SimpleNamespace(url="the library")])
    observed = _watch(FakePage(), network, observe_ms=50, absence_ms=100, settle_max_ms=600).run()
    assert observed.settled_by == "time limit"
    assert observed.in_flight_at_end == ["the library"]


def test_a_change_restarts_the_observation_window():
    changes = iter([1] * 4 + [2] * 1000)  # the state changes after four looks, within the window
    observed = _watch(FakePage(lambda: next(changes)), FakeNetwork(), observe_ms=400, absence_ms=0).run()
    assert observed.last_change_ms >= 150
    assert observed.ended_ms - observed.last_change_ms >= 400


def test_every_window_is_recorded_with_the_evidence():
    observed = _watch(FakePage(), FakeNetwork(), observe_ms=20, absence_ms=30, settle_max_ms=900).run()
    assert (observed.observe_ms, observed.absence_ms, observed.settle_max_ms) == (20, 30, 900)
    assert "timeouts.absence_ms" in observed.waited()


def test_an_app_idle_a_moment_then_busy_again_counts_from_when_it_became_idle_last():
    started = time.monotonic()
    idle = lambda: not 0.1 < time.monotonic() - started < 0.5  # noqa: E731 - idle, busy from 100 to 500 ms, idle
    observed = _watch(FakePage(idle=idle), FakeNetwork(), observe_ms=50, absence_ms=300).run()
    assert observed.idle_ms >= 450
    assert observed.ended_ms - observed.idle_ms >= 300


def test_without_an_idle_signal_absence_counts_from_when_the_app_stopped_loading_scripts():
    observed = _watch(FakePage(), FakeNetwork(loading_until_ms=600), observe_ms=50, absence_ms=300).run()
    assert observed.settled_by == "absence window"
    assert observed.ended_ms >= 900
