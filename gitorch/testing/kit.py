"""The pieces of gitorch's test kit, usable without pytest: an isolated environment, a throwaway git
repository, the real ``gitorch`` command in a subprocess, fake agent CLIs.

The pytest fixtures built on them are in :mod:`gitorch.testing.pytest_plugin` (``gitorch_*``, loaded
automatically) and :mod:`gitorch.testing.fixtures` (gitorch's own suite, opt-in).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The fake agent CLI: one script that prints the real output formats of every supported CLI.
FAKE_AGENT = Path(__file__).with_name("fakes") / "fake_agent.py"
#: The CLIs it can stand in for.
CLIS = ("claude", "codex", "gemini", "copilot", "aider", "opencode", "qwen")
#: What the isolation clears: switches that would change which plugins load or how errors look.
GITORCH_SWITCHES = (
    "GITORCH_LOAD_PLUGINS",
    "GITORCH_DISABLE_PLUGINS",
    "GITORCH_STRICT_PLUGINS",
    "GITORCH_DISABLE_PLUGIN_AUTOLOAD",
    "GITORCH_TRACE_PLUGINS",
    "GITORCH_DEBUG",
)
_FAKE_VARIABLES = ("FAKE_TEXT", "FAKE_EDIT", "FAKE_CREATE", "FAKE_STRUCTURED", "FAKE_CLI", "IS_SANDBOX")


def isolate(monkeypatch: Any, home: Path, *, load_plugins: list[str], strict: bool) -> None:
    """Isolate gitorch and git from the machine: git's global and system configuration, a commit
    identity, the user cache directory (where some run worktrees live), and the plugin switches —
    gitorch's own plugins plus ``load_plugins`` (entry-point or distribution names), strict mode when
    ``strict``. ``monkeypatch`` undoes it all at the end of the test."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    for name in GITORCH_SWITCHES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", ",".join(load_plugins))
    if strict:
        monkeypatch.setenv("GITORCH_STRICT_PLUGINS", "1")
    from gitorch.cli import reset_app_plugins

    reset_app_plugins()


def declared_plugins(start: Path) -> list[str]:
    """The entry-point names declared in the ``gitorch`` group by the nearest ``pyproject.toml`` above
    ``start`` (a test file or directory) that declares any: the plugins of the project under test, also
    in a repository holding several projects."""
    for directory in [start, *start.parents] if start.is_dir() else list(start.parents):
        try:
            data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}
        declared = data.get("project", {}).get("entry-points", {}).get("gitorch", {})
        if declared:
            return sorted(declared)
    return []


@dataclass
class GitRepo:
    """A real git repository in a temporary directory (branch ``main``)."""

    path: Path

    @classmethod
    def create(cls, path: Path, files: Mapping[str, str] | None = None) -> GitRepo:
        """``git init`` at ``path`` and a first commit of ``files`` (default: a README)."""
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", "main")
        repo.git("config", "user.name", "Test")
        repo.git("config", "user.email", "test@example.com")
        repo.commit(files or {"README.md": "# test\n"}, "root")
        return repo

    def git(self, *args: str) -> str:
        """Run git in the repository; its output. A failure raises with git's message."""
        done = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def write(self, files: Mapping[str, str]) -> None:
        """Write ``files`` (relative path → text) into the working tree, without committing."""
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def commit(self, files: Mapping[str, str] | None = None, message: str = "change") -> str:
        """Write ``files`` and commit them (with ``files`` None: everything changed); the new commit's id."""
        if files:
            self.write(files)
            self.git("add", "--", *files)
        else:
            self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def branches(self, pattern: str = "*") -> list[str]:
        return self.git("branch", "--list", pattern, "--format=%(refname:short)").split()


@dataclass(frozen=True)
class GitorchResult:
    """What one ``gitorch`` command did: its argv, exit code and output."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout read as JSON (for ``--json`` and ``--format json``)."""
        return json.loads(self.stdout)


def run_gitorch(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> GitorchResult:
    """The real ``gitorch`` command line (``python -m gitorch``) in a subprocess, as a user runs it:
    entry points discovered, plugin commands added, the real exit code."""
    done = subprocess.run(
        [sys.executable, "-m", "gitorch", *args],
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return GitorchResult(tuple(args), done.returncode, done.stdout, done.stderr)


def processes_with_env(name: str, value: str) -> list[int]:
    """The live (non-zombie) processes whose environment holds ``name=value`` (Linux ``/proc``): what a
    test that marked the processes it started finds left behind."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry))
    return found


def wait_for_no_process(name: str, value: str, seconds: float) -> list[int]:
    """:func:`processes_with_env` once none is left, or what is still alive after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        alive = processes_with_env(name, value)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def write_executable(directory: Path, name: str, script: str) -> Path:
    """``directory/name`` holding ``script``, executable."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@dataclass
class FakeAgents:
    """Fake AI coding CLIs first on ``PATH``, speaking the real CLIs' output formats.

    ``install("claude")`` puts a ``claude`` that answers as Claude Code does (``--output-format json``
    or ``stream-json``, usage and cost included); ``scenario("auth")`` makes the next calls fail as a
    logged-out CLI does (``success``, ``auth``, ``partial``, ``garbage``, ``hang``, ``silent``,
    ``stubborn``, ``chatty``, ``reject``: see ``gitorch/testing/fakes/fake_agent.py``); ``dump()`` is
    what the last call received (argv, stdin, cwd). ``executable(name, script)`` installs any script.
    """

    bin: Path
    dump_file: Path
    monkeypatch: Any
    installed: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, directory: Path, monkeypatch: Any, *, only_fakes: bool = False) -> FakeAgents:
        """Fakes in ``directory/bin``, first on PATH. ``only_fakes``: PATH holds nothing else but the
        interpreter's directory and the system's (a real CLI installed elsewhere must not answer)."""
        bin_dir = directory / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        rest = [str(Path(sys.executable).parent), "/usr/bin", "/bin"] if only_fakes else [os.environ["PATH"]]
        monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), *rest]))
        dump = directory / "fake-dump.json"
        monkeypatch.setenv("FAKE_DUMP", str(dump))
        monkeypatch.setenv("FAKE_SCENARIO", "success")
        for name in (*_FAKE_VARIABLES, *(f"FAKE_SCENARIO_{c.upper()}" for c in CLIS)):
            monkeypatch.delenv(name, raising=False)
        return cls(bin_dir, dump, monkeypatch)

    def install(self, *clis: str, scenario: str | None = None, **env: str) -> Path:
        """Put fake ``clis`` (default: all of :data:`CLIS`) on PATH; ``scenario`` and ``FAKE_*`` variables
        (``text="…"`` sets ``FAKE_TEXT``) apply to every call. Returns the bin directory."""
        for cli in clis or CLIS:
            if cli not in CLIS:
                raise ValueError(f"no fake for {cli!r} (fakes: {', '.join(CLIS)})")
            script = f'#!/bin/sh\nFAKE_CLI={cli} exec "{sys.executable}" "{FAKE_AGENT}" "$@"\n'
            write_executable(self.bin, cli, script)
            self.installed.append(cli)
        if scenario is not None:
            self.scenario(scenario)
        for key, value in env.items():
            self.monkeypatch.setenv(f"FAKE_{key.upper()}", value)
        return self.bin

    def scenario(self, name: str, **env: str) -> None:
        """The scenario of the next calls; ``env`` sets more variables as they are (``FAKE_EDIT=…``)."""
        self.monkeypatch.setenv("FAKE_SCENARIO", name)
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)

    def executable(self, name: str, script: str) -> Path:
        """Any executable ``name`` (a shell script, say) first on PATH."""
        return write_executable(self.bin, name, script)

    def dump(self) -> dict:
        """What the last fake call received: ``argv``, ``stdin``, ``cwd``, ``env``, ``pid``."""
        return json.loads(self.dump_file.read_text()) if self.dump_file.exists() else {}

    @property
    def ran(self) -> bool:
        return self.dump_file.exists()
