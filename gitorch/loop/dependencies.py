"""The dependency gate: an attempt that adds (or changes) a package the project depends on asks a human
first, naming the package; a new import of a package the change does not declare breaks the cheap gate.

A dependency is read from the files Python projects declare them in, with ``packaging`` for the
requirement strings and ``tomllib``/``configparser`` for the files: ``requirements*.txt`` and
``requirements/*.txt`` (and ``.in``), ``pyproject.toml`` (PEP 621 dependencies and extras, PEP 735
dependency groups, Poetry's tables), ``Pipfile``, ``setup.cfg``. ``setup.py`` is code: any change to it
asks. So does a change to a lock file.
"""

from __future__ import annotations

import configparser
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from gitorch.loop.gates import GateHit
from gitorch.vcs.diff import DiffStats

LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock")
DECLARING = ("pyproject.toml", "Pipfile", "setup.cfg")
Texts = Callable[[str], tuple[str | None, str | None]]  # path -> (text before, text after)


@dataclass(frozen=True)
class DependencyChange:
    """One package the change adds or whose requirement it changes, in ``file``."""

    file: str
    name: str  # canonical (PEP 503) name
    requirement: str  # as written after the change
    before: str | None = None  # as written before (None: new)

    @property
    def import_name(self) -> str:
        """The module name such a package is usually imported as (``flask-wtf`` → ``flask_wtf``)."""
        return self.name.replace("-", "_")

    def describe(self) -> str:
        if self.before is None:
            return f"adds the dependency {self.requirement} ({self.file})"
        return f"changes the dependency {self.before} → {self.requirement} ({self.file})"


def is_requirements_file(path: str) -> bool:
    p = PurePosixPath(path)
    in_folder = p.parent.name == "requirements" and p.suffix in (".txt", ".in")
    return in_folder or (p.name.startswith("requirements") and p.suffix in (".txt", ".in"))


def _requirements(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments, -r/-c/-e and other pip options
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        found[canonicalize_name(req.name)] = str(req)
    return found


def _toml(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _pyproject(text: str) -> dict[str, str]:
    data = _toml(text)
    project = data.get("project") or {}
    strings = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        strings += list(extra or [])
    for group in (data.get("dependency-groups") or {}).values():
        strings += [s for s in group or [] if isinstance(s, str)]
    found = _requirements(strings)
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
    for table in tables:
        for name, spec in table.items():
            if name.lower() != "python":
                found[canonicalize_name(name)] = f"{name} {spec}".strip()
    return found


def _pipfile(text: str) -> dict[str, str]:
    data = _toml(text)
    found = {}
    for table in ("packages", "dev-packages"):
        for name, spec in (data.get(table) or {}).items():
            found[canonicalize_name(name)] = f"{name} {spec if isinstance(spec, str) else ''}".strip()
    return found


def _setup_cfg(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    strings = parser.get("options", "install_requires", fallback="").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            strings += value.splitlines()
    return _requirements(strings)


def _declared(path: str, text: str | None) -> dict[str, str] | None:
    """The dependencies ``path`` declares (None: not a dependency file gitorch reads)."""
    name = PurePosixPath(path).name
    if text is None:
        return {} if is_requirements_file(path) or name in DECLARING else None
    if is_requirements_file(path):
        return _requirements(text.splitlines())
    if name == "pyproject.toml":
        return _pyproject(text)
    if name == "Pipfile":
        return _pipfile(text)
    if name == "setup.cfg":
        return _setup_cfg(text)
    return None


def dependency_changes(stats: DiffStats, texts: Texts) -> tuple[list[DependencyChange], list[str]]:
    """The packages the diff adds or changes, and the dependency files it changes in a way gitorch cannot
    read (``setup.py``, lock files)."""
    changes: list[DependencyChange] = []
    opaque: list[str] = []
    for change in stats.files:
        path = change.path
        name = PurePosixPath(path).name
        if name == "setup.py" or name in LOCK_FILES:
            opaque.append(path)
            continue
        if _declared(path, None) is None:
            continue
        before_text, after_text = texts(path)
        before = _declared(path, before_text) or {}
        after = _declared(path, after_text) or {}
        for key, requirement in sorted(after.items()):
            if before.get(key) != requirement:
                changes.append(DependencyChange(path, key, requirement, before.get(key)))
    return changes, opaque


def dependency_hits(stats: DiffStats, texts: Texts) -> list[GateHit]:
    """``dependency`` confirmations: one per package added or changed, one per opaque file changed."""
    changes, opaque = dependency_changes(stats, texts)
    hits = [GateHit("dependency", "confirm", c.describe()) for c in changes]
    hits += [GateHit("dependency", "confirm", f"changes {p} (it may change the project's dependencies)")
             for p in opaque]
    return hits
