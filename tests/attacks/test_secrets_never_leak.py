"""No secret a hostile org plants reaches anything cifcheck writes or prints, and the values that identify an org
survive. One end-to-end run against four hostile orgs (tests/attacks/hostile_org.py); every written file and the
captured stdout and stderr are searched for every planted secret.

    .venv/bin/python -m pytest tests/attacks -q -s  # -s prints the leak table
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from tests.attacks.corpus import PASSWORD, Placement
from tests.attacks.hostile_org import PROVIDERS, SURVIVORS, HostileWorld
from tests.attacks.running import Run
from tests.attacks.scan import Sighting, Written, leak_table

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run(runs: dict[str, Future[Run]]) -> Run:
    return runs["leaks"].result()


@pytest.fixture(scope="module")
def written(run: Run) -> Written:
    return Written(run.reports, {"stdout": run.stdout, "stderr": run.stderr})


@pytest.fixture(scope="module")
def leaks(world: HostileWorld, written: Written) -> dict[Placement, list[Sighting]]:
    found = {placement: written.find(placement.needles) for placement in world.corpus.placements}
    return {placement: sightings for placement, sightings in found.items() if sightings}


def test_the_corpus_plants_over_80_secrets_each_with_its_own_marker():
    placements = HostileWorld(port=1).corpus.placements
    markers = [p.name for p in placements if p.name.startswith("MK")]
    assert len(markers) >= 80
    assert len(set(markers)) == len(markers)
    needles = [needle for p in placements for needle in p.needles]
    assert len(set(needles)) == len(needles)


def test_the_run_finishes_and_writes_every_report(run: Run, written: Written):
    assert run.returncode in (1, 2), run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    names = {str(path.relative_to(run.reports)).split("/", 1)[-1] for path in written.files}
    assert {"result.json", "junit.xml", "index.html", "evidence/hostile.json", "evidence/echo.json"} <= names


def test_the_run_recorded_every_channel_the_hostile_orgs_use(run: Run, world: HostileWorld):
    """What cifcheck recorded, whatever redaction made of it: otherwise a clean leak scan would prove nothing."""
    hostile = run.evidence("hostile")
    assert hostile["navigation"]["app_ready"] and hostile["navigation"]["redirects"]
    assert {"channelProviders", "applicationExtensions"} <= set(hostile["storage"]["values"])
    assert len(hostile["panel"]["widgets"]) == len(PROVIDERS)
    assert hostile["panel"]["host_messages"] and any(w["messages"] for w in hostile["panel"]["widgets"])
    assert len(hostile["console"]) >= 35
    assert sum("/r/" in load["url"] for load in hostile["resources"]) >= 25
    assert "msdyn_ciproviders" in hostile["dataverse"]["errors"] and hostile["dataverse"]["v2_providers"]
    assert hostile["app"]["xrm_present"]
    # The sign-in page got the password typed, and refused it.
    assert world.typed_passwords == [PASSWORD]
    assert run.evidence("echo")["navigation"]["sign_in"]["stopped_at"] == "password"
    assert "errorhandler.aspx" in run.evidence("broken")["navigation"]["error"]
    # Xrm's own getters throw wherever cifcheck reads them; the overridden built-ins only while its reads run in the
    # page's world (storage, dataverse), which DESIGN.md means to end.
    assert {"app", "panel"} <= set(run.evidence("probe")["probe_errors"])


def test_no_planted_secret_appears_in_any_written_file_or_output(
    world: HostileWorld, leaks: dict[Placement, list[Sighting]]
):
    table = leak_table(leaks, world.corpus.placements)
    print("\n" + table)
    assert not leaks, table


def test_values_that_identify_the_org_survive_redaction(run: Run):
    evidence = Written(run.reports / "latest" / "evidence", {})
    destroyed = [name for name, value in SURVIVORS.items() if not evidence.find([value])]
    print("\nDestroyed by redaction: " + (", ".join(destroyed) or "none"))
    assert not destroyed
