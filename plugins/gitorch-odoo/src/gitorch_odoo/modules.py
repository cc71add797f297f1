"""Odoo modules: a directory holding a ``__manifest__.py``, found under a path of the repository."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = "__manifest__.py"
# A manifest version is "<series>.<x>.<y>.<z>" with the Odoo series first ("19.0.1.2.8"); a bare
# "1.0" carries no series.
_SERIES = re.compile(r"^(\d{1,2}\.\d)\.\d+\.\d+\.\d+")


@dataclass(frozen=True)
class OdooModule:
    """One Odoo module: its technical name, its directory (POSIX, relative to the repository root) and
    what its manifest says (``manifest`` is empty when the manifest does not parse, ``error`` says why)."""

    name: str
    path: str
    manifest: dict = field(default_factory=dict, compare=False, hash=False)
    error: str | None = None

    @property
    def version(self) -> str | None:
        value = self.manifest.get("version")
        return str(value) if value is not None else None

    @property
    def series(self) -> str | None:
        """The Odoo series the manifest declares ("19.0"), or None when its version names none."""
        match = _SERIES.match(self.version or "")
        return match.group(1) if match else None

    @property
    def installable(self) -> bool:
        return bool(self.manifest.get("installable", True))

    def contains(self, file: str) -> bool:
        return file == self.path or file.startswith(self.path.rstrip("/") + "/") or self.path == "."


def read_manifest(path: Path) -> tuple[dict, str | None]:
    """The manifest's dictionary (Odoo reads it with ``ast.literal_eval`` too), or ``({}, reason)``."""
    try:
        data = ast.literal_eval(path.read_text(encoding="utf-8"))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        return {}, f"{MANIFEST} does not parse: {type(exc).__name__}: {exc}"
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"{MANIFEST} cannot be read: {exc}"
    if not isinstance(data, dict):
        return {}, f"{MANIFEST} is not a dictionary"
    return data, None


def module_at(root: Path, directory: Path) -> OdooModule:
    manifest, error = read_manifest(directory / MANIFEST)
    rel = directory.resolve().relative_to(root.resolve()).as_posix() or "."
    name = directory.resolve().name
    return OdooModule(name=name, path=rel, manifest=manifest, error=error)


def find_modules(root: Path, path: str = ".", exclude: list[str] | None = None) -> list[OdooModule]:
    """The Odoo modules under ``root/path`` (hidden and excluded directories skipped), sorted by path.

    When ``path`` lies inside a module (``addons/sale_x/models``), that module is returned.
    """
    root = root.resolve()
    base = (root / path).resolve()
    skip = set(exclude or [])
    enclosing = enclosing_module(root, base)
    if enclosing is not None:
        return [enclosing]
    found: list[OdooModule] = []
    if not base.is_dir():
        return found
    for current, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
        if MANIFEST in files:
            found.append(module_at(root, Path(current)))
            dirs[:] = []  # a module inside a module is not an Odoo module
    return sorted(found, key=lambda m: m.path)


def has_module(root: Path, path: str = ".", exclude: list[str] | None = None) -> bool:
    """Whether there is an Odoo module under ``root/path`` (or ``path`` lies in one): the walk of
    :func:`find_modules`, stopped at the first manifest, no manifest read."""
    root = root.resolve()
    base = (root / path).resolve()
    if not (base == root or root in base.parents):
        return False
    if enclosing_module(root, base) is not None:
        return True
    if not base.is_dir():
        return False
    skip = set(exclude or [])
    for _current, dirs, files in os.walk(base):
        if MANIFEST in files:
            return True
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".")]
    return False


def enclosing_module(root: Path, target: Path) -> OdooModule | None:
    """The module ``target`` (a file or directory) belongs to, or None."""
    root = root.resolve()
    current = target.resolve()
    if current.is_file():
        current = current.parent
    while current == root or root in current.parents:
        if (current / MANIFEST).is_file():
            return module_at(root, current)
        if current == root:
            break
        current = current.parent
    return None


def module_of(modules: list[OdooModule], file: str) -> OdooModule | None:
    """The module of ``file`` (POSIX, relative to the repository root) among ``modules``."""
    best = None
    for module in modules:
        if module.contains(file) and (best is None or len(module.path) > len(best.path)):
            best = module
    return best


def under(file: str, path: str) -> bool:
    """Whether ``file`` lies under ``path`` (both POSIX, relative to the repository root)."""
    if path in (".", ""):
        return True
    return PurePosixPath(file) == PurePosixPath(path) or PurePosixPath(path) in PurePosixPath(file).parents
