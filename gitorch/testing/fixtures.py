"""gitorch's own test fixtures, opt-in: ``pytest_plugins = ["gitorch.testing.fixtures"]``.

gitorch's suite (and gitorch-odoo's) use these short names; plugin authors get the same pieces as
``gitorch_*`` fixtures without asking (:mod:`gitorch.testing.pytest_plugin`), which is what
docs/plugins.md describes. Opting in here makes ``gitorch_isolated`` autouse for the whole suite.

- ``gitorch_isolated`` (autouse): third-party plugins off, git isolated from the machine's config.
- ``git_repo``: a real repository in a temporary directory with one commit (a gitpython ``Repo``).
- ``commit(repo, files, message)``: write files and commit them.
- ``cli``: invoke the ``gitorch`` command line in-process (typer's CliRunner), exceptions not swallowed.
- ``fake_ai``: write an executable into a ``bin`` directory put first on ``PATH``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gitorch.testing.kit import isolate, write_executable


@pytest.fixture(autouse=True)
def gitorch_isolated(tmp_path_factory, monkeypatch):
    """Tests see first-party plugins only; a test opts in by setting GITORCH_LOAD_PLUGINS itself."""
    isolate(monkeypatch, tmp_path_factory.mktemp("gitconfig"), load_plugins=[], strict=False)
    yield
    from gitorch.cli import reset_app_plugins

    reset_app_plugins()


def commit(repo, files: dict[str, str], message: str = "change"):
    """Write ``files`` (path → text) into ``repo``'s working tree and commit them."""
    root = Path(repo.working_tree_dir)
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    repo.git.add(*files)
    repo.index.commit(message)
    return repo.head.commit


@pytest.fixture
def git_repo(tmp_path):
    """A real git repository with one commit (a README), branch ``main``."""
    import git

    repo = git.Repo.init(tmp_path / "repo", initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test").set_value("user", "email", "test@example.com")
    commit(repo, {"README.md": "# test\n"}, "root")
    return repo


@pytest.fixture
def cli():
    """``cli("audit", "--dim", "security")`` → typer's Result (``.exit_code``, ``.stdout``, ``.stderr``)."""
    from typer.testing import CliRunner

    from gitorch.cli import app, reset_app_plugins

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        reset_app_plugins()
        return runner.invoke(app, list(args), catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def fake_ai(tmp_path, monkeypatch) -> Callable[[str, str], Path]:
    """``fake_ai("claude", script)`` writes an executable ``bin/claude``, first on PATH; returns its path."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return lambda name, script: write_executable(bindir, name, script)
