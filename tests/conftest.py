"""Shared fixtures: see gitorch/testing/fixtures.py (also offered to plugin authors)."""

pytest_plugins = ["gitorch.testing.fixtures"]
