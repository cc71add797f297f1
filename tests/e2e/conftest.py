"""Fixtures for the end-to-end tests that run the real agent CLIs against the loopback model server.

The CLIs come from ``.ci/install-agent-clis`` (npm prefix ``.ci/.npm-agents``), from the directory
named by ``GITORCH_AGENT_CLIS_BIN``, or from ``PATH``. A test that needs a CLI that is not installed
is skipped with a reason naming it.

Every run gets a fresh ``HOME`` in a temporary directory, a minimal environment, stdin closed, a real
git repository as its working directory, a timeout, and its own process group, killed on timeout.
Each run carries a unique marker in its environment so that a test can prove no process of that run
survived (:func:`leftover_processes`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitorch.testing.kit import processes_with_env, wait_for_no_process
from gitorch.testing.model_server import (
    ModelServer,
    Redirect,
    minimal_env,
    model_server_fixture,
    redirect_for,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NPM_BIN = REPO_ROOT / ".ci" / ".npm-agents" / "node_modules" / ".bin"
MARKER_VAR = "GITORCH_E2E_RUN"
CLIS = ("claude", "codex", "gemini", "qwen")

model_server = model_server_fixture()


def agent_bin_dirs() -> list[Path]:
    """Where the e2e tests look for the agent CLIs, in order (PATH comes after these)."""
    dirs = []
    if os.environ.get("GITORCH_AGENT_CLIS_BIN"):
        dirs.append(Path(os.environ["GITORCH_AGENT_CLIS_BIN"]))
    dirs.append(NPM_BIN)
    return dirs


def find_cli(name: str) -> str | None:
    """The executable of agent CLI ``name``, or None when it is not installed."""
    for directory in agent_bin_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def require_cli(name: str) -> str:
    """The executable of ``name``, or skip the test with a reason naming the missing CLI."""
    path = find_cli(name)
    if path is None:
        pytest.skip(
            f"agent CLI {name!r} is not installed (run .ci/install-agent-clis, "
            f"or put {name!r} on PATH / in GITORCH_AGENT_CLIS_BIN)"
        )
    return path


@dataclass
class Run:
    """The outcome of one CLI process."""

    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    marker: str
    leftovers: list[int] = field(default_factory=list)


def leftover_processes(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries ``MARKER_VAR=marker``."""
    return processes_with_env(MARKER_VAR, marker)


@dataclass
class Sandbox:
    """A fresh HOME and a real git repository for one CLI run."""

    root: Path
    home: Path
    repo: Path

    def env(self, redirect: Redirect | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Minimal environment with this sandbox's HOME, the agent bin dirs first on PATH."""
        path = os.pathsep.join([*map(str, agent_bin_dirs()), "/usr/local/bin", "/usr/bin", "/bin"])
        env = minimal_env(self.home, path=path)
        if redirect is not None:
            env.update(redirect.env)
        env.update(extra or {})
        return env

    def git(self, *args: str) -> str:
        """Run git in the repository and return its stdout."""
        return subprocess.run(
            ["git", *args], cwd=self.repo, check=True, capture_output=True, text=True
        ).stdout

    def run(self, argv: Sequence[str], env: Mapping[str, str], *, timeout: float = 60.0) -> Run:
        """Run ``argv`` in the repository: stdin closed, own process group, killed on timeout.

        After the run every process of the group is gone (SIGKILL to the group on timeout), and
        ``leftovers`` lists any process of the run (found by its environment marker) still alive.
        """
        marker = uuid.uuid4().hex
        full_env = {**env, MARKER_VAR: marker}
        started = time.monotonic()
        proc = subprocess.Popen(
            list(argv),
            cwd=self.repo,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            stdout, stderr = proc.communicate()
        finally:
            if proc.poll() is None:
                _kill_group(proc.pid)
                proc.wait()
        # Children that outlived their leader in the same group (native binaries behind node shims).
        _kill_group(proc.pid)
        leftovers = _wait_gone(marker, 5.0)
        return Run(
            argv=list(argv),
            returncode=proc.returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            duration=time.monotonic() - started,
            marker=marker,
            leftovers=leftovers,
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_gone(marker: str, timeout: float) -> list[int]:
    return wait_for_no_process(MARKER_VAR, marker, timeout)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    """A fresh HOME and a git repository with one commit (``app.py``, ``tests/test_app.py``)."""
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    repo = tmp_path / "repo"
    repo.mkdir()
    box = Sandbox(root=tmp_path, home=home, repo=repo)
    (repo / "app.py").write_text("def answer():\n    return 41\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_app.py").write_text(
        "from app import answer\n\n\ndef test_answer():\n    assert answer() == 42\n"
    )
    box.git("init", "-q", "-b", "main")
    box.git("add", ".")
    box.git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "init")
    return box


@pytest.fixture
def point(sandbox: Sandbox, model_server: ModelServer):
    """``point("claude")`` → the :class:`Redirect` pointing that CLI at this test's model server."""

    def make(cli: str) -> Redirect:
        return redirect_for(cli, model_server, sandbox.home)

    return make
