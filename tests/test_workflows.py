"""The CI definitions of a fleet: the GitHub Actions workflow (.github/workflows/cifcheck-fleet.yml) and the Azure
Pipelines definition (azure-pipelines.yml) parse, have the shape a fleet needs (a matrix of shards 1 to N, reports
uploaded and JUnit published even when an org fails, a merge job after every shard), and the shell commands they run
work: each job is played here step by step, as its CI system would, in a folder of its own, against the sandbox.

How a job is played: a set-up step (its name starts with "Set up": it installs the env and a browser through ./dev) is
skipped, and cifcheck is the one under test; every other script runs in bash as the CI system runs it, with the
matrix values and the job's variables in its environment and CI=true. Of the actions and tasks, artifact upload and
download copy folders to and from a store shared by the jobs, JUnit publishing checks the file is JUnit; checkout and
the Python set-up do nothing (the job's folder is the checkout). A step runs when every step before it succeeded, or
when its condition has always().
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github" / "workflows" / "cifcheck-fleet.yml"
AZURE = ROOT / "azure-pipelines.yml"

# The fleet the played jobs validate: one org without the CIF library (a failing org must fail its jobs), naming
# credentials of its own so that the sign-in variables the jobs pass are read (unset ones must stay unset).
FLEET = {
    "targets": [{"name": "contoso", "url": "sandbox://library-missing", "credentials": {}}],
    "timeouts": {"observe_ms": 300, "absence_ms": 600},
}
STORAGE_STATE = '{"cookies": [], "origins": []}'  # the saved session the GitHub secret carries, base64-encoded


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# The shape: GitHub Actions.


def github_steps(job: str) -> list[dict]:
    return load(GITHUB)["jobs"][job]["steps"]


def test_github_runs_nightly_and_by_hand():
    triggers = load(GITHUB)[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers


def test_github_shards_are_a_matrix_of_1_to_n_that_a_failure_does_not_cancel():
    job = load(GITHUB)["jobs"]["shard"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) == 4
    assert job["strategy"]["fail-fast"] is False
    assert job["env"]["SHARD"] == "${{ matrix.shard }}" and job["env"]["SHARDS"] == "${{ strategy.job-total }}"
    validate = next(step["run"] for step in job["steps"] if step.get("name") == "Validate shard")
    assert '--shard "$SHARD/$SHARDS"' in validate and '--output "reports/shard-$SHARD"' in validate


@pytest.mark.parametrize("job", ["shard", "merge"])
def test_github_uploads_publishes_and_summarises_even_when_an_org_fails(job: str):
    steps = github_steps(job)
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    for action in ("actions/upload-artifact", "mikepenz/action-junit-report"):
        assert "always()" in uses[action]["if"], action
    summary = next(step for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", ""))
    assert "always()" in summary["if"]


def test_github_merge_waits_for_every_shard_runs_after_failures_and_downloads_each_shards_report():
    workflow = load(GITHUB)
    merge = workflow["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"].startswith("${{ !cancelled() }}")  # after failures, not a cancel
    uploaded = next(s for s in github_steps("shard") if s.get("uses", "").startswith("actions/upload-artifact"))
    downloaded = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert uploaded["with"]["name"] == "cifcheck-shard-${{ matrix.shard }}"
    assert downloaded["with"]["pattern"] == "cifcheck-shard-*"
    assert any("cifcheck merge shards/*" in step.get("run", "") for step in merge["steps"])


def test_github_scripts_take_secrets_and_values_only_from_the_environment():
    """No `${{ }}` inside a script: a secret (or a value an attacker can set) is never pasted into shell code."""
    for job in ("shard", "merge"):
        for step in github_steps(job):
            assert "${{" not in step.get("run", ""), step["name"]
            assert "set -x" not in step.get("run", "")


# The shape: Azure Pipelines.


def test_azure_runs_nightly_and_by_hand_only():
    pipeline = load(AZURE)
    assert pipeline["trigger"] == "none" and pipeline["pr"] == "none"
    assert pipeline["schedules"][0]["cron"] and pipeline["schedules"][0]["always"] is True


def azure_job(name: str) -> dict:
    return next(job for job in load(AZURE)["jobs"] if job["job"] == name)


def test_azure_shards_are_a_matrix_of_1_to_shards():
    matrix = azure_job("shard")["strategy"]["matrix"]
    assert sorted(leg["SHARD"] for leg in matrix.values()) == list(range(1, load(AZURE)["variables"]["SHARDS"] + 1))
    assert load(AZURE)["variables"]["SHARDS"] == 4


@pytest.mark.parametrize("job", ["shard", "merge"])
def test_azure_uploads_publishes_and_summarises_even_when_an_org_fails(job: str):
    steps = azure_job(job)["steps"]
    tasks = {step["task"].split("@")[0]: step for step in steps if "task" in step}
    for task in ("PublishPipelineArtifact", "PublishTestResults"):
        assert "always()" in tasks[task]["condition"], task
    assert tasks["PublishTestResults"]["inputs"]["testResultsFormat"] == "JUnit"
    summary = next(step for step in steps if "task.uploadsummary" in step.get("bash", ""))
    assert "always()" in summary["condition"]


def test_azure_merge_waits_for_every_shard_runs_after_failures_and_downloads_each_shards_report():
    merge = azure_job("merge")
    assert merge["dependsOn"] == "shard" and merge["condition"].startswith("not(canceled())")  # not after a cancel
    published = next(s for s in azure_job("shard")["steps"] if s.get("task", "").startswith("PublishPipelineArtifact"))
    downloaded = next(s for s in merge["steps"] if s.get("task", "").startswith("DownloadPipelineArtifact"))
    assert published["inputs"]["artifact"] == "cifcheck-shard-$(SHARD)-attempt-$(System.JobAttempt)"
    assert downloaded["inputs"]["itemPattern"] == "cifcheck-shard-*/**"


def test_azure_scripts_stop_at_the_first_failure_and_take_secrets_only_from_env():
    """Azure's bash does not stop at a failing command unless told; and a `$(NAME)` macro in a script would paste
    the variable's value (a secret too) into shell code."""
    for job in ("shard", "merge"):
        for step in azure_job(job)["steps"]:
            if "bash" in step:
                assert step["bash"].startswith("set -euo pipefail\n"), step["displayName"]
                assert not re.search(r"\$\([A-Za-z_][A-Za-z0-9_.]*\)", step["bash"]), step["displayName"]


def test_only_the_set_up_steps_install_and_they_do_it_through_dev():
    """The rule the played jobs skip by: a step named "Set up ..." installs through ./dev, and no other step does."""
    named = [(step.get("name", ""), step.get("run", "")) for job in ("shard", "merge") for step in github_steps(job)]
    named += [
        (step.get("displayName", ""), step.get("bash", ""))
        for job in ("shard", "merge")
        for step in azure_job(job)["steps"]
    ]
    set_up = [script for name, script in named if name.startswith("Set up")]
    assert len(set_up) == 4 and all(re.search(r"^\./dev (setup|cifcheck --version)$", s, re.MULTILINE) for s in set_up)
    others = [script for name, script in named if not name.startswith("Set up")]
    assert not any(re.search(r"apt-get|pip install|\./dev", script) for script in others)


# Playing the jobs.


@dataclass
class Step:
    name: str
    script: str = ""  # a shell script, or
    action: str = ""  # an action or task, without its version
    inputs: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    condition: str = ""
    id: str = ""


@dataclass
class Played:
    """What a step did."""

    name: str
    ran: bool
    returncode: int = 0
    output: str = ""


@dataclass
class Job:
    name: str
    folder: Path
    played: list[Played] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)  # the Markdown each summary step added
    published_junit: list[Path] = field(default_factory=list)

    def step(self, name: str) -> Played:
        return next(played for played in self.played if played.name == name)

    @property
    def failed(self) -> bool:
        return any(played.ran and played.returncode for played in self.played)


def is_set_up(step: Step) -> bool:
    return step.name.startswith("Set up")


def cifcheck_on_path(folder: Path) -> Path:
    """A `cifcheck` command running this checkout's cifcheck, as ./dev setup puts .venv/bin on the PATH."""
    bin_folder = folder / "bin"
    bin_folder.mkdir()
    command = bin_folder / "cifcheck"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cifcheck "$@"\n')
    command.chmod(0o755)
    return bin_folder


# What the machine running the tests may have set that a fresh CI machine has not.
NOT_INHERITED = ("CI", "NO_COLOR", "TERM", "CIFCHECK_USERNAME", "CIFCHECK_PASSWORD", "CIFCHECK_TOTP_SECRET")


def base_environment(folder: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if key not in NOT_INHERITED and not key.startswith("GITHUB_")
    }
    env["PATH"] = f"{cifcheck_on_path(folder)}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def play(job: Job, steps: list[Step], env: dict[str, str], shell: list[str], artifacts: Path, ci: CiSystem) -> Job:
    """Each step in order, in the job's folder, as the CI system would."""
    failed = False
    for step in steps:
        if is_set_up(step):
            continue
        if not ci.should_run(step, failed):
            job.played.append(Played(step.name, ran=False))
            continue
        played = ci.run_action(job, step, artifacts) if step.action else ci.run_script(job, step, env, shell)
        job.played.append(played)
        failed = failed or played.returncode != 0
    return job


class CiSystem:
    """What differs between GitHub Actions and Azure Pipelines: expressions, outputs, artifacts, summaries."""

    outputs: dict[str, str]

    def should_run(self, step: Step, failed: bool) -> bool:
        if not step.condition:
            return not failed
        assert "always()" in step.condition, step.condition
        return all(self.outputs.get(name) for name in self.required_outputs(step.condition))

    def required_outputs(self, condition: str) -> list[str]:
        raise NotImplementedError

    def run_script(self, job: Job, step: Step, env: dict[str, str], shell: list[str]) -> Played:
        raise NotImplementedError

    def run_action(self, job: Job, step: Step, artifacts: Path) -> Played:
        kind, inputs = step.action, step.inputs
        if kind in ("actions/upload-artifact", "PublishPipelineArtifact"):
            source = Path(inputs["path"] if "path" in inputs else inputs["targetPath"])
            assert (source / "result.json").is_file(), f"{step.name}: {source} is not a run folder"
            shutil.copytree(source, artifacts / (inputs["name"] if "name" in inputs else inputs["artifact"]))
        elif kind in ("actions/download-artifact", "DownloadPipelineArtifact"):
            pattern = inputs["pattern"] if "pattern" in inputs else inputs["itemPattern"].removesuffix("/**")
            target = Path(inputs["path"] if "path" in inputs else inputs["targetPath"])
            if not target.is_absolute():
                target = job.folder / target
            for artifact in sorted(artifacts.glob(pattern)):
                shutil.copytree(artifact, target / artifact.name)
        elif kind in ("mikepenz/action-junit-report", "PublishTestResults"):
            report = Path(inputs["report_paths"] if "report_paths" in inputs else inputs["testResultsFiles"])
            JUnitXml.fromfile(str(report))  # JUnit, or this raises
            job.published_junit.append(report)
        else:
            assert kind in ("actions/checkout", "actions/setup-python", "checkout", "UsePythonVersion"), kind
        return Played(step.name, ran=True)


class GitHub(CiSystem):
    def __init__(self, workflow: dict, variables: dict[str, str], secrets: dict[str, str]) -> None:
        self.workflow = workflow
        self.variables = variables
        self.secrets = secrets
        self.matrix: dict[str, object] = {}
        self.outputs = {}

    def expand(self, text: str) -> str:
        def value(match: re.Match) -> str:
            expression = match[1].strip()
            if expression.startswith("matrix."):
                return str(self.matrix[expression.removeprefix("matrix.")])
            if expression == "strategy.job-total":
                return str(len(self.workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]))
            if expression.startswith("secrets."):
                return self.secrets.get(expression.removeprefix("secrets."), "")
            if expression.startswith("steps."):
                return self.outputs.get(expression.removeprefix("steps."), "")
            variable = re.fullmatch(r"vars\.(\w+) \|\| '([^']*)'", expression)
            assert variable, f"an expression this test does not know: {expression}"
            return self.variables.get(variable[1]) or variable[2]

        return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))

    def required_outputs(self, condition: str) -> list[str]:
        return re.findall(r"steps\.([\w.-]+) != ''", condition)

    def steps(self, job: str) -> list[Step]:
        return [
            Step(
                name=step.get("name") or step.get("uses", ""),
                script=step.get("run", ""),
                action=step.get("uses", "").split("@")[0],
                inputs=step.get("with", {}),
                env=step.get("env", {}),
                condition=step.get("if", ""),
                id=step.get("id", ""),
            )
            for step in self.workflow["jobs"][job]["steps"]
        ]

    def job_env(self, job: str) -> dict[str, str]:
        env = {**self.workflow.get("env", {}), **self.workflow["jobs"][job].get("env", {})}
        return {key: self.expand(value) for key, value in env.items()}

    def run_action(self, job: Job, step: Step, artifacts: Path) -> Played:
        expanded = Step(step.name, action=step.action, inputs={k: self.expand(v) for k, v in step.inputs.items()})
        return super().run_action(job, expanded, artifacts)

    def run_script(self, job: Job, step: Step, env: dict[str, str], shell: list[str]) -> Played:
        files = {
            name: job.folder / f".{name.lower()}" for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH")
        }
        for file in files.values():
            file.write_text("")
        step_env = {key: self.expand(value) for key, value in step.env.items()}
        done = run_shell(step.script, job.folder, {**env, **step_env, **{k: str(v) for k, v in files.items()}}, shell)
        for line in files["GITHUB_OUTPUT"].read_text().splitlines():
            name, _, value = line.partition("=")
            self.outputs[f"{step.id}.outputs.{name}"] = value
        if files["GITHUB_STEP_SUMMARY"].read_text():
            job.summaries.append(files["GITHUB_STEP_SUMMARY"].read_text())
        return Played(step.name, ran=True, returncode=done.returncode, output=done.stdout + done.stderr)


class Azure(CiSystem):
    def __init__(self, pipeline: dict, parameters: dict[str, str], workspace: Path) -> None:
        self.pipeline = pipeline
        defaults = {parameter["name"]: parameter["default"] for parameter in pipeline["parameters"]}
        self.parameters = {**defaults, **parameters}
        self.variables: dict[str, str] = {"Pipeline.Workspace": str(workspace), "System.JobAttempt": "1"}
        for name, value in pipeline["variables"].items():
            self.variables[name] = re.sub(r"\$\{\{ parameters\.(\w+) \}\}", lambda m: self.parameters[m[1]], str(value))
        self.outputs = self.variables

    def expand(self, text: object) -> str:
        # A macro for a variable that is not defined stays as it is written, as Azure leaves it.
        return re.sub(r"\$\(([\w.]+)\)", lambda m: self.variables.get(m[1], m[0]), str(text))

    def required_outputs(self, condition: str) -> list[str]:
        return re.findall(r"ne\(variables\.(\w+), ''\)", condition)

    def steps(self, job: str) -> list[Step]:
        found = next(entry for entry in self.pipeline["jobs"] if entry["job"] == job)
        return [
            Step(
                name=step.get("displayName") or step.get("task") or step.get("checkout", ""),
                script=step.get("bash", ""),
                action=step["task"].split("@")[0] if "task" in step else ("checkout" if "checkout" in step else ""),
                inputs=step.get("inputs", {}),
                env=step.get("env", {}),
                condition=step.get("condition", ""),
            )
            for step in found["steps"]
        ]

    def job_env(self) -> dict[str, str]:
        """Every (non-secret) variable, as Azure maps it into a script's environment: `Pipeline.Workspace` is
        PIPELINE_WORKSPACE."""
        return {name.upper().replace(".", "_"): self.expand(value) for name, value in self.variables.items()}

    def run_action(self, job: Job, step: Step, artifacts: Path) -> Played:
        expanded = Step(step.name, action=step.action, inputs={k: self.expand(v) for k, v in step.inputs.items()})
        return super().run_action(job, expanded, artifacts)

    def run_script(self, job: Job, step: Step, env: dict[str, str], shell: list[str]) -> Played:
        step_env = {key: self.expand(value) for key, value in step.env.items()}
        done = run_shell(step.script, job.folder, {**env, **self.job_env(), **step_env}, shell)
        for command, value in re.findall(r"^##vso\[([^\]]+)\](.*)$", done.stdout, flags=re.MULTILINE):
            variable = re.fullmatch(r"task\.setvariable variable=(\w+)", command)
            if variable:
                self.variables[variable[1]] = value
            elif command == "task.uploadsummary":
                job.summaries.append(Path(value).read_text())
        return Played(step.name, ran=True, returncode=done.returncode, output=done.stdout + done.stderr)


def run_shell(script: str, folder: Path, env: dict[str, str], shell: list[str]) -> subprocess.CompletedProcess:
    file = folder / ".step.sh"
    file.write_text(script)
    return subprocess.run([*shell, str(file)], cwd=folder, env=env, capture_output=True, text=True, timeout=170)


def checkout(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "fleet.json").write_text(json.dumps(FLEET))
    return folder


@dataclass
class Pipeline:
    shards: list[Job]
    merge: Job
    secrets: dict[str, str]


def play_github(folder: Path) -> Pipeline:
    workflow = load(GITHUB)
    secrets = {"CIFCHECK_STORAGE_STATE": base64.b64encode(STORAGE_STATE.encode()).decode()}
    artifacts = folder / "artifacts"
    artifacts.mkdir(parents=True)
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]  # `shell: bash`, as GitHub runs it

    def shard(index: int) -> Job:
        github = GitHub(workflow, {"CIFCHECK_CONFIG": "fleet.json"}, secrets)
        github.matrix = {"shard": index}
        job = Job(f"shard {index}", checkout(folder / f"shard-{index}"))
        env = {**base_environment(job.folder), **github.job_env("shard")}
        return play(job, github.steps("shard"), env, shell, artifacts, github)

    with ThreadPoolExecutor(4) as pool:  # as the matrix runs: at once
        shards = list(pool.map(shard, workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]))
    github = GitHub(workflow, {"CIFCHECK_CONFIG": "fleet.json"}, secrets)
    job = Job("merge", checkout(folder / "merge"))
    env = {**base_environment(job.folder), **github.job_env("merge")}
    return Pipeline(shards, play(job, github.steps("merge"), env, shell, artifacts, github), secrets)


def play_azure(folder: Path) -> Pipeline:
    pipeline = load(AZURE)
    artifacts = folder / "artifacts"
    artifacts.mkdir(parents=True)
    shell = ["bash", "--noprofile", "--norc"]  # the Bash task: the script itself says `set -euo pipefail`
    legs = pipeline["jobs"][0]["strategy"]["matrix"]

    def shard(leg: dict) -> Job:
        job = Job(f"shard {leg['SHARD']}", checkout(folder / f"shard-{leg['SHARD']}"))
        azure = Azure(pipeline, {"config": "fleet.json"}, folder / f"workspace-{leg['SHARD']}")
        azure.variables.update({name: str(value) for name, value in leg.items()})
        return play(job, azure.steps("shard"), base_environment(job.folder), shell, artifacts, azure)

    with ThreadPoolExecutor(4) as pool:
        shards = list(pool.map(shard, legs.values()))
    job = Job("merge", checkout(folder / "merge"))
    azure = Azure(pipeline, {"config": "fleet.json"}, folder / "workspace-merge")
    merge = play(job, azure.steps("merge"), base_environment(job.folder), shell, artifacts, azure)
    return Pipeline(shards, merge, {})


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pipeline]:
    """Both CI definitions played at once, each with its shard jobs at once, as the CI systems run them."""
    players: dict[str, Callable[[Path], Pipeline]] = {"github": play_github, "azure": play_azure}
    with ThreadPoolExecutor(2) as pool:
        futures = {ci: pool.submit(player, tmp_path_factory.mktemp(ci)) for ci, player in players.items()}
        return {ci: future.result() for ci, future in futures.items()}


CI_SYSTEMS = ["github", "azure"]
VALIDATE = {"github": "Validate shard", "azure": "Validate the shard"}
MERGE = "Merge the shards into one report"


def result_of(job: Job, reports: str) -> dict:
    return json.loads((job.folder / reports / "latest" / "result.json").read_text())


pytestmark = pytest.mark.browser


@pytest.mark.parametrize("ci", CI_SYSTEMS)
def test_the_failing_org_fails_its_shard_and_the_empty_shards_pass(pipelines: dict[str, Pipeline], ci: str):
    codes = [job.step(VALIDATE[ci]).returncode for job in pipelines[ci].shards]
    assert codes == [1, 0, 0, 0], [job.step(VALIDATE[ci]).output for job in pipelines[ci].shards]
    assert [job.failed for job in pipelines[ci].shards] == [True, False, False, False]


@pytest.mark.parametrize("ci", CI_SYSTEMS)
def test_each_shard_ran_its_share_of_the_fleet(pipelines: dict[str, Pipeline], ci: str):
    results = [result_of(job, f"reports/shard-{index}") for index, job in enumerate(pipelines[ci].shards, start=1)]
    assert [(r["shard"], [t["target"] for t in r["targets"]]) for r in results] == [
        ("1/4", ["contoso"]),
        ("2/4", []),
        ("3/4", []),
        ("4/4", []),
    ]


@pytest.mark.parametrize("ci", CI_SYSTEMS)
def test_every_shard_uploads_its_report_and_publishes_its_junit_after_a_failure(pipelines, ci: str):
    for job in pipelines[ci].shards:
        assert [played.name for played in job.played if not played.ran] == [], job.name
        assert len(job.published_junit) == 1
    failing = pipelines[ci].shards[0]
    assert [case.name for suite in JUnitXml.fromfile(str(failing.published_junit[0])) for case in suite]


@pytest.mark.parametrize("ci", CI_SYSTEMS)
def test_the_merge_job_merges_every_shard_and_fails_as_the_fleet_does(pipelines: dict[str, Pipeline], ci: str):
    merge = pipelines[ci].merge
    assert merge.step(MERGE).returncode == 1, merge.step(MERGE).output
    merged = result_of(merge, "reports/merged")
    assert [t["target"] for t in merged["targets"]] == ["contoso"] and merged["status"] == "fail"
    assert [played.name for played in merge.played if not played.ran] == []
    assert len(merge.published_junit) == 1


@pytest.mark.parametrize("ci", CI_SYSTEMS)
def test_the_step_summaries_are_written(pipelines: dict[str, Pipeline], ci: str):
    assert pipelines[ci].merge.summaries and all(job.summaries for job in pipelines[ci].shards)


def test_github_restores_the_saved_session_owner_only_and_never_prints_it(pipelines: dict[str, Pipeline]):
    secret = pipelines["github"].secrets["CIFCHECK_STORAGE_STATE"]
    for job in pipelines["github"].shards:
        state = job.folder / ".cifcheck" / "auth" / "state.json"
        assert state.read_text() == STORAGE_STATE
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        assert not any(secret in played.output or STORAGE_STATE in played.output for played in job.played)


def test_azure_leaves_undefined_secrets_unset_rather_than_typing_their_macro(pipelines: dict[str, Pipeline]):
    """No secret variable is defined here: each reaches the script as "$(NAME)"; were they read as a sign-in, the
    shard would be bad input (that is no TOTP secret: exit 2), not the failure the missing library is."""
    shard = pipelines["azure"].shards[0]
    assert shard.step(VALIDATE["azure"]).returncode == 1
    assert not (shard.folder / ".cifcheck").exists()
