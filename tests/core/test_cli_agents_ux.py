"""What `audit` and `fix` say about AI agents before anything runs: availability, dry-run commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitorch.testing.fixtures import commit


@pytest.fixture
def repo(git_repo) -> Path:
    commit(git_repo, {"app/main.py": "import subprocess\nsubprocess.call('ls', shell=True)\n"}, "app")
    return Path(git_repo.working_tree_dir)


@pytest.fixture
def no_ai_on_path(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True).stdout


def test_fix_with_an_agent_that_is_not_installed_stops_before_anything_is_made(cli, repo, no_ai_on_path):
    refs_before = _git(repo, "for-each-ref")
    result = cli("fix", "--agent", "claude", "--dim", "security", "-C", str(repo))
    assert result.exit_code == 3, result.output
    expected = "gitorch: agent 'claude' (--agent) is not available: 'claude' is not on PATH"
    assert result.stderr.strip() == expected
    assert _git(repo, "for-each-ref") == refs_before and _git(repo, "worktree", "list").count("\n") == 1
    assert not (repo / ".git" / "gitorch" / "sessions").exists()


def test_fix_with_an_auditor_that_is_not_installed_exits_3(cli, repo, no_ai_on_path):
    (repo / ".gitorch.toml").write_text('[routing.security]\naudit = ["gemini"]\n')
    result = cli("fix", "--dim", "security", "-C", str(repo))
    assert result.exit_code == 3
    assert "agent 'gemini' (the auditor of security) is not available" in result.stderr


def test_fix_dry_run_prints_the_command_of_the_fixing_agent(cli, repo, no_ai_on_path):
    result = cli("fix", "--dry-run", "--agent", "claude", "--dim", "security", "-C", str(repo))
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stderr.splitlines() if "claude: dry run: " in x]
    assert " claude -p --output-format stream-json" in line and "--permission-mode acceptEdits" in line
    prompt = Path(line.rsplit(" < ", 1)[1].rstrip(")"))
    assert prompt.is_file() and "Fix" in prompt.read_text()


RECORDER = """#!/usr/bin/env python3
import json, os, sys
json.dump({"argv": sys.argv[1:], "stdin": sys.stdin.read(), "cwd": os.getcwd()},
          open(os.environ["RECORD_TO"], "w"))
"""


@pytest.mark.parametrize("agent", ["codex", "claude", "gemini"])
def test_audit_dry_run_prints_one_pasteable_line_per_command(cli, repo, fake_ai, tmp_path, agent):
    fake_ai(agent, RECORDER)
    result = cli("audit", "--dry-run", "--dim", "compliance", "--agent", agent, "-C", str(repo),
                 env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stdout.splitlines() if "dry run: " in x]
    command = line.split("dry run: ", 1)[1]
    record = tmp_path / "record.json"
    pasted = subprocess.run(["bash", "-c", command], env={**os.environ, "RECORD_TO": str(record)})
    assert pasted.returncode == 0
    seen = json.loads(record.read_text())
    assert Path(seen["cwd"]).resolve() == repo.resolve()
    prompt = seen["stdin"] or max(seen["argv"], key=len)
    assert "compliance" in prompt.lower() and len(prompt) > 200  # the whole prompt, not a wrapped piece
    for arg in seen["argv"]:  # files the command names (a JSON schema…) still exist
        if arg.startswith("/tmp/") and arg.endswith((".json", ".md")):
            assert Path(arg).is_file(), arg


def test_a_failing_baseline_shows_its_first_failure_in_the_console_log_and_report(cli, git_repo):
    root = Path(git_repo.working_tree_dir)
    commit(git_repo, {
        "app/main.py": "def hello():\n    return 1\n",
        "tests/test_app.py": "import fastapi_not_installed_here\n\n\ndef test_x():\n    assert True\n",
    }, "app")
    result = cli("fix", "--dim", "backend", "--test-cmd", f"{sys.executable} -m pytest -q", "-C", str(root))
    assert result.exit_code == 8, result.output
    cause = "ERROR tests/test_app.py: ModuleNotFoundError: No module named 'fastapi_not_installed_here'"
    assert f"first failure: {cause}" in result.stderr
    assert f"First failure: `{cause}`" in result.stdout
    log = cli("log", "-C", str(root)).stdout
    assert "baseline tests: FAIL (1 errors)" in log and f"first failure: {cause}" in log
    report = json.loads(cli("report", "--format", "json", "-C", str(root)).stdout)
    assert report["tests_failure"] == cause and report["tests_passing"] is False
