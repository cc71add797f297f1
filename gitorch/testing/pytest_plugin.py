"""gitorch's pytest plugin for plugin authors: fixtures to test a gitorch plugin for real.

Installed with gitorch and loaded by pytest automatically (the ``pytest11`` entry point ``gitorch``;
``-p no:gitorch`` turns it off). Because it is loaded in every project whose environment has gitorch,
every fixture is named ``gitorch_*`` (no clash with a project's own ``git_repo`` or ``cli``) and none
is autouse: nothing changes for a test that does not ask for one.

- ``gitorch_env``: isolation — git's global configuration, a commit identity, the user cache directory,
  and the plugins: gitorch's own and those of the project under test (``gitorch_plugins_under_test``),
  in strict mode (a plugin that fails to load is an error, not a warning). Returns the environment for
  subprocesses. Every fixture below uses it.
- ``gitorch_repo``: a real git repository in a temporary directory, one commit, branch ``main``
  (:class:`~gitorch.testing.kit.GitRepo`: ``.path``, ``.write(files)``, ``.commit(files, message)``,
  ``.git(*args)``, ``.head``).
- ``gitorch_cli``: ``gitorch_cli("audit", "--dim", "x", "--format", "json")`` runs the real ``gitorch``
  command in a subprocess (in ``gitorch_repo`` when the test uses it) and returns a
  :class:`~gitorch.testing.kit.GitorchResult` (``.exit_code``, ``.stdout``, ``.stderr``, ``.json()``).
- ``gitorch_plugins``: a fresh plugin manager (:class:`~gitorch.plugin.manager.Plugins`), for in-process
  tests of an agent or a parser.
- ``gitorch_fake_agent``: fake AI coding CLIs (``claude``, ``codex``, ``gemini``, ``copilot``, ``aider``,
  ``opencode``, ``qwen``) speaking the real CLIs' output formats, first on ``PATH``
  (:class:`~gitorch.testing.kit.FakeAgents`).
- ``gitorch_model_server``: the loopback model server real agent CLIs can be pointed at
  (:class:`~gitorch.testing.model_server.ModelServer`), started.
- ``gitorch_plugins_under_test``: the entry-point names isolation keeps loaded; by default those the
  project's ``pyproject.toml`` (the nearest above the test file that declares any) declares in the
  ``gitorch`` group. Override it in a ``conftest.py`` to test with other plugins too.

To isolate every test of a suite, ``pytestmark = pytest.mark.usefixtures("gitorch_env")`` in a module
or an autouse fixture in ``conftest.py`` that requests ``gitorch_env``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gitorch.testing.kit import FakeAgents, GitorchResult, GitRepo, declared_plugins, isolate, run_gitorch

if TYPE_CHECKING:
    from gitorch.plugin.manager import Plugins
    from gitorch.testing.model_server import ModelServer


@pytest.fixture
def gitorch_plugins_under_test(request: pytest.FixtureRequest) -> list[str]:
    """The third-party plugins ``gitorch_env`` keeps loaded: by default the entry points declared in the
    ``gitorch`` group by the nearest ``pyproject.toml`` above the test file that declares any."""
    return declared_plugins(Path(request.path))


@pytest.fixture
def gitorch_env(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    gitorch_plugins_under_test: list[str],
) -> Iterator[dict[str, str]]:
    """Isolate git and gitorch for this test (see the module docstring); the environment, for subprocesses."""
    isolate(
        monkeypatch,
        tmp_path_factory.mktemp("gitorch-home"),
        load_plugins=gitorch_plugins_under_test,
        strict=True,
    )
    yield dict(os.environ)
    from gitorch.cli import reset_app_plugins

    reset_app_plugins()


@pytest.fixture
def gitorch_repo(gitorch_env: dict[str, str], tmp_path: Path) -> GitRepo:
    """A real git repository (``tmp_path/repo``) with one commit, a README, on branch ``main``."""
    return GitRepo.create(tmp_path / "repo")


@pytest.fixture
def gitorch_cli(
    gitorch_env: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[..., GitorchResult]:
    """``gitorch_cli(*args, cwd=None, input=None, timeout=300)``: the real ``gitorch`` command in a
    subprocess; ``cwd`` defaults to ``gitorch_repo`` when the test uses it, else ``tmp_path``."""

    def invoke(*args: str, cwd: Path | str | None = None, input: str | None = None, timeout: float = 300):
        if cwd is None:
            uses_repo = "gitorch_repo" in request.fixturenames
            cwd = request.getfixturevalue("gitorch_repo").path if uses_repo else tmp_path
        return run_gitorch(*args, cwd=cwd, env=os.environ, input=input, timeout=timeout)

    return invoke


@pytest.fixture
def gitorch_plugins(gitorch_env: dict[str, str]) -> Plugins:
    """A fresh plugin manager under ``gitorch_env``: gitorch's plugins and the project's."""
    from gitorch.plugin.manager import get_plugins

    return get_plugins()


@pytest.fixture
def gitorch_fake_agent(
    gitorch_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeAgents:
    """Fake agent CLIs: ``gitorch_fake_agent.install("claude", text="…")``, then run gitorch with
    ``--agent claude``; ``gitorch_fake_agent.dump()`` is what the CLI received."""
    return FakeAgents.create(tmp_path / "fake-agents", monkeypatch)


@pytest.fixture
def gitorch_model_server(gitorch_env: dict[str, str]) -> Iterator[ModelServer]:
    """A started loopback model server (:mod:`gitorch.testing.model_server`): script the model's turns
    with ``gitorch_model_server.script(Reply("…"))``, point a real CLI at it with ``claude_redirect`` and
    its kin, read what it received in ``.agent_requests``."""
    from gitorch.testing.model_server import ModelServer

    with ModelServer() as server:
        yield server
