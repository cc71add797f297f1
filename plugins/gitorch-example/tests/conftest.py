"""gitorch-example's tests run on gitorch's test kit (the ``gitorch_*`` fixtures come with gitorch, no
opt-in): every test isolated, with gitorch's plugins and this one only, in strict mode."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(gitorch_env):
    """See gitorch.testing.pytest_plugin."""
