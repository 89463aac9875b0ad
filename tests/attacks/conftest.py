"""The hostile world, served once, and the two cifcheck runs against it, started together (most of a run is waiting
out its windows, so two at once take little longer than one)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.attacks.hostile_org import HostileWorld, serving
from tests.attacks.running import Run, run_cifcheck

LEAK_TARGETS = ["hostile", "echo", "broken", "probe"]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileWorld]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the hostile org's certificate")
    with serving(tmp_path_factory.mktemp("tls")) as served:
        yield served


@pytest.fixture(scope="session")
def runs(world: HostileWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Run]]]:
    """`leaks`: the four hostile orgs, result.json on stdout; `terminal`: the org whose text is terminal markup."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {
            "leaks": pool.submit(run_cifcheck, world, tmp_path_factory.mktemp("leaks"), LEAK_TARGETS, "--json"),
            "terminal": pool.submit(run_cifcheck, world, tmp_path_factory.mktemp("terminal"), ["term"]),
        }
