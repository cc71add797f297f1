"""The loop end to end with the real embedded agent (ruff) on the bundled sample project."""

from __future__ import annotations

import sys

import pytest
from loophelpers import branch_commits, fingerprint, git

from gitorch.config import load_config
from gitorch.loop import events as ev
from gitorch.loop import start_run
from gitorch.loop.session import FixOptions, load_session


@pytest.mark.slow
def test_the_local_agent_fixes_the_sample_one_green_commit_at_a_time(tmp_path):
    pytest.importorskip("gitorch_local")
    from gitorch.cli.demo import make_sample_repo
    from gitorch.plugin.manager import get_plugins

    root = make_sample_repo(tmp_path / "inventory")
    (root / "notes.txt").write_text("my notes\n")  # untracked, and an uncommitted edit below
    (root / "inventory" / "report.py").write_text((root / "inventory" / "report.py").read_text() + "# wip\n")
    before = fingerprint(root)
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    config = load_config(root, {"tests.command": command, "max_iterations": 3})
    plugins = get_plugins()
    options = FixOptions(
        dimensions=["backend"], target_score=100, max_iterations=3, budget_usd=0, test_command=command
    )
    state = start_run(root, config, plugins, options)
    assert fingerprint(root) == before
    assert state.stop_reason in ("stalled", "iterations", "target"), state.stop_detail
    assert state.scores["backend"] > state.initial_scores["backend"]
    commits = branch_commits(root, state)
    assert commits
    _, ledger = load_session(root, state.id)
    # every commit was tested before the branch moved to it, and carries the local agent's name
    tested = [e for e in ledger.events(ev.AttemptTests) if e.passed]
    assert len(tested) >= len(commits)
    for commit in commits:
        assert "Gitorch-Agent: local" in git(root, "log", "-1", "--format=%B", commit)
    # the worktree holds the tip and nothing else
    assert git(state.worktree, "status", "--porcelain", "--ignored") == ""
    assert git(state.worktree, "rev-parse", "HEAD").strip() == commits[-1]


@pytest.mark.slow
def test_demo_runs_the_loop_end_to_end_and_shows_the_branch_and_the_report(tmp_path, cli):
    pytest.importorskip("gitorch_local")
    target = tmp_path / "demo"
    result = cli("demo", "--dir", str(target), "--dim", "backend", "--max-iterations", "2")
    assert result.exit_code == 0, result.output
    assert "run branch gitorch/" in result.stdout and "# gitorch report" in result.stdout
    state, _ = load_session(target)
    assert branch_commits(target, state)
    assert git(target, "status", "--porcelain") == ""  # the sample checkout itself is untouched
    # words a person reads: no "re-audit audit", no Python dict, the P4 import-sorting commits explained
    assert "re-audit audit" not in result.stderr and "re-audit backend: score" in result.stderr
    assert "{'" not in result.output and "scores backend " in result.stderr
    assert "not reported by the audit¹" in result.stdout and "import sorting" in result.stdout
    # the closing hint runs this gitorch, not whatever (if anything) `gitorch` is on PATH
    hint = next(line for line in result.stdout.splitlines() if line.startswith("try: cd "))
    assert "&& gitorch " not in hint and f"&& {sys.executable} -m gitorch log &&" in hint
