"""Plugin discovery and the registries of agents, dimensions and parsers.

Every plugin, gitorch's own included, is an entry point in the ``gitorch`` group::

    [project.entry-points.gitorch]
    example = "gitorch_example"

Rules, in order:

1. ``GITORCH_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point name (first-party ones too).
2. ``GITORCH_DISABLE_PLUGIN_AUTOLOAD=1`` loads gitorch's own plugins only.
3. ``GITORCH_LOAD_PLUGINS=a,b`` is an allow-list of third-party plugins (by entry-point or
   distribution name); set but empty, it loads no third-party plugin.
4. First-party plugins (those shipped in gitorch's own distribution) are registered first, so
   third-party implementations run first.
5. A plugin that fails to import or implements an unknown hook is skipped and recorded as a
   :class:`LoadFailure`; ``GITORCH_STRICT_PLUGINS=1`` raises :class:`~gitorch.errors.PluginError`.
6. Two plugins registering the same agent, dimension or parser name is an error naming both.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from gitorch import hookspecs
from gitorch.errors import PluginError, UsageError

GROUP = "gitorch"
CORE_DISTRIBUTION = "gitorch"
REGISTRATION_HOOKS = ("gitorch_agents", "gitorch_dimensions", "gitorch_parsers")


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    first_party: bool
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class LoadFailure:
    name: str
    distribution: str
    version: str
    error: str


@dataclass
class Plugins:
    """A plugin manager plus what was loaded, what failed, and the registries built from the hooks."""

    pm: pluggy.PluginManager
    strict: bool = False
    loaded: list[PluginInfo] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    _registries: dict[str, dict[str, tuple[type, str]]] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def registry(self, hook_name: str) -> dict[str, type]:
        """``{name: class}`` from one registration hook, in pluggy's call order."""
        return {name: cls for name, (cls, _) in self._registry(hook_name).items()}

    def provider(self, hook_name: str, name: str) -> str:
        """The plugin that registered ``name`` on ``hook_name``."""
        return self._registry(hook_name)[name][1]

    def _registry(self, hook_name: str) -> dict[str, tuple[type, str]]:
        if hook_name not in self._registries:
            self._registries[hook_name] = self._build(hook_name)
        return self._registries[hook_name]

    def _build(self, hook_name: str) -> dict[str, tuple[type, str]]:
        caller = getattr(self.pm.hook, hook_name)
        found: dict[str, tuple[type, str]] = {}
        for impl in reversed(caller.get_hookimpls()):
            try:
                classes = list(impl.function() or [])
            except Exception as exc:  # a plugin's bug costs only that plugin, and names it
                message = f"{impl.plugin_name}: {hook_name} failed: {type(exc).__name__}: {exc}"
                if self.strict:
                    raise PluginError(message) from exc
                self._fail(impl.plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}")
                continue
            for cls in classes:
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"{impl.plugin_name}: {hook_name} returned {cls!r} without a name")
                if name in found:
                    raise PluginError(
                        f"duplicate name {name!r} from {hook_name}: registered by plugin "
                        f"{found[name][1]!r} and by plugin {impl.plugin_name!r}"
                    )
                found[name] = (cls, impl.plugin_name)
        return found

    def _fail(self, plugin_name: str, error: str) -> None:
        info = next((p for p in self.loaded if p.name == plugin_name), None)
        dist, version = (info.distribution, info.version) if info else ("unknown", "unknown")
        self.failures.append(LoadFailure(plugin_name, dist, version, error))
        self.loaded = [p for p in self.loaded if p.name != plugin_name]
        print(f"gitorch: plugin {plugin_name!r} ({dist} {version}) skipped: {error}", file=sys.stderr)

    # Convenience accessors -----------------------------------------------------------------------

    def agents(self) -> dict[str, type]:
        return self.registry("gitorch_agents")

    def dimensions(self) -> dict[str, type]:
        return self.registry("gitorch_dimensions")

    def parsers(self) -> dict[str, type]:
        return self.registry("gitorch_parsers")

    def agent_class(self, name: str) -> type:
        agents = self.agents()
        if name not in agents:
            known = ", ".join(sorted(agents)) or "none"
            raise UsageError(f"unknown agent {name!r} (known: {known})")
        return agents[name]

    def dimension(self, name: str) -> Any:
        dims = self.dimensions()
        if name not in dims:
            known = ", ".join(sorted(dims)) or "none"
            raise UsageError(f"unknown dimension {name!r} (known: {known})")
        return dims[name]()

    def parser(self, name: str) -> Any:
        parsers = self.parsers()
        if name not in parsers:
            known = ", ".join(sorted(parsers)) or "none"
            raise UsageError(f"unknown parser {name!r} (known: {known})")
        return parsers[name]()


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("unknown", "unknown")
    return (dist.metadata["Name"] or "unknown", dist.version or "unknown")


def get_plugins(
    entry_points_list: list[EntryPoint] | None = None,
    *,
    modules: dict[str, ModuleType | str] | None = None,
    strict: bool | None = None,
) -> Plugins:
    """Build a fresh plugin manager.

    ``entry_points_list`` replaces discovery (tests); ``modules`` registers extra plugin modules (or
    dotted names) directly as first-party, for full isolation in tests.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    strict = _truthy("GITORCH_STRICT_PLUGINS") if strict is None else strict
    plugins = Plugins(pm, strict=strict)
    blocked = set(_env_list("GITORCH_DISABLE_PLUGINS") or [])
    allowed = _env_list("GITORCH_LOAD_PLUGINS")
    no_autoload = _truthy("GITORCH_DISABLE_PLUGIN_AUTOLOAD")
    for name in blocked:
        pm.set_blocked(name)

    eps = list(entry_points(group=GROUP)) if entry_points_list is None else entry_points_list
    first = [ep for ep in eps if _dist_of(ep)[0].lower() == CORE_DISTRIBUTION]
    third = [ep for ep in eps if _dist_of(ep)[0].lower() != CORE_DISTRIBUTION]

    for name, module in (modules or {}).items():
        if name in blocked:
            continue
        _register(
            plugins,
            name,
            lambda m=module: importlib.import_module(m) if isinstance(m, str) else m,
            (CORE_DISTRIBUTION, _core_version()),
            first_party=True,
            strict=strict,
        )
    for ep in first:
        if ep.name in blocked or pm.has_plugin(ep.name):
            continue
        _register(plugins, ep.name, ep.load, _dist_of(ep), first_party=True, strict=strict)
    for ep in third:
        dist_name, _ = _dist_of(ep)
        if ep.name in blocked or pm.has_plugin(ep.name) or no_autoload:
            continue
        if allowed is not None and ep.name not in allowed and dist_name not in allowed:
            continue
        _register(plugins, ep.name, ep.load, _dist_of(ep), first_party=False, strict=strict)

    if _truthy("GITORCH_TRACE_PLUGINS"):
        pm.add_hookcall_monitoring(
            lambda hook, impls, kw: print(
                f"gitorch: hook {hook} -> {[i.plugin_name for i in impls]}", file=sys.stderr
            ),
            lambda outcome, hook, impls, kw: None,
        )
    return plugins


def _core_version() -> str:
    from gitorch import __version__

    return __version__


def _register(
    plugins: Plugins, name: str, load, dist: tuple[str, str], *, first_party: bool, strict: bool
) -> None:
    pm = plugins.pm
    try:
        module = load()
        pm.register(module, name=name)
        unknown = [caller.name for caller in (pm.get_hookcallers(module) or []) if not caller.has_spec()]
        if unknown:
            pm.unregister(module)
            raise PluginError(f"implements unknown hook(s) {', '.join(sorted(unknown))}")
    except Exception as exc:
        if pm.has_plugin(name):
            pm.unregister(name=name)
        failure = LoadFailure(name, dist[0], dist[1], f"{type(exc).__name__}: {exc}")
        if strict:
            raise PluginError(
                f"plugin {name!r} ({dist[0]} {dist[1]}) failed to load: {failure.error}"
            ) from exc
        plugins.failures.append(failure)
        print(f"gitorch: plugin {name!r} ({dist[0]} {dist[1]}) skipped: {failure.error}", file=sys.stderr)
        return
    hooks = tuple(sorted(caller.name for caller in (pm.get_hookcallers(module) or [])))
    plugins.loaded.append(
        PluginInfo(name, dist[0], dist[1], getattr(module, "__name__", repr(module)), first_party, hooks)
    )
