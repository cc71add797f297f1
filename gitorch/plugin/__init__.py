"""The plugin side of gitorch: what a plugin implements, and the machinery that loads and calls plugins.

- :mod:`gitorch.plugin.agent`, :mod:`gitorch.plugin.dimension`, :mod:`gitorch.plugin.parser`: one
  interface module per plugin kind (the base classes plugins subclass, hatch's ``interface.py``);
- :mod:`gitorch.plugin.manager`: discovery through entry points, the allow/block lists and essential
  plugins, the registries, the defaults plugins declare, and every hook call.

The contract itself is :mod:`gitorch.hookspecs`; plugins import what they need from :mod:`gitorch`.
"""

from __future__ import annotations

from gitorch.plugin.manager import LoadFailure, PluginInfo, Plugins, get_plugins

__all__ = ["LoadFailure", "PluginInfo", "Plugins", "get_plugins"]
