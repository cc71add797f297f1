"""Finding and running the analyzers: one subprocess each, from inside the audited root, JSON out."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitorch.audit.discovery import excluded_dir
from gitorch.errors import AgentError, AnalyzerMissingError
from gitorch.process.launch import Purpose
from gitorch.services.source import SourceLines as SourceLines  # the core's reader, used by every analyzer

# How to install each tool, for the one-line error a missing analyzer raises.
INSTALL_HINTS = {
    "bandit": "pip install bandit",
    "ruff": "pip install ruff",
    "radon": "pip install radon",
    "codemodder": "pip install codemodder",
    "semgrep": "pip install semgrep",
}


def bin_dir() -> Path:
    """The directory of the running interpreter's scripts (the venv's ``bin``)."""
    return Path(sys.executable).parent


def find_tool(name: str, override: str | None = None) -> str:
    """The analyzer's executable: an explicit path, then next to ``sys.executable``, then ``PATH``."""
    if override:
        found = shutil.which(override)
        if found:
            return found
        raise AnalyzerMissingError(f"{name} not found at {override!r} (agents.local option); install it: "
                                   f"{INSTALL_HINTS.get(name, 'pip install ' + name)}")
    local = bin_dir() / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    raise AnalyzerMissingError(
        f"{name} is not installed (not next to {sys.executable} nor on PATH); "
        f"install it: {INSTALL_HINTS.get(name, 'pip install ' + name)}"
    )


def tool_identity(name: str, override: str | None = None) -> dict[str, object]:
    """What stands for an analyzer's version in the audit cache's key: the version of its distribution
    (installed beside gitorch) and the executable that would run (path, size, modification time: an
    upgrade in place rewrites it). Never raises."""
    from importlib.metadata import PackageNotFoundError, version

    identity: dict[str, object] = {}
    try:
        identity["version"] = version(name)
    except PackageNotFoundError:
        identity["version"] = None
    try:
        exe = find_tool(name, override)
        stat = os.stat(exe)
        identity["executable"] = [os.path.realpath(exe), stat.st_size, stat.st_mtime_ns]
    except (AgentError, OSError):
        identity["executable"] = None
    return identity


def under(file: str, path: str) -> bool:
    """Whether ``file`` (POSIX, relative to the root) lies in ``path`` (``.``: the whole root)."""
    path = path.strip("/")
    return path in ("", ".") or file == path or file.startswith(path + "/")


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for analyzers: the interpreter's ``bin`` first on PATH (codemodder runs semgrep
    by name), nothing written next to the user's sources, semgrep offline."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir()), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env["SEMGREP_SEND_METRICS"] = "off"
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True)
class Completed:
    """The outcome of one subprocess."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    duration_s: float = 0.0


def run(
    argv: list[str],
    cwd: Path,
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    writable: tuple[Path, ...] = (),
    purpose: Purpose = "analyzer",
) -> Completed:
    """Run ``argv`` in its own process group (:func:`gitorch.process.runner.run_process`): on timeout, or on
    Ctrl-C, the whole group is killed — test runners and codemodder spawn workers. ``writable`` names
    where the tool writes besides ``cwd`` (its reports), for a sandboxing launch policy."""
    from gitorch.process.runner import run_process

    try:
        done = run_process(argv, cwd=cwd, env=env if env is not None else tool_env(), timeout=timeout,
                           writable=writable, purpose=purpose)
    except FileNotFoundError as exc:
        raise AnalyzerMissingError(f"{argv[0]}: cannot run it: {exc.strerror}") from None
    code = -9 if done.timed_out or done.exit_code is None else done.exit_code
    return Completed(
        argv, code, done.stdout, done.stderr, timed_out=done.timed_out, duration_s=done.duration_s
    )


def display(argv: list[str], cwd: Path) -> str:
    """A command as a user could paste it (dry-run notes)."""
    return f"cd {shlex.quote(str(cwd))} && {shlex.join(argv)}"


def parse_json(done: Completed, tool: str):  # noqa: ANN201 - JSON is Any
    """The tool's JSON stdout, or an AgentError naming the tool and its stderr."""
    import json

    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr or done.stdout).strip()[-500:]
        raise AgentError(f"{tool} exited {done.returncode} without JSON output: {tail}") from None


def relative(root: Path, filename: str) -> str:
    """A tool's file name (absolute or ``./x``) as a POSIX path relative to ``root``."""
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.relative_to(root)
        except ValueError:
            path = Path(os.path.relpath(path, root))
    return PurePosixPath(*path.parts).as_posix().removeprefix("./")


def is_excluded(file: str, excludes: list[str]) -> bool:
    """True when ``file`` lies in an excluded directory (the core's rule: a bare name matches at any
    depth, a path with a slash matches from the root)."""
    parent = PurePosixPath(file).parent.as_posix()
    return parent != "." and excluded_dir(parent, excludes)


def python_files(root: Path, path: str, excludes: list[str]) -> list[str]:
    """The ``.py`` files under ``root/path`` (POSIX, relative to root), skipping hidden and excluded dirs."""
    files: list[str] = []
    for current, dirs, names in os.walk(root / path):
        rel_dir = relative(root, current) if Path(current) != root else ""
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not is_excluded(f"{rel_dir}/{d}/x".lstrip("/"), excludes)
        )
        files += [f"{rel_dir}/{n}".lstrip("/") for n in sorted(names) if n.endswith(".py")]
    return files


def is_test_file(file: str) -> bool:
    """``test_*.py``, ``*_test.py``, ``conftest.py``, or anything under a ``tests``/``test`` folder."""
    path = PurePosixPath(file)
    return (
        path.name.startswith("test_")
        or path.name.endswith("_test.py")
        or path.name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in path.parts[:-1])
    )
