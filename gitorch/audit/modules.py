"""The modules of a repository: the parts ``gitorch plan`` splits it into.

Three sources, the first that says anything wins:

1. ``[[modules]]`` in the configuration (exactly those, in that order);
2. the modules plugins recognise (``gitorch_modules``: gitorch-odoo's Odoo modules), together with
3. Python packages: the outermost directories holding an ``__init__.py`` (a package's sub-packages are
   part of it), outside the hidden and excluded directories.

NOTE: where a plugin's module and a Python package nest, the plugin's wins: a package that holds plugin
modules is replaced by them (so ``odoo/addons/*`` splits per Odoo module), and a package inside a plugin
module is part of it. A repository with none of these is one module, its root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gitorch.audit.discovery import LANGUAGES, excluded_dir, iter_source_files
from gitorch.config import Config
from gitorch.errors import ConfigError, UsageError
from gitorch.plugin.manager import Plugins


@dataclass(frozen=True)
class Module:
    """A part of the repository audited and fixed as a unit: its name, its directory (POSIX, relative to
    the root) and where it was found (``configured``, ``python``, ``root`` or a plugin's name)."""

    name: str
    path: str
    kind: str
    dimensions: tuple[str, ...] | None = None

    def contains(self, path: str) -> bool:
        return self.path == "." or path == self.path or path.startswith(self.path + "/")


def find_modules(root: Path, config: Config, plugins: Plugins) -> list[Module]:
    """The repository's modules, sorted by path (configured ones in their order)."""
    root = root.resolve()
    if config.modules is not None:
        return _configured(root, config)
    found = {path: Module(_name(root, path), path, kind) for kind, path in plugins.modules(root, config)}
    plugin_paths = sorted(found)
    for path in python_packages(root, config.exclude):
        inside_plugin_module = any(_nested(path, outer) for outer in plugin_paths)
        holds_plugin_module = any(_nested(inner, path) for inner in plugin_paths)
        if path not in found and not inside_plugin_module and not holds_plugin_module:
            found[path] = Module(_name(root, path), path, "python")
    outermost = [m for m in found.values() if not any(_nested(m.path, o) for o in found if o != m.path)]
    if not outermost:
        return [Module(root.name, ".", "root")]
    names = [m.name for m in outermost]
    unique = [m if names.count(m.name) == 1 else Module(m.path, m.path, m.kind) for m in outermost]
    return sorted(unique, key=lambda m: m.path)


def rest_of(root: Path, modules: list[Module], exclude: list[str]) -> list[Module]:
    """The source outside every module, as modules of kind ``rest``: each file beside a module, and each
    directory that holds source but no module (named by their paths)."""
    root = root.resolve()
    paths = {m.path for m in modules}
    if "." in paths:
        return []
    return [Module(path, path, "rest") for path in _rest(root, ".", paths, exclude)]


def _rest(root: Path, rel_dir: str, modules: set[str], exclude: list[str]) -> list[str]:
    found: list[str] = []
    with os.scandir(root / rel_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            rel = entry.name if rel_dir == "." else f"{rel_dir}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith(".") or excluded_dir(rel, exclude) or rel in modules:
                    continue
                if any(m.startswith(rel + "/") for m in modules):
                    found += _rest(root, rel, modules, exclude)
                elif iter_source_files(root, rel, exclude):
                    found.append(rel)
            elif Path(entry.name).suffix in LANGUAGES and entry.is_file():
                found.append(rel)
    return found


def find_module(root: Path, config: Config, plugins: Plugins, wanted: str) -> Module:
    """The module named ``wanted``, or whose path it is; a usage error naming the known ones otherwise."""
    modules = find_modules(root, config, plugins)
    modules += rest_of(root, modules, config.exclude)
    clean = wanted.strip().rstrip("/") or "."
    for module in modules:
        if clean in (module.path, module.name):
            return module
    known = ", ".join(m.name if m.name == m.path else f"{m.name} ({m.path})" for m in modules)
    raise UsageError(f"no module {wanted!r} in {root} (modules: {known}; see gitorch plan)")


def python_packages(root: Path, exclude: list[str]) -> list[str]:
    """The outermost Python packages under ``root``: directories with an ``__init__.py`` whose parent has
    none (a package's sub-packages are part of it)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).relative_to(root).as_posix()
        if here != "." and "__init__.py" in filenames:
            found.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and not excluded_dir(d if here == "." else f"{here}/{d}", exclude)
        )
    return sorted(found)


def _configured(root: Path, config: Config) -> list[Module]:
    modules: list[Module] = []
    where = f"{config.source or 'configuration'}: modules"
    for spec in config.modules or []:
        target = (root / spec.path).resolve()
        if target != root and root not in target.parents:
            raise ConfigError(f"{where}: {spec.path!r} is outside the repository")
        if not target.is_dir():
            raise ConfigError(f"{where}: {spec.path!r} is not a directory of the repository")
        path = target.relative_to(root).as_posix() or "."
        dims = tuple(spec.dimensions) if spec.dimensions is not None else None
        modules.append(Module(spec.name or _name(root, path), path, "configured", dims))
    names = [m.name for m in modules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: two modules are named {twice[0]!r} (give each a name)")
    return modules


def _name(root: Path, path: str) -> str:
    return root.name if path == "." else path.rsplit("/", 1)[-1]


def _nested(inner: str, outer: str) -> bool:
    """Whether ``inner`` lies strictly inside ``outer``."""
    return inner != outer and (outer == "." or inner.startswith(outer + "/"))
