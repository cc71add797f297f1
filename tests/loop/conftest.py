"""Fixtures for the fix-loop tests (helpers live in loophelpers.py, stand-in agents in loopfakes.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from loophelpers import make_project  # noqa: E402


@pytest.fixture
def fake_plugins():
    import loopfakes

    from gitorch.plugin.manager import get_plugins

    loopfakes.Fixer.calls = []
    loopfakes.Fixer.contexts = []
    return get_plugins([], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes})


@pytest.fixture
def project(tmp_path):
    def make(rules, name="repo"):
        return make_project(tmp_path / name, rules)

    return make
