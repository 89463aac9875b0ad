"""The sandbox org as a target host (`cifcheck.targets`): `sandbox://<scenario>` targets, the `sandbox` settings,
and a sandbox server for the run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from cifcheck.config import Config, Target
from cifcheck.config_messages import did_you_mean
from cifcheck.sandbox.app import SESSION_COOKIE
from cifcheck.sandbox.scenarios import SCENARIOS, TIMINGS
from cifcheck.sandbox.server import SandboxServer
from cifcheck.targets import Opening

SIGN_IN_HOST = "login.localhost"  # the sandbox's sign-in pages


def _known(word: str, choices: Iterable[str]) -> str:
    return did_you_mean(word, choices) or f" (known: {', '.join(choices)})"


class RunningSandbox:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    def opening(self, target: Target, config: Config, with_session: bool) -> Opening:
        org_url = self.server.urls.org(target.sandbox_scenario, config.sandbox.timing)
        cookies: tuple[dict, ...] = ()
        if with_session:  # as a saved sign-in would give
            cookies = ({"name": SESSION_COOKIE, "value": self.server.app.state.issue_session(), "url": org_url},)
        return Opening(org_url, (SIGN_IN_HOST,), cookies, served_over_http=True)


class SandboxHost:
    def problems(self, config: Config, targets: list[tuple[int, Target]]) -> list[str]:
        found = []
        if config.sandbox.timing not in TIMINGS:
            timing = config.sandbox.timing
            found.append(f"sandbox.timing: unknown sandbox timing {timing!r}{_known(timing, TIMINGS)}")
        for index, target in targets:
            scenario = target.sandbox_scenario
            if scenario not in SCENARIOS:
                found.append(
                    f"targets[{index}].url: unknown sandbox scenario {scenario!r}{_known(scenario, SCENARIOS)}"
                )
        return found

    @contextlib.contextmanager
    def started(self, config: Config, running: object | None) -> Iterator[RunningSandbox]:
        if isinstance(running, SandboxServer):
            yield RunningSandbox(running)
            return
        with SandboxServer(latency_ms=config.sandbox.latency_ms) as server:
            yield RunningSandbox(server)
