"""Tests dimension: the project's test command with pytest's junit XML and coverage's JSON report."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gitorch.config import Config
from gitorch.models import Finding, Severity
from gitorch.process.junit import CaseResult, JUnitError, read_junit
from gitorch_local.tools import (
    Completed,
    SourceLines,
    display,
    is_excluded,
    is_test_file,
    python_files,
    relative,
    run,
)

NOT_MODULES = {"__init__.py", "__main__.py", "conftest.py", "setup.py", "noxfile.py", "manage.py"}


@dataclass
class TestRun:
    """The command to run and where its reports land."""

    argv: list[str]
    env: dict[str, str]
    junit: Path
    coverage: Path
    workdir: Path
    addopts: str | None = None  # set when the options travel through PYTEST_ADDOPTS


def plan(config: Config, path: str, workdir: Path | None = None, *, coverage: bool = True) -> TestRun:
    """Build the test command: the configured one (with its prefix) plus junit and coverage reports."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="gitorch-tests-"))
    junit, cov_json = workdir / "junit.xml", workdir / "coverage.json"
    extra = [
        "-p", "no:cacheprovider",  # no .pytest_cache in the user's tree
        f"--junitxml={junit}", "-o", "junit_family=xunit1",  # xunit1 carries file and line
    ]
    if coverage:
        extra += [f"--cov={path}", f"--cov-report=json:{cov_json}"]
    command = shlex.split(config.tests.command)
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COVERAGE_FILE"] = str(workdir / ".coverage")
    addopts = None
    if any("pytest" in PurePosixPath(word).name or word == "py.test" for word in command):
        command += extra
    else:
        # NOTE: a wrapper (make, tox, a script) that runs pytest still picks these up.
        addopts = env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} {shlex.join(extra)}".strip()
    return TestRun(shlex.split(config.command_prefix) + command, env, junit, cov_json, workdir, addopts)


@contextlib.contextmanager
def scratch_checkout(root: Path, excludes: list[str]) -> Iterator[Path]:
    """A throwaway checkout of ``root`` as it is now, for the project's tests to run in: whatever they
    write (``.benchmarks/``, caches, databases) lands there, never in ``root``.

    NOTE: a detached worktree of HEAD with the uncommitted changes (``git stash create``); untracked and
    ignored files (``.env``…) copied, except ignored directories named in ``exclude`` (``.venv``,
    ``node_modules``…), which are linked so that the project's own tools still run. Outside a git
    checkout with a commit, a copy of the directory.
    """
    from gitorch.vcs.git import Git, snapshot_dirty

    git = Git(root)
    start = git.rev("HEAD") and (snapshot_dirty(root) or git.rev("HEAD"))
    with tempfile.TemporaryDirectory(prefix="gitorch-tests-checkout-") as tmp:
        where = Path(tmp) / root.name
        if start is None:
            shutil.copytree(root, where, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            yield where
            return
        git.run("worktree", "add", "-q", "--detach", str(where), start)
        try:
            # every untracked file, ignored ones included, a wholly untracked directory as one entry
            listed = git.run("ls-files", "-z", "--others", "--directory", "--no-empty-directory")
            for rel in filter(None, listed.split("\0")):
                source, target = root / rel, where / rel.rstrip("/")
                if target.exists() or target.is_symlink():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                directory = source.is_dir() and not source.is_symlink()
                if directory and is_excluded(rel.rstrip("/") + "/x", excludes):
                    target.symlink_to(source.resolve(), target_is_directory=True)
                elif directory:
                    shutil.copytree(source, target, symlinks=True)
                else:
                    shutil.copy2(source, target, follow_symlinks=False)
            yield where
        finally:
            git.run("worktree", "remove", "--force", "--force", str(where), check=False)
            git.run("worktree", "prune", check=False)


def lacks_pytest_cov(done: Completed) -> bool:
    """pytest refused ``--cov`` (usage error, exit 4): pytest-cov is not installed where tests run."""
    return done.returncode == 4 and "--cov" in (done.stderr + done.stdout)


def describe(test_run: TestRun, root: Path) -> str:
    """The command as a user could paste it."""
    text = display(test_run.argv, root)
    if test_run.addopts:
        return text.replace(" && ", f" && PYTEST_ADDOPTS={shlex.quote(test_run.addopts)} ", 1)
    return text


def execute(test_run: TestRun, root: Path, timeout: float) -> Completed:
    return run(test_run.argv, root, timeout=timeout, env=test_run.env, writable=(test_run.workdir,),
               purpose="tests")


def failing_tests(cases: list[CaseResult], root: Path) -> list[Finding]:
    """One P1 finding per failing or erroring test case of pytest's junit XML."""
    lines = SourceLines(root)
    out: list[Finding] = []
    for case in cases:
        if case.outcome not in ("failed", "error"):
            continue
        kind = "fails" if case.outcome == "failed" else "errors"
        file = relative(root, case.file) if case.file else None
        message = case.message.splitlines()
        out.append(
            Finding(
                dimension="tests",
                severity=Severity.P1,
                rule_id="tests:failing" if kind == "fails" else "tests:error",
                file=file,
                line=case.line,
                description=f"test {case.id} {kind}: {message[0][:200] if message else 'no message'}",
                recommendation="Fix the code under test (or the test, if it is wrong) until it passes.",
                snippet=(lines.line(file, case.line) if file else None) or case.id,
                source="pytest",
            )
        )
    return out


def _imported_names(root: Path, test_files: list[str]) -> tuple[set[str], set[str]]:
    """Dotted names the test files import (with every prefix), and the test files' stems."""
    names: set[str] = set()
    stems: set[str] = set()
    for file in test_files:
        stem = PurePosixPath(file).stem
        stems.add(stem.removeprefix("test_").removesuffix("_test"))
        try:
            tree = ast.parse((root / file).read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            dotted: list[str] = []
            if isinstance(node, ast.Import):
                dotted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                dotted = [module] + [f"{module}.{a.name}".lstrip(".") for a in node.names]
            for name in dotted:
                parts = name.split(".")
                names.update(
                    ".".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)
                )
    return names, stems


def _module_names(file: str) -> list[str]:
    parts = list(PurePosixPath(file).with_suffix("").parts)
    return [".".join(parts[i:]) for i in range(len(parts))]


def coverage_findings(
    report: dict[str, Any] | None,
    root: Path,
    path: str,
    excludes: list[str],
    config: Config,
) -> tuple[list[Finding], list[str]]:
    """Total and per-module coverage below thresholds, and modules no test imports."""
    out: list[Finding] = []
    notes: list[str] = []
    all_files = python_files(root, path, excludes)
    tests = [f for f in all_files if is_test_file(f)]
    sources = [f for f in all_files if not is_test_file(f) and PurePosixPath(f).name not in NOT_MODULES]
    imported, stems = _imported_names(root, tests)

    untested: set[str] = set()
    for file in sources:
        if PurePosixPath(file).stem in stems or any(n in imported for n in _module_names(file)):
            continue
        if not (root / file).read_text(encoding="utf-8", errors="replace").strip():
            continue  # an empty file needs no test
        untested.add(file)
        out.append(
            Finding(
                dimension="tests",
                severity=Severity.P3,
                rule_id="tests:untested-module",
                file=file,
                description=f"module {file} has no test: no test file imports it or is named after it",
                recommendation=f"Add tests/test_{PurePosixPath(file).stem}.py for its public functions.",
                snippet=f"module {file}",
                source="gitorch-local",
            )
        )

    if report is None:
        notes.append("coverage was not measured (no pytest-cov, or the test command does not run pytest)")
        return out, notes
    measured = {relative(root, name): data["summary"] for name, data in report.get("files", {}).items()}
    covered = statements = 0
    for file, summary in sorted(measured.items()):
        if is_test_file(file) or is_excluded(file, excludes):
            continue
        covered += summary.get("covered_lines", 0)
        statements += summary.get("num_statements", 0)
        percent = summary.get("percent_covered", 100.0)
        if (
            percent < config.tests.module_coverage_min
            and file not in untested
            and PurePosixPath(file).name not in NOT_MODULES
            and summary.get("num_statements", 0) > 0
        ):
            out.append(
                Finding(
                    dimension="tests",
                    severity=Severity.P3,
                    rule_id="tests:module-coverage",
                    file=file,
                    description=f"module {file} is {percent:.0f}% covered by tests "
                    f"(minimum {config.tests.module_coverage_min:g}%)",
                    recommendation="Add tests for its uncovered branches.",
                    snippet=f"module {file}",
                    source="coverage",
                )
            )
    total = 100.0 * covered / statements if statements else 100.0
    notes.append(f"coverage {total:.1f}% of {statements} statements outside the tests")
    if statements and total < config.tests.coverage_min:
        out.append(
            Finding(
                dimension="tests",
                severity=Severity.P2,
                rule_id="tests:coverage",
                description=f"total test coverage is {total:.0f}% (minimum {config.tests.coverage_min:g}%)",
                recommendation="Add tests for the least covered modules first.",
                snippet="total coverage",
                source="coverage",
            )
        )
    return out, notes


def audit(test_run: TestRun, done: Completed, root: Path, path: str, excludes: list[str], config: Config,
          command_text: str) -> tuple[list[Finding], list[str]]:
    """Turn one test run into findings, honestly: timeouts, empty suites and crashes included."""
    findings: list[Finding] = []
    notes: list[str] = [f"ran: {command_text} (exit {done.returncode}, {done.duration_s:.1f}s)"]
    if done.timed_out:
        findings.append(
            Finding(
                dimension="tests",
                severity=Severity.P1,
                rule_id="tests:timeout",
                description=f"the test command did not finish within {config.tests.timeout_s:g}s "
                "and was killed",
                recommendation="Find the hanging test (pytest --durations=20), or raise tests.timeout_s.",
                snippet=config.tests.command,
                source="gitorch-local",
            )
        )
        return findings, notes
    cases = 0
    if test_run.junit.is_file():
        try:
            results = read_junit(test_run.junit)
            cases = len(results)
            findings += failing_tests(results, root)
        except JUnitError as exc:
            notes.append(f"junit report unreadable: {exc}")
    if done.returncode == 5 or (done.returncode == 0 and test_run.junit.is_file() and cases == 0):
        findings.append(
            Finding(
                dimension="tests",
                severity=Severity.P2,
                rule_id="tests:none-collected",
                description="the test command collected no tests",
                recommendation="Add tests (tests/test_<module>.py) or fix tests.command.",
                snippet=config.tests.command,
                source="pytest",
            )
        )
    elif done.returncode not in (0, 1) and not any(f.rule_id == "tests:error" for f in findings):
        tail = (done.stderr.strip() or done.stdout.strip())[-300:]
        findings.append(
            Finding(
                dimension="tests",
                severity=Severity.P1,
                rule_id="tests:command-failed",
                description=f"the test command failed with exit code {done.returncode} without test results",
                recommendation="Run the test command by hand and fix what stops it.",
                snippet=config.tests.command,
                source="gitorch-local",
            )
        )
        notes.append(f"test command output (end): {tail}")
    report = None
    if test_run.coverage.is_file():
        try:
            report = json.loads(test_run.coverage.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError) as exc:
            notes.append(f"coverage report unreadable: {exc}")
    more, more_notes = coverage_findings(report, root, path, excludes, config)
    if any(f.rule_id == "tests:none-collected" for f in findings):
        more = [f for f in more if f.rule_id != "tests:coverage"]
    return findings + more, notes + more_notes
