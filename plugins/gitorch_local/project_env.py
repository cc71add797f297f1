"""The project's own environment: where its code and tests can run, and whether touched modules still
compile and import there (the fix loop reaches it through :mod:`gitorch_local.environment`).

NOTE: gitorch's own virtualenv has gitorch's dependencies, not the project's: a Flask app's tests fail
there on ``import flask`` before testing anything. The project's interpreter is looked for in the
user's checkout (the run's worktree holds tracked files only: no ``.venv``), in this order: an explicit
``[tests] command`` or ``command_prefix``, an in-tree virtualenv (``.venv``, ``venv``, ``env``), then
what uv, poetry, hatch or tox declare. Nothing here installs anything.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import tempfile
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitorch.config import Config, TestsSettings
from gitorch.vcs.git import Git, GitError
from gitorch_local.tools import run

IN_TREE_VENVS = (".venv", "venv", "env", ".env")
DEFAULT_TEST_COMMAND = TestsSettings().command


@dataclass(frozen=True)
class ProjectEnv:
    """Where the project's Python runs. ``python`` is None when nothing was found (``missing`` says
    what is missing and the one line of configuration that fixes it)."""

    python: str | None
    source: str  # "tests.command", "command_prefix", ".venv", "venv", "uv", "poetry", "hatch", "tox", "none"
    prefix: tuple[str, ...] = ()  # run inside it (command_prefix)
    missing: str | None = None

    @property
    def found(self) -> bool:
        return self.python is not None

    def argv(self, *args: str) -> list[str]:
        """``python args`` in the project's environment."""
        return [*self.prefix, self.python or "python", *args]

    def test_command(self) -> str | None:
        """A ``[tests] command`` that runs pytest in this environment, or None."""
        if self.python is None or self.source in ("tests.command", "command_prefix"):
            return None
        return f"{shlex.quote(self.python)} -m pytest -q"


def _python_in(venv: Path) -> str | None:
    for name in ("bin/python", "Scripts/python.exe"):
        candidate = venv / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _pyproject(root: Path) -> dict:
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _ask(argv: list[str], root: Path) -> str | None:
    """The first line a tool prints (``poetry env info -p``), or None when it is missing or fails."""
    if shutil.which(argv[0]) is None:
        return None
    done = run(argv, root, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    lines = done.stdout.strip().splitlines()
    return lines[-1].strip() if done.returncode == 0 and lines else None


def find_project_env(root: Path, config: Config | None = None) -> ProjectEnv:
    """The project's environment, looked for in ``root`` (the user's checkout, not the run's worktree)."""
    config = config or Config()
    prefix = tuple(shlex.split(config.command_prefix))
    if prefix:
        return ProjectEnv("python", "command_prefix", prefix)
    command = shlex.split(config.tests.command)
    if config.tests.command != DEFAULT_TEST_COMMAND and command:
        first = command[0]
        if PurePosixPath(first).name.startswith("python") and (shutil.which(first) or Path(first).is_file()):
            return ProjectEnv(shutil.which(first) or first, "tests.command")
    for name in IN_TREE_VENVS:
        python = _python_in(root / name)
        if python:
            return ProjectEnv(python, name)
    tool = _pyproject(root).get("tool", {})
    declared = []
    if (root / "uv.lock").is_file() or "uv" in tool:
        declared.append("uv")  # uv's environment is .venv, checked above
    if (root / "poetry.lock").is_file() or "poetry" in tool:
        declared.append("poetry")
        venv = _ask(["poetry", "env", "info", "-p"], root)
        if venv and _python_in(Path(venv)):
            return ProjectEnv(_python_in(Path(venv)), "poetry")
    if "hatch" in tool and "envs" in tool.get("hatch", {}) or (root / "hatch.toml").is_file():
        declared.append("hatch")
        venv = _ask(["hatch", "env", "find", "default"], root)
        if venv and _python_in(Path(venv)):
            return ProjectEnv(_python_in(Path(venv)), "hatch")
    if (root / "tox.ini").is_file() or "tox" in tool:
        declared.append("tox")
        for venv in sorted((root / ".tox").glob("py*")):
            if _python_in(venv):
                return ProjectEnv(_python_in(venv), "tox")
    return ProjectEnv(None, "none", missing=_missing(root, declared))


def _missing(root: Path, declared: list[str]) -> str:
    how = {
        "uv": "uv sync",
        "poetry": "poetry install",
        "hatch": "hatch env create",
        "tox": "tox --notest",
    }
    if declared:
        setup = f"run `{how[declared[0]]}` in the checkout"
    elif (root / "requirements.txt").is_file():
        setup = "run `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`"
    else:
        setup = "create `.venv` with the project's dependencies installed"
    return (f"no environment with the project's dependencies (looked for {', '.join(IN_TREE_VENVS)}"
            f"{', ' + ', '.join(declared) if declared else ''}): {setup}, or set the one line "
            f'`[tests] command = "/path/to/its/python -m pytest -q"` (or `command_prefix` for a container)')


# --- compile and import the touched modules -------------------------------------------------------


@dataclass(frozen=True)
class ModuleCheck:
    """Whether one touched file compiles and imports in the project's environment."""

    file: str
    module: str | None
    compiles: bool
    imports: bool | None  # None: not tried (does not compile, a script, or no environment)
    error: str | None = None
    missing: str | None = None  # the top-level module an ImportError named

    @property
    def ok(self) -> bool:
        return self.compiles and self.imports is not False


def module_name(root: Path, file: str) -> tuple[str, Path] | None:
    """The dotted module name of ``file`` and the folder to put on ``sys.path`` for it: packages are
    followed up through their ``__init__.py`` files; ``app/x.py`` without one imports as ``x`` from
    ``app/``."""
    path = PurePosixPath(file)
    if path.suffix != ".py":
        return None
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while folder != PurePosixPath(".") and (root / folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return (".".join(parts), root / folder) if parts else None


# NOTE: runs in the project's interpreter: compile, then import, print one JSON line. The working
# directory is a temporary folder, so files a module writes on import by relative path land there.
_PROBE = r"""
import importlib, json, sys, traceback
file, name, base = sys.argv[1:4]
sys.path.insert(0, base)
out = {"compiles": True, "imports": None, "error": None, "missing": None}
try:
    compile(open(file, "rb").read(), file, "exec")
except SyntaxError as exc:
    out.update(compiles=False, error=f"line {exc.lineno}: {exc.msg}")
else:
    try:
        importlib.import_module(name)
        out["imports"] = True
    except BaseException as exc:
        missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
        out.update(imports=False, error=f"{type(exc).__name__}: {exc}"[:300],
                   missing=missing.split(".")[0] if missing else None)
print("\n" + json.dumps(out))
"""


_QUIET = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
          ast.AnnAssign, ast.Pass)


def _quiet(nodes: list[ast.stmt]) -> bool:
    for node in nodes:
        if isinstance(node, _QUIET) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node, ast.If):
            test = ast.unparse(node.test).replace("'", '"')
            if test == '__name__ == "__main__"':
                continue  # the script part, not run on import
            if _quiet(node.body) and _quiet(node.orelse):
                continue
        if isinstance(node, ast.Try) and _quiet(node.body) and all(_quiet(h.body) for h in node.handlers):
            continue
        return False
    return True


def is_script(source: bytes, name: str) -> bool:
    """A file that does its work at top level (``with open(...)``, loops, calls), or whose name is not
    a module name (``ca-create.py``): importing it would run it, so it is compiled, not imported.

    NOTE: importing vulpy's ``utils/ca-csr-create.py`` writes ``/tmp/acme.csr`` and reads a key another
    script wrote; whether it "imports" depends on which script ran first.
    """
    if not all(part.isidentifier() for part in name.split(".")):
        return True
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False  # the compile step reports it
    return not _quiet(tree.body)


def check_modules(
    root: Path, files: Collection[str], env: ProjectEnv, *, timeout: float = 60
) -> list[ModuleCheck]:
    """Compile each touched Python file and import it as the project would, one process per module
    (a module whose import hangs is killed at ``timeout``: counted as not importing). Scripts
    (:func:`is_script`) are compiled only."""
    out: list[ModuleCheck] = []
    for file in sorted(f for f in files if f.endswith(".py") and (root / f).is_file()):
        named = module_name(root, file)
        if named is None or not env.found or is_script((root / file).read_bytes(), named[0]):
            broken = _compiles(root / file)
            out.append(ModuleCheck(file, named[0] if named else None, broken is None, None, broken))
            continue
        name, base = named
        with tempfile.TemporaryDirectory(prefix="gitorch-import-") as scratch:
            environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(root)}
            done = run(env.argv("-c", _PROBE, str(root / file), name, str(base)), Path(scratch),
                       timeout=timeout, env=environment)
        if done.timed_out:
            out.append(ModuleCheck(file, name, True, False, f"importing it did not finish in {timeout:g}s"))
            continue
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            tail = (done.stderr or done.stdout).strip()[-300:]
            out.append(ModuleCheck(file, name, True, False, f"the import probe failed: {tail}"))
            continue
        out.append(ModuleCheck(file, name, result["compiles"], result["imports"], result["error"],
                               result.get("missing")))
    return out


def _compiles(path: Path) -> str | None:
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (OSError, ValueError) as exc:
        return str(exc)
    return None


def broken_modules(root: Path, files: Collection[str], env: ProjectEnv, *, base: str = "HEAD",
                   timeout: float = 60) -> list[ModuleCheck]:
    """The touched modules that compiled and imported at ``base`` and no longer do (the cheap gate of a
    repository without tests). A module that failed at ``base`` too (Django models without settings,
    a missing optional dependency) is not the change's fault and is not listed."""
    after = [c for c in check_modules(root, files, env, timeout=timeout) if not c.ok]
    if not after:
        return []
    # NOTE: only when something fails: put the base versions back for a moment and try them.
    git = Git(root)
    current = {c.file: (root / c.file).read_bytes() for c in after}
    old: dict[str, bytes] = {}
    for file in current:
        try:
            old[file] = git.run("show", f"{base}:{file}", text=False)
        except GitError:
            continue  # a new file: judged on its own
    try:
        for file, content in old.items():
            (root / file).write_bytes(content)
        before = {c.file: c for c in check_modules(root, list(old), env, timeout=timeout)}
    finally:
        for file, content in current.items():
            (root / file).write_bytes(content)
    return [c for c in after if c.file not in before or before[c.file].ok]


# --- the tests --------------------------------------------------------------------------------------

_COLLECTED = re.compile(r"(\d+) tests? collected|collected (\d+) items?")


def count_tests(root: Path, env: ProjectEnv, *, timeout: float = 300) -> tuple[int | None, str]:
    """How many tests pytest collects in the project's environment (None: it could not collect)."""
    if not env.found:
        return None, env.missing or "no environment"
    done = run(env.argv("-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"), root,
               timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if done.returncode == 5:
        return 0, "pytest collected no tests"
    match = _COLLECTED.search(done.stdout)
    if done.returncode == 0 and match:
        return int(match.group(1) or match.group(2)), ""
    tail = (done.stderr or done.stdout).strip().splitlines()
    return None, f"pytest could not collect (exit {done.returncode}): {tail[-1] if tail else ''}"[:300]


def coverage_of(report: dict, files: Sequence[str]) -> float | None:
    """The % of the statements of ``files`` that a coverage.py JSON report says ran (None: none measured)."""
    measured = {PurePosixPath(k).as_posix(): v for k, v in (report.get("files") or {}).items()}
    statements = covered = 0
    for file in files:
        summary = (measured.get(file) or {}).get("summary") or {}
        statements += summary.get("num_statements", 0)
        covered += summary.get("covered_lines", 0)
    return round(100 * covered / statements, 1) if statements else None


__all__ = [
    "ModuleCheck",
    "ProjectEnv",
    "broken_modules",
    "check_modules",
    "count_tests",
    "coverage_of",
    "find_project_env",
    "module_name",
]
