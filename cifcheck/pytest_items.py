"""The pytest plugin's items: the config file, one node per target, one item per check it selects; and what each
item shows, in cifcheck's words (reason, fix, migration step), never a traceback from the plugin."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cifcheck.pytest_targets import CheckFailed, CouldNotDecide, TargetLookup, VerdictShown, shown

if TYPE_CHECKING:  # only for annotations: cifcheck's modules are imported once --cifcheck is given
    from cifcheck.config import Config, Target
    from cifcheck.results import CheckResult, Status, TargetResult

MARKER = "cifcheck"


class CifcheckWarning(UserWarning):
    """A check that warned (CIF 1.0 leftovers, console errors): the item passes, pytest lists the warning.
    `-W error::cifcheck.pytest_plugin.CifcheckWarning` makes warnings fail."""


@dataclass(frozen=True)
class ItemVerdict:
    """What one item shows for a check of a target: `outcome` is the pytest outcome in cifcheck's words (pass, fail,
    warn, skip, error); `status` is cifcheck's own verdict on the check."""

    outcome: Status
    status: Status
    headline: str
    lines: tuple[str, ...]


def _explained(word: str, target: str, item_id: str, check: CheckResult, title: str, said: str) -> tuple[str, ...]:
    lines = [f"{word} {shown(target)} {item_id}: {shown(title)}", said]
    if check.remediation:
        lines.append(f"Fix: {shown(check.remediation)}")
    if check.doc_step or check.doc_url:
        lines.append(" — ".join(part for part in (check.doc_step, check.doc_url) if part))
    return tuple(lines)


def item_verdict(result: TargetResult, check_id: str, selected: Sequence[str] | None = None) -> ItemVerdict:
    """The outcome of the item for `check_id` in `result`. `selected` is the target's `checks` (None: all).

    A check skipped because a prerequisite the target did not select failed or erred shows that prerequisite's
    verdict: cifcheck reports such a prerequisite beside the selected checks so that a run never passes on skips
    (an expired session, a missing library), and pytest has no item for it."""
    from cifcheck.checks import REGISTRY

    checks = {check.id: check for check in result.checks}
    check = checks.get(check_id)
    target = result.target
    if check is None:
        headline = f"could not decide: cifcheck gave no verdict on {check_id}"
        return ItemVerdict("error", "error", headline, (f"ERROR {shown(target)} {check_id}: {headline}",))
    if check.status == "skip" and selected is not None:
        for prerequisite_id in REGISTRY[check_id].prerequisites:
            prerequisite = checks.get(prerequisite_id)
            if prerequisite_id in selected or prerequisite is None or prerequisite.status not in ("fail", "error"):
                continue
            why = (
                f"not checked: its prerequisite {prerequisite_id} (not in this target's checks) is "
                f"{prerequisite.status}"
            )
            return _verdict_of(prerequisite, target, check_id, status="skip", why=why)
    return _verdict_of(check, target, check_id, status=check.status)


def _verdict_of(check: CheckResult, target: str, item_id: str, status: Status, why: str = "") -> ItemVerdict:
    """The item `item_id` showing `check`'s verdict: its own, or (with `why`) a prerequisite's, named as such."""
    said = f"{check.id}: {shown(check.reason)}" if why else shown(check.reason)
    title = why or check.title
    if check.status == "fail":
        return ItemVerdict("fail", status, said, _explained("FAIL", target, item_id, check, title, said))
    if check.status == "error":
        lines = _explained("ERROR (could not decide)", target, item_id, check, title, said)
        return ItemVerdict("error", status, f"could not decide: {said}", lines)
    if check.status == "warn":
        fix = f" Fix: {shown(check.remediation)}" if check.remediation else ""
        return ItemVerdict("warn", status, f"WARN {shown(target)} {item_id}: {said}{fix}", ())
    return ItemVerdict(check.status, status, said, ())


def failure_repr(error: VerdictShown, path: Path) -> Any:
    """pytest's own representation of an exception (headline for the short summary and JUnit's message, lines for
    the report), with no traceback entry: the failure is the org's, not the plugin's. It crosses pytest-xdist intact
    (a plain string would lose the headline). pytest does not export these classes."""
    from _pytest._code.code import ReprEntryNative, ReprExceptionInfo, ReprFileLocation, ReprTraceback

    entry = ReprEntryNative(["".join(f"{line}\n" for line in error.lines) or f"{error.headline}\n"])
    return ReprExceptionInfo(ReprTraceback([entry], None, "native"), ReprFileLocation(str(path), 0, error.headline))


def cifcheck_check(cifcheck_target: TargetLookup) -> None:
    """The function behind every check item: it declares the fixture; `CheckItem` reads the verdict."""


class ConfigFile(pytest.File):
    """The config file: one child per target, in config order."""

    def __init__(self, *, cifcheck_config: Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cifcheck_config = cifcheck_config

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        text = self.path.read_text(encoding="utf-8")
        for target in self.cifcheck_config.targets:
            yield TargetNode.from_parent(self, name=target.name, target=target, line=_line_of(text, target.name))


def _line_of(text: str, name: str) -> int:
    """The line (from 1) where the config file names the target: skips and warnings point there, as a test's do
    at its `def`. Line 1 when it cannot be told."""
    found = re.search(rf'"name"\s*:\s*"{re.escape(name)}"', text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


class TargetNode(pytest.Collector):
    """One target: one item per check it selects, in the migration document's order (as every output lists them)."""

    def __init__(self, *, target: Target, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target, self.line = target, line

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from cifcheck.checks import ORDER

        for check_id in ORDER:
            if self.target.checks is not None and check_id not in self.target.checks:
                continue
            item = CheckItem.from_parent(
                self, name=check_id, callobj=cifcheck_check, target=self.target, check_id=check_id, line=self.line
            )
            # No xdist_group mark: pytest-xdist would add `@<target>` to every node id, and on pytest 9.2 that
            # no longer groups anything (pytest-xdist#1386). The plugin's scheduler groups by node id instead.
            item.add_marker(MARKER)
            yield item


class CheckItem(pytest.Function):
    """One check of one target. Set-up runs the target (once per worker) and raises `CouldNotDecide` when cifcheck
    could not decide, so pytest reports an error there, apart from failures; the test itself is the verdict."""

    def __init__(self, *, target: Target, check_id: str, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target, self.check_id, self.target_line = target, check_id, line
        self.verdict: ItemVerdict | None = None

    def setup(self) -> None:
        super().setup()
        lookup: TargetLookup = self.funcargs["cifcheck_target"]
        outcome = lookup.for_item(self.target.name)
        self.verdict = item_verdict(outcome.result, self.check_id, self.target.checks)
        self.user_properties.append(("cifcheck.status", self.verdict.status))
        if self.verdict.outcome == "error":
            raise CouldNotDecide(self.verdict.headline, self.verdict.lines)

    def runtest(self) -> None:
        verdict = self.verdict
        assert verdict is not None, "set-up judged the check"
        if verdict.outcome == "fail":
            raise CheckFailed(verdict.headline, verdict.lines)
        if verdict.outcome == "skip":
            pytest.skip(verdict.headline)
        if verdict.outcome == "warn":
            # Located where the config file names the target, not in the plugin's code.
            warnings.warn_explicit(verdict.headline, CifcheckWarning, self.location[0], self.target_line)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.target_line - 1, f"{self.target.name}::{self.check_id}"  # pytest counts from 0
