"""Fixtures of gitorch-odoo's tests (helpers and fixture modules live in odoohelpers.py).

The OCA checks and the real modules come from ``.ci/install-odoo`` (``.ci/.odoo-tools`` and
``.ci/.odoo-addons``, or ``GITORCH_ODOO_TOOLS`` / ``GITORCH_ODOO_ADDONS``); a test that needs one that is
missing is skipped with the reason. Without the plugin installed, only ``test_odoo_installed.py`` is
collected, and it is skipped with the command that installs the plugin.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from odoohelpers import SETUP_HINT, TOOLS, tools_bin  # noqa: E402

pytest_plugins = ["gitorch.testing.fixtures"]

if importlib.util.find_spec("gitorch_odoo") is None:
    collect_ignore_glob = ["test_odoo_[!i]*.py"]


@pytest.fixture
def oca_bin() -> Path:
    found = tools_bin()
    if found is None:
        pytest.skip(f"the OCA checks are not installed in {TOOLS} ({SETUP_HINT})")
    return found


@pytest.fixture
def odoo_env(monkeypatch, oca_bin) -> dict[str, str]:
    """gitorch-odoo loaded, the OCA checks on PATH; the environment for subprocesses too."""
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "odoo")
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), str(oca_bin), os.environ.get("PATH", "")])
    )
    return dict(os.environ)
