"""A new third-party plugin package from ``templates/plugin/`` (``gitorch plugin new``).

The package is a working plugin from the start: a ``pyproject.toml`` registering it in the ``gitorch``
entry-point group with the range of gitorch versions it was made for, the module with the kinds asked
for (a dimension, an agent, a parser), and tests on gitorch's test kit that pass after
``pip install -e .``. Every file is a Jinja2 template under ``templates/plugin/``; the file names are
templates too (``src/{{ module }}/__init__.py.j2``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from gitorch.errors import UsageError
from gitorch.services.templates import builtin_dir

NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
KINDS = ("dimension", "agent", "parser")


def compatible_range(version: str) -> str:
    """The gitorch versions a plugin made against ``version`` declares: this one up to the next release
    that may break plugins (the next minor release before 1.0, the next major one after)."""
    from packaging.version import Version

    current = Version(version)
    upper = f"{current.major + 1}" if current.major >= 1 else f"0.{current.minor + 1}"
    return f">={current.base_version},<{upper}"


def plugin_skeleton(
    name: str,
    description: str = "",
    *,
    kinds: tuple[str, ...] = ("dimension", "agent"),
    builtin: Path | None = None,
) -> dict[str, str]:
    """The files of a new plugin called ``name``: ``{relative path: text}``.

    ``gitorch-<name>`` distribution, ``gitorch_<name>`` module (``src/`` layout), entry point ``<name>``
    in the ``gitorch`` group; ``kinds`` says what it adds (``dimension``, ``agent``, ``parser``, each
    named ``<name>``). An agent without a dimension of its own audits ``backend``.
    """
    if not NAME.fullmatch(name):
        raise UsageError(f"plugin name {name!r}: use lower-case letters, digits and dashes (e.g. 'semgrep')")
    if any(c in description for c in '"\\\n'):
        raise UsageError("--description: one line, without double quotes or backslashes")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise UsageError(f"plugin kinds {list(kinds)!r}: choose among {', '.join(KINDS)}")
    from gitorch import __version__

    module = "gitorch_" + name.replace("-", "_")
    variables: Mapping[str, Any] = {
        "name": name,
        "distribution": f"gitorch-{name}",
        "module": module,
        "class_prefix": "".join(part.title() for part in name.split("-")),
        "description": description or f"gitorch plugin: {name}",
        "gitorch_version": __version__,
        "gitorch_range": compatible_range(__version__),
        "dimension": "dimension" in kinds,
        "agent": "agent" in kinds,
        "parser": "parser" in kinds,
        "audited": name if "dimension" in kinds else "backend",
    }
    directory = (Path(builtin) if builtin is not None else builtin_dir()) / "plugin"
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    files: dict[str, str] = {}
    for template in sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.j2")):
        target = env.from_string(template.removesuffix(".j2")).render(**variables)
        text = env.get_template(template).render(**variables)
        if text.strip():  # a file whose kind was not asked for renders empty
            files[target] = re.sub(r"\n{3,}(?=\S)", "\n\n\n", text)
    return files


def write_plugin(target: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``files`` under ``target`` (which must not exist, or be an empty directory)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty: choose another --output")
    written = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
