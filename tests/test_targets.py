"""The runner knows no org: hosted targets (`sandbox://…`) are resolved through `cifcheck.targets`, which the sandbox
plugs into, and a run against real orgs never imports the sandbox."""

from __future__ import annotations

import subprocess
import sys
from contextlib import AbstractContextManager, nullcontext

import pytest

from cifcheck import targets
from cifcheck.config import Config, ConfigError, Target
from cifcheck.runner import open_target, run, target_problems
from cifcheck.targets import Opening, RunningHost


def test_the_runner_and_a_real_orgs_target_never_import_the_sandbox():
    code = (
        "import sys\n"
        "from cifcheck.config import Config, Target\n"
        "from cifcheck.runner import open_target, target_problems\n"
        "config = Config(targets=[Target(name='a', url='https://contoso.crm.dynamics.com')])\n"
        "assert target_problems(config) == []\n"
        "open_target(config.targets[0], config)\n"
        "print(sorted(m for m in sys.modules if m.startswith('cifcheck.sandbox') or m in ('uvicorn', 'starlette')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


class _Elsewhere:
    """A host that says where its orgs are, and what it refuses, without serving anything."""

    def problems(self, config: Config, hosted: list[tuple[int, Target]]) -> list[str]:
        return [f"targets[{index}].url: no such org here" for index, target in hosted if "missing" in target.url]

    def started(self, config: Config, running: object | None) -> AbstractContextManager[RunningHost]:
        return nullcontext(self)

    def opening(self, target: Target, config: Config, with_session: bool) -> Opening:
        session = ({"name": "s", "value": "v", "url": "http://127.0.0.1:9"},) if with_session else ()
        return Opening("http://127.0.0.1:9", ("login.elsewhere.test",), session, served_over_http=True)


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(targets._HOSTS, "sandbox", _Elsewhere)


def test_a_hosts_problems_are_the_runs_problems_naming_the_field(elsewhere):
    config = Config(targets=[Target(name="a", url="sandbox://healthy-csw"), Target(name="b", url="sandbox://missing")])
    assert target_problems(config) == ["targets[1].url: no such org here"]
    with pytest.raises(ConfigError, match=r"targets\[1\]\.url: no such org here"):
        run(config)


def test_a_hosted_target_opens_where_its_host_says_with_the_session_it_gives(elsewhere):
    config = Config(targets=[Target(name="a", url="sandbox://healthy-csw")])
    opened, cookies = open_target(config.targets[0], config, {"sandbox": _Elsewhere()})
    assert opened.org_url == "http://127.0.0.1:9" and "login.elsewhere.test" in opened.sign_in_hosts
    assert cookies == [{"name": "s", "value": "v", "url": "http://127.0.0.1:9"}]


def test_a_hosted_target_with_a_saved_session_of_its_own_gets_no_session_from_its_host(elsewhere, tmp_path):
    config = Config(targets=[Target(name="a", url="sandbox://healthy-csw", storage_state=str(tmp_path / "s.json"))])
    _, cookies = open_target(config.targets[0], config, {"sandbox": _Elsewhere()})
    assert cookies == []
