"""Plugin discovery, the registries of agents, dimensions and parsers, and every hook call.

Every plugin, gitorch's own included, is an entry point in the ``gitorch`` group::

    [project.entry-points.gitorch]
    example = "gitorch_example"

Loading rules, in order (:func:`get_plugins`):

1. ``GITORCH_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point name (first-party ones too), except
   essential ones: a first-party plugin module that says ``ESSENTIAL = True`` (the core cannot work
   without it, pytest's ``essential_plugins``) cannot be blocked, and asking to is a usage error.
2. ``GITORCH_DISABLE_PLUGIN_AUTOLOAD=1`` loads gitorch's own plugins only.
3. ``GITORCH_LOAD_PLUGINS=a,b`` is an allow-list of third-party plugins (by entry-point or
   distribution name); set but empty, it loads no third-party plugin.
4. First-party plugins (those shipped in gitorch's own distribution) are registered first, so
   third-party implementations run first.
5. A plugin that fails to import or implements an unknown hook is skipped and recorded as a
   :class:`LoadFailure`; ``GITORCH_STRICT_PLUGINS=1`` raises :class:`~gitorch.errors.PluginError`.
6. ``GITORCH_TRACE_PLUGINS=1`` prints every hook call on stderr.

Hook calls (:class:`Plugins`) all go through pluggy's hook caller, so an implementation receives only
the arguments it names. Registration hooks and ``gitorch_add_commands`` are called once per plugin
(:meth:`Plugins.callers`): a plugin that raises costs only that plugin, and a name two plugins
register is an error naming both. ``gitorch_process_findings`` is a chain: each plugin receives the
findings the previous one returned.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from gitorch import hookspecs
from gitorch.errors import GitorchError, PluginError, UsageError

if TYPE_CHECKING:
    import typer

    from gitorch.config import Config
    from gitorch.models import AuditResult, Finding
    from gitorch.plugin.agent import Agent
    from gitorch.plugin.dimension import Dimension
    from gitorch.plugin.parser import Parser

GROUP = "gitorch"
CORE_DISTRIBUTION = "gitorch"
REGISTRATION_HOOKS = ("gitorch_agents", "gitorch_dimensions", "gitorch_parsers")
#: Module attribute by which a first-party plugin says the core cannot work without it.
ESSENTIAL_MARK = "ESSENTIAL"


class IncompatiblePlugin(PluginError):
    """A plugin whose distribution declares a range of gitorch versions that excludes the running one."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    first_party: bool
    hooks: tuple[str, ...]
    essential: bool = False
    #: The gitorch versions the plugin's distribution declares (``">=0.1,<0.2"``; ``""`` any; None: none).
    requires_gitorch: str | None = None


@dataclass(frozen=True)
class LoadFailure:
    name: str
    distribution: str
    version: str
    error: str
    requires_gitorch: str | None = None


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

    # Calling hooks -------------------------------------------------------------------------------

    def callers(self, hook_name: str) -> list[tuple[str, pluggy.HookCaller]]:
        """``[(plugin name, hook caller)]`` for the plugins implementing ``hook_name``, in pluggy's order.

        Each caller is pluggy's own (:meth:`~pluggy.PluginManager.subset_hook_caller`) restricted to
        one plugin: its implementation receives only the arguments it names, hook-call monitoring
        (``GITORCH_TRACE_PLUGINS``) sees the call, and an exception belongs to that plugin alone.
        """
        caller = getattr(self.pm.hook, hook_name)
        order = list(dict.fromkeys(impl.plugin for impl in reversed(caller.get_hookimpls())))
        return [
            (
                self.pm.get_name(plugin),
                self.pm.subset_hook_caller(hook_name, remove_plugins=[p for p in order if p is not plugin]),
            )
            for plugin in order
        ]

    def process_findings(self, findings: list[Finding], result: AuditResult, config: Config) -> list[Finding]:
        """Chain ``gitorch_process_findings``: each plugin gets the findings the previous one returned."""
        from gitorch.models import Finding

        findings = list(findings)
        for name, call in self.callers("gitorch_process_findings"):
            try:
                returned = call(findings=list(findings), result=result, config=config)
            except GitorchError:
                raise
            except Exception as exc:  # a plugin's bug must not pass for a clean audit: say whose it is
                raise PluginError(
                    f"plugin {name!r}: gitorch_process_findings failed: {type(exc).__name__}: {exc}"
                ) from exc
            if not returned:  # pluggy drops None: this plugin left the findings as they were
                continue
            new = returned[0]
            if not isinstance(new, list | tuple) or not all(isinstance(f, Finding) for f in new):
                raise PluginError(
                    f"plugin {name!r}: gitorch_process_findings returned {type(new).__name__}, "
                    "not a list of Finding or None"
                )
            findings = list(new)
        return findings

    def add_commands(self, app: typer.Typer) -> None:
        """Let every plugin add its commands; a plugin that raises is reported and skipped."""
        for name, call in self.callers("gitorch_add_commands"):
            try:
                call(app=app)
            except Exception as exc:
                self._hook_failed(name, "gitorch_add_commands", exc)

    def template_dirs(self, root: Path | None) -> list[tuple[str, Path]]:
        """``[(plugin name, directory)]`` from ``gitorch_template_dirs``, in pluggy's order (third-party
        first). A plugin that raises or returns something other than existing directories is reported and
        its templates left out."""
        found: list[tuple[str, Path]] = []
        for name, call in self.callers("gitorch_template_dirs"):
            try:
                returned = []
                for result in call(root=root):
                    if isinstance(result, str | Path) or not isinstance(result, list | tuple):
                        raise PluginError(f"returned {type(result).__name__}, not a list of directories")
                    returned += [Path(d) for d in result]
                missing = [str(d) for d in returned if not d.is_dir()]
                if missing:
                    raise PluginError(f"not a directory: {', '.join(missing)}")
            except Exception as exc:
                self._hook_failed(name, "gitorch_template_dirs", exc)
                continue
            found += [(name, d) for d in returned]
        return found

    def gate_defaults(self) -> dict[str, list[tuple[str, str]]]:
        """``{"confirm.core_files": [(glob, plugin name)], ...}`` from ``gitorch_gate_defaults``, in pluggy's
        order. A plugin that raises or returns an unknown key or anything but lists of strings is reported
        and skipped."""
        from gitorch.config import GATE_GLOBS

        found: dict[str, list[tuple[str, str]]] = {}
        for name, call in self.callers("gitorch_gate_defaults"):
            try:
                mine: dict[str, list[str]] = {}
                for returned in call():
                    if not isinstance(returned, dict):
                        raise PluginError(f"returned {type(returned).__name__}, not a dict of glob lists")
                    for key, globs in returned.items():
                        if key not in GATE_GLOBS:
                            raise PluginError(f"unknown key {key!r} (known: {', '.join(GATE_GLOBS)})")
                        if isinstance(globs, str) or not all(isinstance(g, str) and g for g in globs):
                            raise PluginError(f"{key}: not a list of glob strings")
                        mine.setdefault(key, []).extend(globs)
            except Exception as exc:
                self._hook_failed(name, "gitorch_gate_defaults", exc)
                continue
            for key, globs in mine.items():
                found.setdefault(key, []).extend((glob, name) for glob in globs)
        return found

    def modules(self, root: Path, config: Config) -> list[tuple[str, str]]:
        """``[(plugin name, directory)]`` from ``gitorch_modules``, in pluggy's order: POSIX paths relative
        to ``root``. A plugin that raises or returns anything but existing directories inside ``root`` is
        reported and its modules left out."""
        found: list[tuple[str, str]] = []
        top = root.resolve()
        for name, call in self.callers("gitorch_modules"):
            try:
                mine: list[str] = []
                for returned in call(root=root, config=config):
                    if isinstance(returned, str | Path) or not isinstance(returned, list | tuple):
                        raise PluginError(f"returned {type(returned).__name__}, not a list of directories")
                    for entry in returned:
                        target = (top / str(entry)).resolve()
                        if not isinstance(entry, str | Path) or not target.is_dir():
                            raise PluginError(f"not a directory of the repository: {entry!r}")
                        if target != top and top not in target.parents:
                            raise PluginError(f"outside the repository: {entry!r}")
                        mine.append(target.relative_to(top).as_posix() or ".")
            except Exception as exc:
                self._hook_failed(name, "gitorch_modules", exc)
                continue
            found += [(name, path) for path in mine]
        return found

    # Registries ----------------------------------------------------------------------------------

    def registry(self, hook_name: str) -> dict[str, type]:
        """``{name: class}`` from one registration hook, in pluggy's call order."""
        return {name: cls for name, (cls, _) in self._registry(hook_name).items()}

    def provider(self, hook_name: str, name: str) -> str:
        """The plugin that registered ``name`` on ``hook_name``."""
        return self._registry(hook_name)[name][1]

    def provided_by(self, plugin: str) -> dict[str, list[str]]:
        """What plugin ``plugin`` adds: ``{"agents": [...], "dimensions": [...], "parsers": [...]}``."""
        return {
            hook.removeprefix("gitorch_"): sorted(
                name for name, (_, provider) in self._registry(hook).items() if provider == plugin
            )
            for hook in REGISTRATION_HOOKS
        }

    def _registry(self, hook_name: str) -> dict[str, tuple[type, str]]:
        if hook_name not in self._registries:
            self._registries[hook_name] = self._build(hook_name)
        return self._registries[hook_name]

    def _build(self, hook_name: str) -> dict[str, tuple[type, str]]:
        found: dict[str, tuple[type, str]] = {}
        for plugin_name, call in self.callers(hook_name):
            try:
                classes = [cls for returned in call() for cls in returned]
            except Exception as exc:  # a plugin's bug costs only that plugin, and names it
                self._hook_failed(plugin_name, hook_name, exc)
                continue
            for cls in classes:
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"{plugin_name}: {hook_name} returned {cls!r} without a name")
                if name in found:
                    raise PluginError(
                        f"duplicate name {name!r} from {hook_name}: registered by plugin "
                        f"{found[name][1]!r} and by plugin {plugin_name!r}"
                    )
                found[name] = (cls, plugin_name)
        return found

    def _hook_failed(self, plugin_name: str, hook_name: str, exc: Exception) -> None:
        error = f"{hook_name} failed: {type(exc).__name__}: {exc}"
        if self.strict:
            raise PluginError(f"{plugin_name}: {error}") from exc
        if any(f.name == plugin_name and f.error == error for f in self.failures):
            return  # a hook called for every tree (gitorch_template_dirs) failing the same way again
        info = next((p for p in self.loaded if p.name == plugin_name), None)
        dist, version = (info.distribution, info.version) if info else ("unknown", "unknown")
        self.failures.append(LoadFailure(plugin_name, dist, version, error))
        self.loaded = [p for p in self.loaded if p.name != plugin_name]
        print(f"gitorch: plugin {plugin_name!r} ({dist} {version}) skipped: {error}", file=sys.stderr)

    # Accessors ------------------------------------------------------------------------------------

    def agents(self) -> dict[str, type[Agent]]:
        return self.registry("gitorch_agents")

    def dimensions(self) -> dict[str, type[Dimension]]:
        return self.registry("gitorch_dimensions")

    def parsers(self) -> dict[str, type[Parser]]:
        return self.registry("gitorch_parsers")

    def agent_class(self, name: str) -> type[Agent]:
        return _lookup(self.agents(), "agent", name)

    def dimension(self, name: str) -> Dimension:
        return _lookup(self.dimensions(), "dimension", name)()

    def parser(self, name: str) -> Parser:
        return _lookup(self.parsers(), "parser", name)()

    # Defaults: what plugins declare, never a plugin the core names ---------------------------------

    def default_agents(self, dimension: str | None = None) -> list[str]:
        """The default agents of ``dimension``, in pluggy's call order (third-party first): those whose
        class says ``default = True``, and those whose ``default`` set names the dimension. Without a
        dimension, those that say ``default = True`` only.

        They make up a routing chain the configuration leaves unset (``[routing] audit``/``fix``).
        """
        return [name for name, cls in self.agents().items() if cls.is_default_for(dimension)]

    def contributors(self, dimension: str) -> list[str]:
        """The agents whose class says they add findings to ``dimension``'s audit, in pluggy's order."""
        return [name for name, cls in self.agents().items() if dimension in cls.contributes]

    def default_parser(self, *, required: bool = True) -> Parser | None:
        """The parser for agents' free-text reports: the first, in pluggy's call order, whose class says
        ``default = True`` (an installed third-party parser pre-empts gitorch's own).

        With none declared: :class:`~gitorch.errors.PluginError`, or ``None`` when not ``required``.
        """
        names = [name for name, cls in self.parsers().items() if getattr(cls, "default", False) is True]
        if names:
            return self.parser(names[0])
        if not required:
            return None
        known = ", ".join(sorted(self.parsers())) or "none"
        raise PluginError(
            f"no parser declares itself the default for agents' free-text reports (parsers: {known}); "
            "see `gitorch plugins`"
        )


def _lookup(registry: dict[str, type], kind: str, name: str) -> type:
    if name not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise UsageError(f"unknown {kind} {name!r} (known: {known})")
    return registry[name]


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
    plugins = Plugins(pm, strict=_truthy("GITORCH_STRICT_PLUGINS") if strict is None else strict)
    blocked = set(_env_list("GITORCH_DISABLE_PLUGINS") or [])
    for name in blocked:
        pm.set_blocked(name)
    eps = list(entry_points(group=GROUP)) if entry_points_list is None else entry_points_list
    for name, load, dist, first_party, ep in _candidates(eps, modules or {}):
        if name in blocked:
            if first_party:
                _refuse_if_essential(name, load)
        elif not pm.has_plugin(name):
            requires = None if first_party or ep is None else gitorch_requirement(ep)
            _register(plugins, name, load, dist, first_party=first_party, requires=requires)
    if _truthy("GITORCH_TRACE_PLUGINS"):
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return plugins


def _candidates(
    eps: list[EntryPoint], modules: dict[str, ModuleType | str]
) -> list[tuple[str, Callable[[], Any], tuple[str, str], bool, EntryPoint | None]]:
    """``(name, load, (distribution, version), first_party, entry point)`` in registration order:
    gitorch's own plugins first, then the third-party ones that autoload and the allow-list let through."""
    core = (CORE_DISTRIBUTION, _core_version())
    first = [(name, _loader(module), core, True, None) for name, module in modules.items()]
    first += [(ep.name, ep.load, _dist_of(ep), True, ep) for ep in eps if _is_first_party(ep)]
    if _truthy("GITORCH_DISABLE_PLUGIN_AUTOLOAD"):
        return first
    allowed = _env_list("GITORCH_LOAD_PLUGINS")
    third = [
        (ep.name, ep.load, _dist_of(ep), False, ep)
        for ep in eps
        if not _is_first_party(ep) and (allowed is None or {ep.name, _dist_of(ep)[0]} & set(allowed))
    ]
    return first + third


def gitorch_requirement(ep: EntryPoint) -> str | None:
    """The gitorch versions the entry point's distribution declares it works with (its ``Requires-Dist:
    gitorch (>=x,<y)``, read with ``packaging``): the specifier, ``""`` for any version, None when the
    distribution does not require gitorch (or its metadata cannot be read)."""
    requires = getattr(getattr(ep, "dist", None), "requires", None)
    if not requires:
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for text in requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != CORE_DISTRIBUTION:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # only with an extra (gitorch-x[dev]) or on another platform
        return str(requirement.specifier)
    return None


def _incompatibility(requires: str | None) -> str | None:
    """Why a plugin declaring ``requires`` cannot be loaded by the running gitorch, or None."""
    if not requires:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    running = _core_version()
    try:
        compatible = SpecifierSet(requires).contains(running, prereleases=True)
    except InvalidSpecifier:
        return None
    if compatible:
        return None
    return f"its distribution requires gitorch {requires}, but this is gitorch {running}"


def _is_first_party(ep: EntryPoint) -> bool:
    return _dist_of(ep)[0].lower() == CORE_DISTRIBUTION


def _trace_before(hook: str, impls: list[pluggy.HookImpl], kwargs: dict[str, Any]) -> None:
    names = ", ".join(i.plugin_name for i in impls) or "no plugin"
    print(f"gitorch: hook {hook}({', '.join(kwargs)}) -> {names}", file=sys.stderr)


def _trace_after(
    outcome: pluggy.Result, hook: str, impls: list[pluggy.HookImpl], kwargs: dict[str, Any]
) -> None:
    if outcome.exception is not None:
        print(f"gitorch: hook {hook} raised {type(outcome.exception).__name__}", file=sys.stderr)


def _refuse_if_essential(name: str, load) -> None:
    """Blocking an essential first-party plugin is a usage error (pytest: "plugin x cannot be disabled")."""
    try:
        module = load()
    except Exception:  # a blocked plugin that does not even import is blocked all the more
        return
    if getattr(module, ESSENTIAL_MARK, False) is True:
        raise UsageError(
            f"plugin {name!r} is essential and cannot be disabled: remove it from GITORCH_DISABLE_PLUGINS"
        )


def _loader(module: ModuleType | str) -> Callable[[], ModuleType]:
    return lambda: importlib.import_module(module) if isinstance(module, str) else module


def _core_version() -> str:
    from gitorch import __version__

    return __version__


def _register(
    plugins: Plugins,
    name: str,
    load,
    dist: tuple[str, str],
    *,
    first_party: bool,
    requires: str | None = None,
) -> None:
    pm = plugins.pm
    try:
        refused = _incompatibility(requires)
        if refused is not None:  # NOTE: checked before import: code written for another gitorch never runs
            raise IncompatiblePlugin(refused)
        module = load()
        pm.register(module, name=name)
        unknown = [caller.name for caller in (pm.get_hookcallers(module) or []) if not caller.has_spec()]
        if unknown:
            pm.unregister(module)
            raise PluginError(f"implements unknown hook(s) {', '.join(sorted(unknown))}")
    except Exception as exc:
        if pm.has_plugin(name):
            pm.unregister(name=name)
        failure = LoadFailure(name, dist[0], dist[1], f"{type(exc).__name__}: {exc}", requires)
        if plugins.strict:
            raise PluginError(
                f"plugin {name!r} ({dist[0]} {dist[1]}) failed to load: {failure.error}"
            ) from exc
        plugins.failures.append(failure)
        print(f"gitorch: plugin {name!r} ({dist[0]} {dist[1]}) skipped: {failure.error}", file=sys.stderr)
        return
    hooks = tuple(sorted(caller.name for caller in (pm.get_hookcallers(module) or [])))
    essential = first_party and getattr(module, ESSENTIAL_MARK, False) is True
    module_name = getattr(module, "__name__", repr(module))
    plugins.loaded.append(
        PluginInfo(name, dist[0], dist[1], module_name, first_party, hooks, essential, requires)
    )
