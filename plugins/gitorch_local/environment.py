"""The project's environment as the fix loop sees it (:class:`gitorch.plugin.checks.ProjectEnvironment`):
the test command in the project's own interpreter, the cheap gate (touched modules still compile and
import), and the coverage of the files the fixes touch."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Collection
from pathlib import Path

from gitorch.config import Config
from gitorch.plugin.checks import FileCoverage, ModuleProblem, ProjectEnvironment
from gitorch_local import project_env, tests_audit
from gitorch_local.project_env import ProjectEnv

IMPORT_TIMEOUT_S = 60.0


class LocalProjectEnvironment(ProjectEnvironment):
    """Found in the user's checkout by :func:`gitorch_local.project_env.find_project_env`.

    NOTE: when the project's environment is not found, the import half of the cheap gate runs in
    gitorch's own interpreter: only modules that imported there before the change count (a module that
    needs the project's uninstalled dependencies fails before and after), so it can miss a break but
    never blames one on a change. Through ``command_prefix`` (a container, whose paths differ) modules
    are compiled only.
    """

    def __init__(self, checkout: Path, config: Config) -> None:
        self.checkout = checkout
        self.env = project_env.find_project_env(checkout, config)
        self.found = self.env.found
        self.missing = self.env.missing
        if self.env.source == "command_prefix":
            self.probe = ProjectEnv(None, "command_prefix")
            prefix = shlex.join(self.env.prefix)
            self.description = f"command_prefix `{prefix}` (modules compiled, not imported)"
        elif self.env.found:
            self.probe = self.env
            self.description = f"the project's {self.env.source} ({self.env.python})"
        else:
            self.probe = ProjectEnv(sys.executable, "gitorch")
            self.description = (f"none found; modules are imported with gitorch's Python ({sys.executable}), "
                                "where the project's dependencies may be missing")

    def test_command(self) -> str | None:
        command = self.env.test_command()
        if command is None:
            return None
        # NOTE: the worktree's modules first on the path: an editable install of the project in its
        # virtualenv would otherwise make the tests import the user's checkout instead of the attempt.
        paths = "{worktree}/src:{worktree}" if (self.checkout / "src").is_dir() else "{worktree}"
        return f"env PYTHONPATH={paths} {command}"

    def broken_modules(self, root: Path, files: Collection[str], *, base: str) -> list[ModuleProblem]:
        python = [f for f in files if f.endswith(".py")]
        if not python:
            return []
        checks = project_env.broken_modules(root, python, self.probe, base=base, timeout=IMPORT_TIMEOUT_S)
        return [
            ModuleProblem(
                c.file,
                f"no longer compiles ({c.error})" if not c.compiles else f"no longer imports ({c.error})",
                c.missing,
            )
            for c in checks
        ]

    def coverage(
        self, root: Path, command: str, files: Collection[str], *, config: Config, timeout: float
    ) -> tuple[dict[str, FileCoverage] | None, str]:
        settings = config.model_copy(deep=True)
        settings.tests.command = command.replace("{worktree}", str(root))
        planned = tests_audit.plan(settings, ".", coverage=True)
        try:
            done = tests_audit.execute(planned, root, timeout)
            if tests_audit.lacks_pytest_cov(done):
                return None, "pytest-cov is not installed where the tests run"
            if done.timed_out:
                return None, f"the run under coverage did not finish in {timeout:g}s"
            try:
                report = json.loads(planned.coverage.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                return None, "the test run wrote no coverage report"
        finally:
            shutil.rmtree(planned.workdir, ignore_errors=True)
        reported = report.get("files") or {}
        measured = {Path(k).as_posix(): v.get("summary") or {} for k, v in reported.items()}
        found = {}
        for file in files:
            if file in measured:
                summary = measured[file]
                found[file] = FileCoverage(summary.get("num_statements", 0), summary.get("covered_lines", 0))
        return found, ""
