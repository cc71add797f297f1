"""How strong the test gate of a run is, said before its first attempt, and the project's environment it
runs in (:class:`gitorch.plugin.checks.TestGate`, :class:`~gitorch.plugin.checks.ProjectEnvironment`).

- the tests pass before any change: a green run of an attempt means something (``tests``), and the share
  of the statements of the files with open findings that they run is measured when it can be;
- the test command collects no test (``no-tests``): not a pass; the run goes on, every attempt passes the
  cheap gate (compile, import), and the start and the report say that behaviour is not checked;
- the tests fail for want of the project's dependencies, or cannot start (``no-environment``): the run
  stops before its first attempt, says what is missing and the one line of configuration that fixes it;
- they fail for another reason (``failing``): the run stops and shows the failure's cause.
"""

from __future__ import annotations

import re
from pathlib import Path

from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop.pool import AgentPool
from gitorch.plugin.checks import ProjectEnvironment, TestGate
from gitorch.process.testrun import TestOutcome

# pytest's "E   ModuleNotFoundError: No module named 'flask'" line (the cause of a collection error)
_ERROR_LINE = re.compile(r"^E\s+((?:\w+\.)*\w*(?:Error|Exception)\b.*)$", re.MULTILINE)
_IMPORT_ERROR = re.compile(r"\b(ModuleNotFoundError|ImportError)\b")


def find_environment(pool: AgentPool, checkout: Path, config: Config) -> ProjectEnvironment | None:
    """The first project environment an installed agent lends (third-party plugins before gitorch's own)."""
    classes = pool.classes()
    names = sorted(classes, key=lambda n: classes[n].__module__.startswith(("gitorch.", "gitorch_")))
    for name in names:
        cls = classes[name]
        if getattr(cls.project_environment, "__qualname__", "").startswith("Agent."):
            continue  # the base class's: nothing to offer
        try:
            env = pool.get(name).project_environment(checkout, config)
        except GitorchError:
            continue
        if env is not None:
            return env
    return None


def failure_cause(outcome: TestOutcome) -> str:
    """The cause of a failed test run, in one line: the first error a test case reports (its JUnit
    message, or pytest's ``E   SomeError: ...`` line), else the run's summary."""
    if outcome.exit_code is None and not outcome.timed_out and outcome.output.startswith("cannot run"):
        return outcome.output.strip().splitlines()[0]
    found = _ERROR_LINE.search(outcome.output)
    if found:
        return found.group(1).strip()[:200]
    for case in outcome.cases or []:
        if case.outcome in ("failed", "error") and case.message:
            return f"{case.id}: {case.message.splitlines()[0][:200]}"
    return outcome.brief()


def assess_baseline(outcome: TestOutcome, command: str, environment: ProjectEnvironment | None) -> TestGate:
    """The test gate, from the test command's run on the start commit."""
    if outcome.passed:
        collected = len(outcome.cases) if outcome.cases is not None else (outcome.counts or {}).get("passed")
        return TestGate("tests", command, collected=collected)
    if outcome.no_tests:
        return TestGate("no-tests", command, collected=0, detail=f"`{command}` collected no test")
    cause = failure_cause(outcome)
    cannot_start = outcome.exit_code is None and not outcome.timed_out
    env_missing = environment is None or not environment.found
    if cannot_start or (env_missing and _IMPORT_ERROR.search(cause)):
        missing = (environment.missing if environment is not None else None) or (
            'give the command that runs them with `[tests] command = "..."` (or `--test-cmd`)'
        )
        return TestGate("no-environment", command, detail=f"{cause}; {missing}")
    return TestGate("failing", command, detail=cause)
