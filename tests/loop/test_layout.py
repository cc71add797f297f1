"""The fix loop's modules import only what their layer allows (docs/fix-loop.md, "Architecture of the loop").

From the bottom: weakened → events, gates → ledger → session, lock → phases, human, pool → recovery, audits →
attempt, planner → runner → api. A module never imports one above it; the attempt pipeline and the
planner do not know each other; the policy modules run no git and no process; the report reads the
ledger, not the loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gitorch

PACKAGE = Path(gitorch.__file__).parent
LAYERS = [
    {"weakened"},
    {"events", "gates"},
    {"ledger", "dependencies"},
    {"session", "lock", "verification"},
    {"phases", "human", "pool"},
    {"recovery", "audits", "testgate"},
    {"attempt", "planner"},
    {"parallel"},
    {"runner"},
    {"api"},
]
LAYER = {name: n for n, names in enumerate(LAYERS) for name in names}


def imports(path: Path) -> set[str]:
    """Every ``gitorch...`` module ``path`` imports, at run time (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gitorch"):
            found.add(node.module)
            if node.module == "gitorch.loop":  # from gitorch.loop import events
                found |= {f"gitorch.loop.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("gitorch")}
    return found - {"gitorch.loop"}


def loop_imports(module: str) -> set[str]:
    return {
        m.removeprefix("gitorch.loop.")
        for m in imports(PACKAGE / "loop" / f"{module}.py")
        if m.startswith("gitorch.loop.")
    }


@pytest.mark.parametrize("module", sorted(LAYER))
def test_a_loop_module_imports_only_modules_of_lower_layers(module):
    above = {m for m in loop_imports(module) if m in LAYER and LAYER[m] >= LAYER[module]}
    assert not above, f"gitorch.loop.{module} imports {above} (same or higher layer)"


def test_every_loop_module_has_a_layer_or_is_an_after_the_loop_command():
    modules = {p.stem for p in (PACKAGE / "loop").glob("*.py")} - {"__init__"}
    assert modules - set(LAYER) == {"runs"}
    assert loop_imports("runs") <= {"events", "ledger", "session", "lock", "recovery"}


@pytest.mark.parametrize("module", ["weakened", "events", "gates", "phases", "human", "planner"])
def test_the_policy_modules_run_no_git_and_no_process(module):  # (gitorch.vcs.diff only parses a diff)
    found = imports(PACKAGE / "loop" / f"{module}.py")
    runs_things = ("gitorch.vcs.git", "gitorch.vcs.guard", "gitorch.process", "gitorch.agents")
    assert not {m for m in found if m.startswith(runs_things)}


def test_nothing_in_the_loop_knows_the_command_line_and_the_report_reads_only_the_ledger():
    for path in (PACKAGE / "loop").glob("*.py"):
        assert not {m for m in imports(path) if m.startswith(("gitorch.cli", "gitorch.report"))}, path
    for path in (PACKAGE / "report").glob("*.py"):
        loop = {m for m in imports(path) if m.startswith("gitorch.loop.")}
        assert loop <= {"gitorch.loop.events", "gitorch.loop.ledger", "gitorch.loop.session"}, path
