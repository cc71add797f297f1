"""Running the project's test command in the run's worktree (through the one process runner)."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from gitorch.errors import UsageError
from gitorch.process.runner import run_process

OUTPUT_TAIL = 6000
_SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
_COLLECTED = re.compile(r"^(\d+) tests? collected", re.MULTILINE)
_NO_TESTS = re.compile(r"^no tests collected", re.MULTILINE)
_PER_FILE = re.compile(r"^\S.*?: (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test run. ``output`` is the tail of stdout+stderr."""

    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None
    duration_s: float
    output: str
    timed_out: bool = False
    counts: dict[str, int] | None = None

    def brief(self) -> str:
        if self.timed_out:
            return f"timed out after {self.duration_s:.0f}s"
        if self.counts:
            return ", ".join(f"{n} {k}" for k, n in self.counts.items())
        return f"exit {self.exit_code}"


_SUMMARY_ITEM = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.+))?$")
_EXCEPTION = re.compile(r"^E\s+(\S.*)$")
_ERROR_LINE = re.compile(r"\b\w*(Error|Exception|FAIL|Traceback)\b|error:", re.IGNORECASE)


def first_failure(output: str) -> str | None:
    """The first failure a test run's output names, in one line, for a person to read.

    pytest: the first ``FAILED``/``ERROR`` item of its short summary, with the reason (its own, or the
    first ``E   …`` line, as for a collection error: ``ERROR tests/test_app.py: ModuleNotFoundError: No
    module named 'fastapi'``). Another runner: the first line that looks like an error, else the last line.
    """
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    exception = next((m.group(1) for line in lines if (m := _EXCEPTION.match(line))), None)
    for line in lines:
        item = _SUMMARY_ITEM.match(line)
        if item:
            kind, where, reason = item.groups()
            reason = reason or exception
            return f"{kind} {where}" + (f": {reason}" if reason else "")
    if exception:
        return exception
    if not lines:
        return None
    return next((line.strip() for line in lines if _ERROR_LINE.search(line)), lines[-1].strip())[:300]


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
    argv: list[str], cwd: Path, timeout_s: float, env: dict[str, str] | None = None
) -> TestOutcome:
    """Run ``argv`` with :func:`~gitorch.process.runner.run_process` (stderr merged into stdout): on a
    timeout or an interruption the whole process group is killed, and nothing is left behind."""
    try:
        done = run_process(argv, cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout_s,
                           merge_stderr=True, purpose="tests")
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
    """Run the project's test command in ``cwd``.

    ``{worktree}`` in the command or the prefix becomes the directory the tests must run in (for a
    prefix that runs them elsewhere, e.g. ``docker run -v {worktree}:/app -w /app image``).
    pytest finding no test at all (exit 5) counts as passing, with ``counts == {"collected": 0}``: a
    project without tests can still be fixed, and the report says that nothing tested the fixes.
    """
    argv = [part.replace("{worktree}", str(cwd)) for part in command_argv(command, prefix)]
    outcome = run_command(argv, cwd, timeout_s)
    if outcome.exit_code == PYTEST_NO_TESTS and is_pytest(command):
        return replace(outcome, passed=True, counts={"collected": 0})
    return outcome


def collect_count(cwd: Path, command: str, prefix: str, timeout_s: float) -> int | None:
    """How many tests ``pytest --collect-only -q`` finds, for a pytest command; None otherwise."""
    if not is_pytest(command):
        return None
    argv = [p.replace("{worktree}", str(cwd)) for p in command_argv(command, prefix)]
    argv += ["--collect-only", "-q", "-p", "no:cacheprovider"]
    outcome = run_command(argv, cwd, timeout_s)
    match = _COLLECTED.search(outcome.output)
    if match:
        return int(match.group(1))
    if _NO_TESTS.search(outcome.output):
        return 0
    # a command already holding -q makes it -qq: one "path: count" line per file, no summary
    per_file = _PER_FILE.findall(outcome.output)
    if per_file:
        return sum(int(n) for n in per_file)
    ids = [line for line in outcome.output.splitlines() if "::" in line and not line.startswith(" ")]
    return len(ids) if ids else None
