"""Test support for gitorch and its plugin authors.

Opt in from a plugin's test suite with ``pytest_plugins = ["gitorch.testing.fixtures"]``; the
loopback model server lives in :mod:`gitorch.testing.model_server`.
"""
