"""Says, as a skip with the command to run, when gitorch-odoo is not installed (the other tests of this
folder are then not collected: see conftest.py)."""

from __future__ import annotations

import pytest


def test_the_plugin_is_installed_and_registered():
    pytest.importorskip(
        "gitorch_odoo", reason="gitorch-odoo is not installed: pip install -e plugins/gitorch-odoo"
    )
    from importlib.metadata import entry_points

    assert [ep.value for ep in entry_points(group="gitorch") if ep.name == "odoo"] == ["gitorch_odoo"]
