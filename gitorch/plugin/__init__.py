"""The plugin machinery: discovery through entry points, the allow and block lists, the registries.

The contract itself is :mod:`gitorch.hookspecs`; plugins import what they need from :mod:`gitorch`.
"""

from __future__ import annotations

from gitorch.plugin.manager import LoadFailure, PluginInfo, Plugins, get_plugins

__all__ = ["LoadFailure", "PluginInfo", "Plugins", "get_plugins"]
