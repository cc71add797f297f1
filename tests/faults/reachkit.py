"""The reach probes' kit: a hostile repository, its fingerprint, and ``gitorch fix`` run against it.

:func:`hostile_repository` builds what an adversarial trial used: a real repository with a stash,
unstaged and staged edits, untracked and ignored files (a binary among them), a second branch, a hook
and some configuration, owned by a user whose ``HOME`` (with a ``~/.gitconfig``) is the probe's own.
:func:`fingerprint` is the byte-for-byte picture of everything of the user's that gitorch must leave
as it was: every file of the checkout (ignored ones included: content, mode, mtime), the index, HEAD,
every ref and the packed refs, the stash and its log, the configuration, the hooks, ``info/``, and the
user's git configuration files.

A probe (:class:`Probe`) runs the real ``gitorch fix`` in a subprocess with the generic ``command`` agent
playing ``hostile_agent.py``, with bubblewrap available (``sandbox``) or not (``fallback``: ``GITORCH_BWRAP``
names a missing binary, so gitorch says so and falls back to its guard). Every process of the run carries
a marker in its environment, so that a probe can prove none survived.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from gitorch.testing.kit import processes_with_env
from gitorch.testing.kit import wait_for_no_process as wait_for_no_process_with_env

HERE = Path(__file__).parent
AGENT = HERE / "hostile_agent.py"
MARKER_VAR = "GITORCH_FAULT_PROBE"
MODES = ("sandbox", "fallback")

CALC = "def add(a, b):\n    return a + b\n"
TESTS = "from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The user's own git (the probes act as the user). ``GIT_OPTIONAL_LOCKS=0``: reading never rewrites
    the index being fingerprinted."""
    full = {**os.environ, **(env or {}), "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=full
    ).stdout


@dataclass
class User:
    """The user of a probe: their HOME, their repository, and where planted programs would leave a mark."""

    home: Path
    repo: Path
    mark: Path

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def git(self, *args: str) -> str:
        return git(self.repo, *args, env=self.env())


def _files(root: Path, skip_git: bool = True) -> dict[str, tuple[str, int, int]]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip_git:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            found[path.relative_to(root).as_posix()] = (
                hashlib.sha256(data).hexdigest(),
                st.st_mode,
                st.st_mtime_ns,
            )
    return found


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def fingerprint(user: User) -> dict:
    """Everything of the user's a run must leave byte for byte as it was (see the module docstring)."""
    gitdir = user.repo / ".git"
    refs = [
        line
        for line in user.git("for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if not line.startswith(("refs/heads/gitorch/", "refs/gitorch/"))
    ]
    loose = {
        rel: data
        for rel, data in _files(gitdir / "refs", skip_git=False).items()
        if not rel.startswith(("heads/gitorch/", "gitorch/"))
    }
    return {
        "files": _files(user.repo),
        "index": _digest(gitdir / "index"),
        "HEAD": (gitdir / "HEAD").read_text(),
        "refs": refs,
        "loose refs": loose,
        "packed-refs": _digest(gitdir / "packed-refs"),
        "stash": user.git("stash", "list", "--format=%H %gs"),
        "stash log": _digest(gitdir / "logs" / "refs" / "stash"),
        "config": (gitdir / "config").read_text(),
        "hooks": _files(gitdir / "hooks", skip_git=False),
        "info": _files(gitdir / "info", skip_git=False),
        "user config": {
            rel: data
            for rel, data in _files(user.home, skip_git=False).items()
            if rel in (".gitconfig", ".config/git/config", ".config/git/attributes")
        },
    }


def hostile_repository(base: Path) -> User:
    """A user with a repository in every state gitorch must not touch (see the module docstring)."""
    home, repo, mark = base / "home", base / "repo", base / "marks" / "ran"
    home.mkdir(parents=True)
    mark.parent.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Dev\n\temail = dev@example.com\n")
    user = User(home, repo, mark)
    repo.mkdir()
    user.git("init", "-q", "-b", "main")
    files = {
        ".gitignore": "build/\n*.log\n.env\n",
        "README.md": "# project\n",
        "docs.txt": "documentation\n",
        "app/__init__.py": "",
        "app/calc.py": CALC,
        "tests/test_calc.py": TESTS,
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    user.git("add", "-A")
    user.git("commit", "-q", "-m", "initial")
    user.git("switch", "-q", "-c", "feature")
    (repo / "feature.txt").write_text("a feature\n")
    user.git("add", "feature.txt")
    user.git("commit", "-q", "-m", "feature work")
    user.git("switch", "-q", "main")
    (repo / "README.md").write_text("# project\nstashed edit\n")
    user.git("stash", "push", "-q", "-m", "user stash")
    (repo / "docs.txt").write_text("documentation, staged edit\n")
    user.git("add", "docs.txt")
    (repo / "README.md").write_text("# project\nunstaged edit\n")
    (repo / "notes.txt").write_text("untracked notes\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_bytes(os.urandom(4096))
    (repo / "debug.log").write_text("ignored log\n")
    (repo / ".env").write_text("API_TOKEN=not-a-real-one\n")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    user.git("config", "alias.st", "status")
    user.git("config", "remote.origin.url", "https://example.com/project.git")
    (repo / ".git" / "info" / "exclude").write_text("*.swp\n")
    return user


@dataclass
class Outcome:
    """A probe's run: exit code, output, the session's events, and the processes of the run still alive."""

    code: int | None
    stdout: str
    stderr: str
    events: list[dict] = field(default_factory=list)
    leftovers: list[int] = field(default_factory=list)
    probe: str = ""
    mode: str = ""

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == kind]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def live_processes(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries the run's marker."""
    return processes_with_env(MARKER_VAR, marker)


def wait_for_no_process(marker: str, seconds: float) -> list[int]:
    return wait_for_no_process_with_env(MARKER_VAR, marker, seconds)


class Probe:
    """``gitorch fix`` run against ``user``'s repository by the hostile agent doing ``probe``."""

    def __init__(self, user: User, probe: str, mode: str, workdir: Path) -> None:
        self.user, self.probe, self.mode = user, probe, mode
        self.marker = uuid.uuid4().hex
        self.config = workdir / "gitorch.toml"
        agent = f"{sys.executable} {AGENT} {{task}} {{workdir}} {user.repo} {probe} {user.mark}"
        tests = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
        self.config.write_text(
            '[routing]\naudit = ["command"]\nfix = ["command"]\n'
            f"[agents.command]\ncommand = {json.dumps(agent)}\n"
            f"[tests]\ncommand = {json.dumps(tests)}\n"
        )

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **self.user.env(),
            MARKER_VAR: self.marker,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        env.pop("GITORCH_BWRAP", None)
        if self.mode == "fallback":
            env["GITORCH_BWRAP"] = str(self.user.home / "no-bubblewrap-here" / "bwrap")
        return env

    def argv(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gitorch",
            "fix",
            "--repo",
            str(self.user.repo),
            "--config",
            str(self.config),
            "--dim",
            "backend",
            "--yes",
            "--max-iterations",
            "1",
            *extra,
        ]

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(),
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.user.repo.parent,
        )

    def run(self, timeout: float = 240) -> Outcome:
        done = subprocess.run(
            self.argv(),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.user.repo.parent,
        )
        return self.outcome(done.returncode, done.stdout, done.stderr)

    def outcome(self, code: int | None, stdout: str, stderr: str) -> Outcome:
        events = []
        for path in (self.user.repo / ".git" / "gitorch" / "sessions").glob("*/events.jsonl"):
            events += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return Outcome(
            code, stdout, stderr, events, wait_for_no_process(self.marker, 10), self.probe, self.mode
        )


def marks(user: User) -> str:
    """What planted programs wrote when something ran them (empty: nothing ran)."""
    return user.mark.read_text() if user.mark.exists() else ""


def agent_said(user: User) -> str:
    """What the hostile agent printed in its recorded calls (a step "done" or "refused")."""
    calls = sorted((user.repo / ".git" / "gitorch" / "sessions").glob("*/calls/*.json"))
    return "\n".join(json.loads(path.read_text()).get("stdout", "") for path in calls)


def use_the_repository(user: User) -> None:
    """What the user does next: a status (filters, fsmonitor) and a checkout (hooks), with their own git. A
    program an agent planted and gitorch left in place would run now and leave a mark."""
    user.git("status", "--porcelain")
    user.git("switch", "-q", "-c", "after-the-run")
    user.git("switch", "-q", "main")


def check_contained(user: User, before: dict, outcome: Outcome, mode: str, reached: list[str]) -> None:
    """The user's repository is what it was, byte for byte; nothing of the run is alive; nothing planted
    runs. With the sandbox the agent never reached the repository; without it, the guard saw ``reached``,
    put it back and stopped the run (exit 8)."""
    after = fingerprint(user)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, (changed, outcome.output[-3000:])
    assert not outcome.leftovers, f"processes of the run still alive: {outcome.leftovers}"
    (sandbox,) = outcome.of("sandbox")
    assert sandbox["sandboxed"] is (mode == "sandbox"), sandbox
    breaches = outcome.of("repository_changed")
    if mode == "sandbox" or not reached:
        assert not breaches, (breaches, outcome.output[-3000:])
        assert outcome.code in (0, 5, 7), outcome.output[-3000:]
    else:
        assert outcome.code == 8, outcome.output[-3000:]
        (breach,) = breaches
        assert set(reached) <= set(breach["changed"]), breach
        assert "your repository changed while" in outcome.output
    use_the_repository(user)
    assert marks(user) == "", marks(user)
    record(outcome, breaches[0] if breaches else None)


def record(outcome: Outcome, breach: dict | None) -> None:
    """With ``GITORCH_REACH_MATRIX=<file>``, one JSON line per passed probe (docs/reliability.md's matrix)."""
    target = os.environ.get("GITORCH_REACH_MATRIX")
    if not target:
        return
    line = {
        "probe": outcome.probe,
        "mode": outcome.mode,
        "exit": outcome.code,
        "changed": (breach or {}).get("changed", []),
        "restored": len((breach or {}).get("restored", [])),
        "removed": len((breach or {}).get("removed", [])),
        "lost": (breach or {}).get("lost", []),
        "rejected": sum(1 for gate in outcome.of("gate") if gate.get("decision") == "reject"),
        "commits": len(outcome.of("commit")),
        "leftovers": len(outcome.leftovers),
        "bytes_lost": 0,
    }
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
