"""Fixtures for the local agent: real small projects in real git repositories, real analyzers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gitorch_local.agent import LocalAgent

from gitorch.config import Config
from gitorch.models import AuditRequest, AuditResult, Dimension, Finding, FixRequest, FixResult
from gitorch.testing.fixtures import commit

DATA = Path(__file__).parent / "data"


def dimension(name: str) -> type[Dimension]:
    return type(f"Dim_{name}", (Dimension,), {"name": name})


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(git_repo) -> Callable[..., Path]:
    """``project({"app.py": "..."})`` writes and commits files; returns the repository root."""

    def make(files: dict[str, str], message: str = "change") -> Path:
        commit(git_repo, files, message)
        return Path(git_repo.working_tree_dir)

    return make


@pytest.fixture
def audit() -> Callable[..., AuditResult]:
    """``audit(root, "security", config=..., options=..., path=".")`` with the real analyzers."""

    def run(root: Path, dim: str, *, config: Config | None = None, options: dict[str, Any] | None = None,
            path: str = ".", dry_run: bool = False, progress: list[str] | None = None) -> AuditResult:
        agent = LocalAgent(LocalAgent.Options.model_validate(options or {}))
        request = AuditRequest(root=root, dimension=dimension(dim), config=config or Config(), path=path,
                               dry_run=dry_run, progress=progress.append if progress is not None else None)
        return agent.audit(request)

    return run


@pytest.fixture
def fix() -> Callable[..., FixResult]:
    def run(root: Path, finding: Finding, *, config: Config | None = None,
            options: dict[str, Any] | None = None) -> FixResult:
        agent = LocalAgent(LocalAgent.Options.model_validate(options or {}))
        return agent.fix(FixRequest(root=root, finding=finding, config=config or Config()))

    return run


def by_rule(result: AuditResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule]


PYTHON = sys.executable
