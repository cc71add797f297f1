"""The layers of ``gitorch/`` (docs/architecture.md): a package imports only packages below it.

Read from the source with ``ast``, lazy imports inside functions included, so a shortcut taken "just
this once" inside a function body fails here as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GITORCH = Path(__file__).resolve().parents[2] / "gitorch"

# Bottom to top. Units in one layer may import each other only where SAME_LAYER allows it.
LAYERS: list[set[str]] = [
    {"errors"},
    {"config"},
    {"gitorch", "hookspecs", "models", "plugin", "score"},  # the contract and the public API
    {"process"},
    {"vcs"},
    {"services"},
    {"agents", "audit"},
    {"loop"},
    {"report"},
    {"cli", "__main__"},
    {"testing"},
]
SAME_LAYER = [{"gitorch", "hookspecs", "models", "plugin", "score"}, {"cli", "__main__"}]
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}
EXEMPT = {"sample", "data"}  # the demo's vulnerable sample application and package data


def _unit(path: Path) -> str:
    """``gitorch/loop/attempt.py`` -> ``loop``; ``__init__.py`` -> ``gitorch``."""
    parts = path.relative_to(GITORCH).with_suffix("").parts
    return "gitorch" if parts == ("__init__",) else parts[0]


def _imported_units(tree: ast.AST) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "gitorch":
                names += [f"gitorch.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "gitorch":
                unit = parts[1] if len(parts) > 1 and parts[1] in RANK else "gitorch"
                found.add((node.lineno, unit))
    return found


SOURCES = sorted(p for p in GITORCH.rglob("*.py") if _unit(p) not in EXEMPT)


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in SOURCES}
    assert units <= set(RANK), f"add {sorted(units - set(RANK))} to LAYERS and to docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(GITORCH.parent).as_posix())
def test_a_module_imports_only_layers_below_its_own(path: Path):
    me = _unit(path)
    wrong = []
    for line, unit in sorted(_imported_units(ast.parse(path.read_text(encoding="utf-8")))):
        if unit == me:
            continue
        sibling = any({me, unit} <= group for group in SAME_LAYER)
        if RANK[unit] > RANK[me] or (RANK[unit] == RANK[me] and not sibling):
            wrong.append(f"line {line}: {me} imports {unit}")
    assert wrong == []


def test_the_layer_table_in_the_docs_matches():
    text = (GITORCH.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for unit in RANK:
        if unit in ("gitorch", "__main__"):
            continue
        assert f"`{unit}`" in text or f"`gitorch/{unit}" in text, f"docs/architecture.md does not name {unit}"
