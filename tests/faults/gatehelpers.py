"""The kit of the fault probes on the test gate, secrets, the ledger and the budget.

A probe is a real repository (a small package with a passing pytest suite), a real hostile agent (a
Python script run by gitorch's generic ``command`` agent, which audits with a fixed Markdown report and
fixes by running the probe's own code in the worktree), and ``gitorch`` run as a real subprocess, the
way a user runs it. The checks read what is left: the run branch, the session folder, stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

PY = sys.executable
# no plugin autoload: the probe projects need none, and pytest starts twice as fast
TEST_CMD = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {PY} -m pytest -q -p no:cacheprovider tests"

CALC = '''"""Arithmetic."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''
TESTS = '''import unittest

from app.calc import add, sub


def test_add():
    assert add(1, 2) == 3


def test_add_negative():
    assert add(-1, 1) == 0


class TestSub(unittest.TestCase):
    def test_sub(self):
        self.assertEqual(sub(3, 1), 2)
'''
BASE_FILES = {
    ".gitignore": ".env\n*.log\n",
    "README.md": "# calc\n",
    "app/__init__.py": "",
    "app/calc.py": CALC,
    "tests/test_calc.py": TESTS,
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0.1"\n\n'
    '[tool.pytest.ini_options]\naddopts = "-q"\n',
}
REPORT = """# Security audit

**[HIGH]** Unchecked arithmetic in `app/calc.py:5` (add trusts its inputs).
"""

# Run by the command agent: `python agent.py {task} {prompt_file} {workdir}`. The probe's code follows.
AGENT_PRELUDE = '''
import json, os, pathlib, shutil, sys
task, prompt_file, workdir = sys.argv[1:4]
W = pathlib.Path(workdir)
HOME = pathlib.Path(__file__).parent
CAPTURE = HOME / "prompts"
CAPTURE.mkdir(exist_ok=True)
NUMBER = len(list(CAPTURE.iterdir())) + 1
shutil.copy(prompt_file, CAPTURE / f"{NUMBER:03d}-{task}.md")
PROMPT = pathlib.Path(prompt_file).read_text()
ATTEMPT = len(list(CAPTURE.glob("*-fix.md")))


def edit(path, old, new):
    path = W / path
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1))


def write(path, text):
    path = W / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if task == "audit":
    print(REPORT)
    sys.exit(0)
'''


def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A repository on ``main`` with one commit of :data:`BASE_FILES` (and ``files`` over them)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in {**BASE_FILES, **(files or {})}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "initial")
    return path


@dataclass
class Probe:
    """One repository, one hostile agent, and gitorch run against them."""

    root: Path  # the user's checkout
    home: Path  # outside the repository: the configuration, the agent script, the prompts it was sent

    @property
    def config(self) -> Path:
        return self.home / "gitorch.toml"

    def gitorch(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
        """``gitorch ARGS`` as a subprocess, in the checkout."""
        return subprocess.run(
            [PY, "-m", "gitorch", *args], cwd=self.root, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    def fix(self, *extra: str, env: dict[str, str] | None = None):
        return self.gitorch(
            "fix", "--config", str(self.config), "--dim", "security", "--agent", "command",
            "--max-iterations", "1", "--yes",
            *extra, env=env,
        )

    # what is left ---------------------------------------------------------------------------------

    def sessions(self) -> list[Path]:
        base = self.root / ".git" / "gitorch" / "sessions"
        return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def session(self) -> Path:
        (only,) = self.sessions()
        return only

    def state(self) -> dict:
        return json.loads((self.session() / "session.json").read_text())

    def events(self, kind: str | None = None) -> list[dict]:
        lines = (self.session() / "events.jsonl").read_text().splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        return [e for e in found if kind is None or e["type"] == kind]

    def run_commits(self) -> list[str]:
        """The commits gitorch made on the run branch."""
        state = self.state()
        span = f"{state['base_commit']}..refs/heads/{state['branch']}"
        return git(self.root, "rev-list", "--reverse", span).split()

    def prompts(self) -> list[str]:
        """Every prompt the agent was sent, as it received it."""
        folder = self.home / "prompts"
        return [p.read_text() for p in sorted(folder.iterdir())] if folder.is_dir() else []

    def red_or_gamed_commits(self) -> list[str]:
        """Commits of the run branch on which the *original* test suite does not pass every test it passed
        at the base: each commit checked out apart, its tests and test configuration put back as they
        were at the base, and pytest run there. An independent check of the gate, not the gate itself."""
        base = self.state()["base_commit"]
        bad = []
        for commit in self.run_commits():
            if not _passes_the_base_suite(self.root, base, commit, self.home / f"check-{commit[:8]}"):
                bad.append(commit)
        return bad


def make_probe(
    tmp_path: Path,
    fix_code: str,
    *,
    files: dict[str, str] | None = None,
    report: str = REPORT,
    agent_options: str = "",
    extra_config: str = "",
) -> Probe:
    """A repository and a ``command`` agent whose fixes run ``fix_code`` (Python, with ``W`` the worktree,
    ``edit(path, old, new)``, ``write(path, text)``, ``PROMPT`` and ``ATTEMPT`` the attempt's number)."""
    root = make_repo(tmp_path / "repo", files)
    home = tmp_path / "home"
    home.mkdir()
    agent = home / "agent.py"
    code = textwrap.dedent(fix_code)
    agent.write_text(f"REPORT = {report!r}\n{AGENT_PRELUDE}\n{code}\nprint('done')\n")
    (home / "gitorch.toml").write_text(
        textwrap.dedent(
            f"""\
            [routing]
            audit = ["command"]
            fix = ["command"]

            [agents.command]
            command = "{PY} {agent} {{task}} {{prompt_file}} {{workdir}}"
            writable = ["{home}/prompts/"]
            {agent_options}

            [tests]
            command = "{TEST_CMD}"
            """
        )
        + extra_config
    )
    return Probe(root, home)


def _passes_the_base_suite(root: Path, base: str, commit: str, where: Path) -> bool:
    git(root, "worktree", "add", "-q", "--detach", str(where), commit)
    try:
        for rel in git(where, "diff", "--name-only", "--diff-filter=A", base, commit).split():
            if rel.startswith("tests/") or rel.endswith((".ini", ".toml", ".cfg", "conftest.py")):
                (where / rel).unlink()  # whatever the run added to test collection goes
        git(where, "checkout", base, "--", "tests", "pyproject.toml")
        junit = where.parent / f"{where.name}.xml"
        cmd = TEST_CMD.split() + [f"--junitxml={junit}"]
        subprocess.run(cmd, cwd=where, capture_output=True)
        base_junit = where.parent / "base.xml"
        if not base_junit.exists():
            base_tree = where.parent / "base-tree"
            git(root, "worktree", "add", "-q", "--detach", str(base_tree), base)
            cmd_base = TEST_CMD.split() + [f"--junitxml={base_junit}"]
            subprocess.run(cmd_base, cwd=base_tree, capture_output=True)
            git(root, "worktree", "remove", "--force", str(base_tree))
        from gitorch.process.junit import read_junit

        passing = {c.id for c in read_junit(base_junit) if c.outcome == "passed"}
        now = {c.id for c in read_junit(junit) if c.outcome == "passed"} if junit.exists() else set()
        return bool(passing) and passing <= now
    finally:
        git(root, "worktree", "remove", "--force", str(where))
