"""One process runner, one git gateway: read the source to prove no module goes around them.

- Only ``gitorch/process`` starts processes (``subprocess``, ``os.system``, ``os.exec*``, ``pty.spawn``...).
- Only ``gitorch/vcs`` runs git: no argv literal starting with ``"git"`` elsewhere, and no gitpython at
  all (importing it runs ``git version``; the test kit in ``gitorch/testing`` may use it).

``gitorch/sample`` is a deliberately vulnerable demo application (data, not gitorch code);
``gitorch/testing`` (the test kit) and a plugin's own ``tests/`` build repositories the way a user would.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for top in ("gitorch", "plugins")
    for path in (REPO / top).rglob("*.py")
    if not path.relative_to(REPO).as_posix().startswith(("gitorch/sample/", "gitorch/testing/"))
    and "tests" not in path.relative_to(REPO).parts  # a plugin's own test suite, like gitorch/testing
)
PROCESS_MODULES = {"subprocess", "pty", "multiprocessing"}
PROCESS_CALLS = {"system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
                 "execlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "posix_spawn",
                 "posix_spawnp", "fork", "forkpty", "create_subprocess_exec", "create_subprocess_shell"}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def process_violations(source: str) -> list[str]:
    tree = ast.parse(source)
    out = [f"{line}: imports {name}" for line, name in _imports(tree)
           if name.split(".")[0] in PROCESS_MODULES]
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and func.attr in PROCESS_CALLS:
            out.append(f"{node.lineno}: calls {func.attr}()")
    return out


def git_violations(source: str) -> list[str]:
    tree = ast.parse(source)
    out = [f"{line}: imports gitpython ({name})" for line, name in _imports(tree)
           if name.split(".")[0] == "git"]
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value == "git":
                out.append(f"{node.lineno}: an argv that runs git")
    return out


def test_the_scan_sees_the_code_it_guards():
    names = {_rel(p) for p in SOURCES}
    assert {"gitorch/vcs/git.py", "gitorch/agents/cli_agent.py", "plugins/gitorch_local/codemods.py"} <= names


def test_a_raw_process_or_git_call_is_caught():
    source = (
        "import os, subprocess\n"
        "import git\n"
        "from git import Repo\n"
        "subprocess.run(['git', 'status'])\n"
        "run_process(('git', 'apply'), cwd='.')\n"
        "os.system('ls')\n"
    )
    assert len(git_violations(source)) == 4
    assert len(process_violations(source)) == 2


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_only_the_process_package_starts_processes(path):
    if _rel(path).startswith("gitorch/process/"):
        return
    assert process_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_only_the_git_gateway_runs_git(path):
    found = git_violations(path.read_text(encoding="utf-8"))
    if _rel(path).startswith("gitorch/vcs/"):
        found = [v for v in found if "gitpython" in v]
    assert found == []
