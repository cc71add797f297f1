"""Fixtures of the fault suite: a hostile repository (a user with a repository in every state gitorch
must leave alone), in both containment modes. The helpers are in ``reachkit.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from reachkit import MODES, Probe, User, hostile_repository  # noqa: E402


@pytest.fixture(params=MODES)
def mode(request) -> str:
    """``sandbox`` (bubblewrap) or ``fallback`` (bubblewrap unavailable: gitorch's guard)."""
    if request.param == "sandbox":
        from gitorch.process.sandbox import bubblewrap_problem, bwrap_executable

        problem = bubblewrap_problem(bwrap_executable())
        if problem:
            pytest.fail(f"the sandbox probes need bubblewrap (.ci/run installs it): {problem}")
    return request.param


@pytest.fixture
def user(tmp_path) -> User:
    """A user with a hostile-trial repository (see ``reachkit.hostile_repository``)."""
    return hostile_repository(tmp_path)


@pytest.fixture
def probe(user, mode, tmp_path):
    """``probe("name")``: a :class:`reachkit.Probe` of that hostile behaviour, in this test's mode."""

    def make(name: str) -> Probe:
        return Probe(user, name, mode, tmp_path)

    return make
