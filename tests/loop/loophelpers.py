"""Helpers for the fix-loop tests: a real repository with a real pytest suite, the loop's configuration
and options, and a byte-for-byte fingerprint of the user's checkout."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# no plugin autoload: the stand-in projects need none, and pytest starts twice as fast
TEST_CMD = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider tests"

CALC = """def add(a, b):
    return a + b
"""
TESTS = """from app.calc import add


def test_add():
    assert add(1, 2) == 3


def test_add_neg():
    assert add(-1, 1) == 0
"""
BIG = "".join(f"VALUE_{i} = {i}\n" for i in range(80))


def git(cwd: Path, *args: str, check: bool = True) -> str:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not refresh the index it is helping to fingerprint
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=check, env=env
    ).stdout


def make_project(path: Path, rules: list[tuple[str, str]]) -> Path:
    """A repository whose app/calc.py carries one marker per (severity, rule), and a passing test suite."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    files = {
        ".gitignore": "*.log\n",
        "README.md": "# project\n",
        "app/__init__.py": "",
        "app/calc.py": CALC + "".join(f"# gitorch-test: {sev} {rule}\n" for sev, rule in rules),
        "app/big.py": BIG,
        "app/old.py": "OLD = 1\n",
        "tests/test_calc.py": TESTS,
    }
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "initial")
    return path


def dirty_up(path: Path) -> None:
    """Give the user's checkout every kind of state gitorch must not touch."""
    (path / "README.md").write_text("# project\nstashed edit\n")
    git(path, "stash", "push", "-q", "-m", "user stash")
    (path / "README.md").write_text("# project\nunstaged edit\n")
    (path / "app" / "old.py").write_text("OLD = 2\n")
    git(path, "add", "app/old.py")
    (path / "notes.txt").write_text("untracked\n")
    (path / "debug.log").write_text("ignored\n")


def fingerprint(path: Path) -> dict:
    """Hash of every file of the checkout (untracked and ignored included), the index, HEAD, the user's
    refs (gitorch's own excluded) and the stash list."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(path):
        if Path(dirpath) == path:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            data = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
            files[p.relative_to(path).as_posix()] = (
                hashlib.sha256(data).hexdigest(),
                st.st_mode,
                st.st_mtime_ns,
            )
    gitdir = path / ".git"
    refs = [
        line
        for line in git(path, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if not line.startswith(("refs/heads/gitorch/", "refs/gitorch/"))
    ]
    return {
        "files": files,
        "index": hashlib.sha256((gitdir / "index").read_bytes()).hexdigest(),
        "HEAD": (gitdir / "HEAD").read_text(),
        "refs": refs,
        "stash": git(path, "stash", "list"),
        "status": git(path, "status", "--porcelain", "--ignored"),
    }


def loop_config(root: Path, **overrides):
    from gitorch.config import load_config

    base = {"routing.audit": ["marker"], "routing.fix": ["fixer"], "tests.command": TEST_CMD}
    base.update(overrides)
    return load_config(root, base)


def options(config, **kw):
    from gitorch.loop.session import FixOptions

    values = dict(
        dimensions=["backend"],
        target_score=config.target_score,
        max_iterations=config.max_iterations,
        budget_usd=config.max_budget_usd,
        test_command=config.tests.command,
    )
    values.update(kw)
    return FixOptions(**values)


def branch_commits(root: Path, state) -> list[str]:
    """The run branch's commits; none when the run ended before its first commit (no branch is left)."""
    ref = f"refs/heads/{state.branch}"
    if state.cleaned and not git(root, "rev-parse", "--verify", "-q", ref, check=False):
        return []
    return git(root, "rev-list", "--reverse", f"{state.base_commit}..refs/heads/{state.branch}").split()


def passes_tests_at(root: Path, commit: str, tmp_path: Path) -> bool:
    """Check out ``commit`` in a scratch worktree and run the test command there."""
    where = tmp_path / f"check-{commit[:8]}"
    git(root, "worktree", "add", "-q", "--detach", str(where), commit)
    try:
        return subprocess.run(TEST_CMD.split(), cwd=where, capture_output=True).returncode == 0
    finally:
        git(root, "worktree", "remove", "--force", str(where))


def killed_after_the_commit(root: Path, state) -> Path:
    """Leave a finished session as if SIGKILL struck after ``update-ref`` moved the branch to its last
    commit but before the ledger recorded it, in the middle of a ``git add`` (its ``index.lock`` left
    behind), with the lock of the dead process. Returns the worktree's admin directory."""
    import json
    import socket

    from gitorch.loop.lock import RunLock
    from gitorch.loop.session import ledger_for

    session_file = ledger_for(root, state.id).session_file
    raw = json.loads(session_file.read_text())
    raw.update(green_commit=state.base_commit, status="running", stop_reason=None, commits=0)
    session_file.write_text(json.dumps(raw))
    dead = subprocess.Popen(["true"])
    dead.wait()
    RunLock(root).path.write_text(
        json.dumps({"session": state.id, "pid": dead.pid, "host": socket.gethostname(), "started_at": "x"})
    )
    admin = root / ".git" / "gitorch" / "gitdirs" / f"{state.id}.git"
    (admin / "index.lock").write_text("")
    return admin
