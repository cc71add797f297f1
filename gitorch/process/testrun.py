"""Running the project's test command in the run's worktree (through the one process runner).

Every run asks for a JUnit XML report (pytest's ``--junitxml``, in a private directory outside the
worktree), so that the fix loop compares tests one by one (:mod:`gitorch.process.junit`): a test that
passed before an attempt must still pass after it, not be skipped, deselected, xfailed or missing.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitorch.errors import UsageError
from gitorch.process.junit import CaseResult, JUnitError, outcome_counts, read_junit
from gitorch.process.runner import run_process

OUTPUT_TAIL = 6000
# pytest's closing line, read only when the run wrote no JUnit report (a runner other than pytest)
_SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
JUNIT_PLACEHOLDER = "{junit_xml}"


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test run. ``output`` is the tail of stdout+stderr; ``cases`` the per-test
    outcomes from the JUnit report (None when the run wrote none)."""

    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None
    duration_s: float
    output: str
    timed_out: bool = False
    counts: dict[str, int] | None = None
    cases: list[CaseResult] | None = field(default=None, compare=False)

    @property
    def no_tests(self) -> bool:
        """pytest collected no test at all (exit 5): not a pass, since nothing was checked."""
        return self.counts == {"collected": 0}

    def brief(self) -> str:
        if self.timed_out:
            return f"timed out after {self.duration_s:.0f}s"
        if self.counts:
            return ", ".join(f"{n} {k}" for k, n in self.counts.items())
        return f"exit {self.exit_code}"

    def passing(self) -> frozenset[str] | None:
        """The ids of the tests that passed (None without a JUnit report)."""
        if self.cases is None:
            return None
        return frozenset(c.id for c in self.cases if c.outcome == "passed")


def command_argv(command: str, prefix: str = "") -> list[str]:
    """``prefix`` + ``command`` as an argv (shell-style quoting, no shell)."""
    try:
        argv = shlex.split(prefix) + shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"cannot parse the test command {command!r}: {exc}") from None
    if not argv:
        raise UsageError("the test command is empty")
    return argv


def is_pytest(command: str) -> bool:
    argv = shlex.split(command)
    return any(Path(a).name in ("pytest", "py.test") for a in argv[:1]) or (
        "-m" in argv and argv.index("-m") + 1 < len(argv) and argv[argv.index("-m") + 1] == "pytest"
    )


def run_command(
    argv: list[str],
    cwd: Path,
    timeout_s: float,
    env: dict[str, str] | None = None,
    *,
    writable: tuple[Path, ...] = (),
) -> TestOutcome:
    """Run ``argv`` with :func:`~gitorch.process.runner.run_process` (stderr merged into stdout): on a
    timeout or an interruption the whole process group is killed, and nothing is left behind."""
    try:
        done = run_process(argv, cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout_s,
                           merge_stderr=True, writable=writable, purpose="tests")
    except OSError as exc:
        return TestOutcome(False, None, 0.0, f"cannot run {argv[0]}: {exc}")
    return TestOutcome(
        passed=done.ok,
        exit_code=None if done.timed_out else done.exit_code,
        duration_s=done.duration_s,
        output=done.stdout[-OUTPUT_TAIL:],
        timed_out=done.timed_out,
        counts=_counts(done.stdout),
    )


def _counts(text: str) -> dict[str, int] | None:
    lines = [line for line in text.strip().splitlines() if _SUMMARY.search(line)]
    if not lines:
        return None
    counts: dict[str, int] = {}
    for number, word in _SUMMARY.findall(lines[-1]):
        counts["errors" if word.startswith("error") else word] = int(number)
    return counts


PYTEST_NO_TESTS = 5  # pytest's exit code when it collected nothing


def run_tests(cwd: Path, command: str, prefix: str, timeout_s: float) -> TestOutcome:
    """Run the project's test command in ``cwd``, asking for a JUnit report.

    ``{worktree}`` in the command or the prefix becomes the directory the tests must run in (for a
    prefix that runs them elsewhere, e.g. ``docker run -v {worktree}:/app -w /app image``). The report
    is asked for with ``--junitxml`` after a pytest command, through ``PYTEST_ADDOPTS`` for a wrapper
    that runs pytest (make, tox, a script), or where the command says ``{junit_xml}`` (another runner).
    pytest finding no test at all (exit 5) is not a pass: ``passed`` is False and ``no_tests`` True
    (``counts == {"collected": 0}``). The fix loop then says so before its first attempt, and checks
    every attempt with the cheap gate of :mod:`gitorch.loop.verification` (compile and import) instead.
    """
    with tempfile.TemporaryDirectory(prefix="gitorch-junit-") as tmp:
        junit = Path(tmp) / "junit.xml"
        argv = [
            part.replace("{worktree}", str(cwd)).replace(JUNIT_PLACEHOLDER, str(junit))
            for part in command_argv(command, prefix)
        ]
        extra = [f"--junitxml={junit}", "-o", "junit_family=xunit1"]
        env: dict[str, str] = {}
        if JUNIT_PLACEHOLDER in command or JUNIT_PLACEHOLDER in prefix:
            pass
        elif is_pytest(command):
            argv += extra
        else:
            env["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} {shlex.join(extra)}".strip()
        outcome = run_command(argv, cwd, timeout_s, env, writable=(Path(tmp),))
        cases = _read_cases(junit)
    if cases is not None:
        outcome = replace(outcome, cases=cases, counts=outcome_counts(cases) or outcome.counts)
    if outcome.exit_code == PYTEST_NO_TESTS and is_pytest(command):
        return replace(outcome, passed=False, counts={"collected": 0})
    return outcome


def _read_cases(junit: Path) -> list[CaseResult] | None:
    if not junit.is_file():
        return None
    try:
        return read_junit(junit)
    except JUnitError:
        return None
