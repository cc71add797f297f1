"""What the fix loop checks in a change before it commits it, and what plugins lend it to check with.

Two optional capabilities of an :class:`~gitorch.plugin.agent.Agent` (the base agent has neither):

- :meth:`Agent.recheck <gitorch.plugin.agent.Agent.recheck>` — re-audit only the files an attempt
  touched (a :class:`RecheckRequest`). The loop asks the auditor of each dimension of the run and
  judges the answer itself, the same way for every agent (:func:`new_findings`, :func:`closed_findings`):
  a new finding on a touched line at the severity of the finding being fixed or worse rejects the
  attempt, and an attempt at an audited finding is its fix only when the re-audit no longer reports it.
- :meth:`Agent.project_environment <gitorch.plugin.agent.Agent.project_environment>` — where the
  project's code and tests run (a :class:`ProjectEnvironment`): the test command to use when the user
  set none, the cheap gate every attempt passes (touched modules still compile and import), and the
  coverage of the files the fixes touch. The loop takes the first one an installed agent offers.

:class:`TestGate` is what the loop says, before the first attempt, about how much a green test run
proves for this repository.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gitorch.models import Finding, Severity

if TYPE_CHECKING:
    from gitorch.config import Config


@dataclass(frozen=True)
class RecheckRequest:
    """The files of one attempt to re-audit, in ``root`` (the run's worktree, the change not committed).

    ``files`` maps each touched file (POSIX, relative to ``root``; deleted files left out) to the line
    numbers of the new file the change added or rewrote. ``dimensions`` are the run's dimensions this
    agent audits; ``path`` the part of the repository the run works on.
    """

    root: Path
    files: Mapping[str, Collection[int]]
    dimensions: tuple[str, ...]
    config: Config
    path: str = "."


@dataclass(frozen=True)
class ModuleProblem:
    """A touched module that compiled and imported before the change and no longer does.

    ``missing_module`` is the top-level module an ``ImportError`` names (``defusedxml``), when that
    is why: a change that also declares that package as a new dependency is not broken by it.
    """

    file: str
    reason: str
    missing_module: str | None = None


@dataclass(frozen=True)
class FileCoverage:
    """Statements of one file, and how many of them the test suite runs."""

    statements: int
    covered: int


TestGateKind = Literal["tests", "no-tests", "failing", "no-environment"]


@dataclass(frozen=True)
class TestGate:
    """How strong the test gate of a run is, said before its first attempt.

    - ``tests``: ``collected`` tests pass before any change; ``coverage`` is the percentage of the
      statements of ``files`` (the files with open findings) they run, when it was measured.
    - ``no-tests``: the test command finds no test: every attempt must still compile and import, but
      behaviour is not checked.
    - ``failing``: the tests fail before any change; they cannot tell a fix from a break.
    - ``no-environment``: the tests cannot run here (no environment with the project's dependencies);
      ``detail`` says what is missing and the one line of configuration that fixes it.
    """

    __test__ = False  # not a pytest class

    kind: TestGateKind
    command: str
    collected: int | None = None
    coverage: float | None = None
    files: int = 0
    detail: str = ""

    @property
    def checks_behaviour(self) -> bool:
        return self.kind == "tests"

    def stop_message(self) -> str:
        """Why the run cannot go on (``failing``, ``no-environment``), for the stop's detail."""
        if self.kind == "no-environment":
            return f"the tests cannot run in any environment gitorch found: {self.detail}"
        return (f"the test command fails before any change ({self.detail}): fix the tests or give the right "
                f"command with --test-cmd")

    def describe(self) -> str:
        if self.kind == "no-tests":
            return (
                "no tests: every attempt must still compile and import, but behaviour is not checked"
                + (f" ({self.detail})" if self.detail else "")
            )
        if self.kind == "failing":
            return f"the tests fail before any change ({self.detail}): they cannot tell a fix from a break"
        if self.kind == "no-environment":
            return f"the tests cannot run here: {self.detail}"
        count = "tests" if self.collected is None else f"{self.collected} test{'s' * (self.collected != 1)}"
        if self.coverage is not None:
            where = f"the {self.files} file{'s' * (self.files != 1)} with open findings"
            return f"{count} pass, covering {self.coverage:.0f} % of the statements of {where}"
        return f"{count} pass" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Baseline:
    """The test command's run on the start commit, as a :class:`ProjectEnvironment` sees it."""

    command: str
    passed: bool
    no_tests: bool
    duration_s: float
    summary: str


class ProjectEnvironment:
    """Where the project's code and tests run: its interpreter or virtual environment, a container.

    Subclass it and return an instance from :meth:`Agent.project_environment
    <gitorch.plugin.agent.Agent.project_environment>`. Every method has a safe default (nothing to
    offer, nothing checked).
    """

    #: True when the project's own environment was found (its dependencies are installed there).
    found: bool = False
    #: What it is, for a person: "the project's .venv (/repo/.venv/bin/python)".
    description: str = ""
    #: When not found: what is missing and the one line of configuration that fixes it.
    missing: str | None = None

    def test_command(self) -> str | None:
        """The command that runs the project's tests in this environment (used when the user set none);
        ``{worktree}`` in it is replaced by the run's worktree. None: the configured command stays."""
        return None

    def broken_modules(self, root: Path, files: Collection[str], *, base: str) -> list[ModuleProblem]:
        """The cheap gate: the touched ``files`` under ``root`` that compiled and imported at commit
        ``base`` and no longer do (a module that failed before too is not the change's fault)."""
        return []

    def coverage(
        self, root: Path, command: str, files: Collection[str], *, config: Config, timeout: float
    ) -> tuple[dict[str, FileCoverage] | None, str]:
        """Run the tests under coverage and return, per file of ``files`` the report measured, its
        statements and how many ran; or None and why it was not measured."""
        return None, "this environment does not measure coverage"


# --- the judgement (the same for every agent) ------------------------------------------------------


def base_fingerprint(finding: Finding) -> str:
    """The fingerprint without the ``-2`` suffix an audit gives a repeated finding: removing one of two
    identical lines renumbers the other, which is not a new finding."""
    return finding.fingerprint.split("-", 1)[0]


def in_lines(findings: Iterable[Finding], touched: Mapping[str, Collection[int]]) -> list[Finding]:
    """The findings that lie on a touched line (a finding spanning lines counts when any is touched),
    or that have no line in a touched file (a whole-module finding such as a parse error)."""
    out = []
    for finding in findings:
        lines = touched.get(finding.file or "")
        if lines is None:
            continue
        if not finding.line:
            out.append(finding)
            continue
        last = max(finding.end_line or finding.line, finding.line)
        if any(finding.line <= n <= last for n in lines):
            out.append(finding)
    return out


def new_findings(
    before: Sequence[Finding],
    after: Sequence[Finding],
    touched: Mapping[str, Collection[int]],
    bar: Severity = Severity.P3,
) -> list[Finding]:
    """Findings on touched lines that the change added (more of their fingerprint after than before)
    at severity ``bar`` or worse; P4 (information) never counts."""
    was, now = Counter(map(base_fingerprint, before)), Counter(map(base_fingerprint, after))
    return [
        f
        for f in in_lines(after, touched)
        if now[base_fingerprint(f)] > was[base_fingerprint(f)]
        and f.severity <= bar
        and f.severity != Severity.P4
    ]


def closed_findings(
    before: Sequence[Finding], after: Sequence[Finding], candidates: Iterable[Finding]
) -> list[Finding]:
    """The ``candidates`` (findings of ``before``) the change closed: as many of each fingerprint as
    there are fewer of it after than before."""
    was, now = Counter(map(base_fingerprint, before)), Counter(map(base_fingerprint, after))
    left = {fp: was[fp] - now[fp] for fp in was}
    closed = []
    for finding in candidates:
        fp = base_fingerprint(finding)
        if left.get(fp, 0) > 0:
            left[fp] -= 1
            closed.append(finding)
    return closed


__all__ = [
    "Baseline",
    "FileCoverage",
    "ModuleProblem",
    "ProjectEnvironment",
    "RecheckRequest",
    "TestGate",
    "base_fingerprint",
    "closed_findings",
    "in_lines",
    "new_findings",
]
