"""The commands around the loop, through the real command line: fix, report, status, log, rollback, clean."""

from __future__ import annotations

import json

import pytest
from loophelpers import MARKER_CONFIG, branch_commits, fingerprint, git

from gitorch.loop.session import load_session

CONFIG = MARKER_CONFIG


@pytest.fixture
def repo(project, fake_plugins, monkeypatch):
    import gitorch.cli

    monkeypatch.setattr(gitorch.cli, "get_app_plugins", lambda: fake_plugins)

    def make(rules, name="repo"):
        root = project(rules, name)
        (root / ".gitorch.toml").write_text(CONFIG)
        git(root, "add", ".gitorch.toml")
        git(root, "commit", "-qm", "gitorch config")
        return root

    return make


def test_fix_prints_the_report_and_exits_with_what_happened(repo, cli):
    root = repo([("P1", "good"), ("P2", "good2")])
    result = cli("fix", "--repo", str(root), "--dim", "backend")
    assert result.exit_code == 0, result.output
    assert "# gitorch report" in result.stdout
    assert "SUCCESS (target reached)" in result.stdout
    assert "| P1 | 1 | 0 ✅ | 1 |" in result.stdout
    report = json.loads(cli("report", "--repo", str(root), "--format", "json").stdout)
    assert report["final_score"] == 100.0 and report["initial_score"] == 77.76  # P1 + P2: 60 + 19·100/107
    assert report["iterations_used"] == 2 and report["iterations_cap"] == 10
    assert report["fixed_by_severity"]["P1"] == 1 and report["findings_final"]["P1"] == 0
    assert report["files_modified"] == 1 and report["lines_removed"] == 2
    assert report["tests"] == "2 passed" and report["tests_passing"] is True
    status = json.loads(cli("status", "--repo", str(root), "--json").stdout)
    assert status["runs"][0]["stop_reason"] == "target" and status["lock"] is None
    log = cli("log", "--repo", str(root)).stdout
    assert "iteration 1: close_gaps" in log and "commit " in log and "stopped: target" in log


def test_exit_codes_for_a_human_decision_and_for_the_iteration_cap(repo, cli):
    root = repo([("P1", "bigdelete")])
    assert cli("fix", "--repo", str(root), "--dim", "backend").exit_code == 8
    root2 = repo([("P1", "good"), ("P2", "good2")], name="repo2")
    assert cli("fix", "--repo", str(root2), "--dim", "backend", "--max-iterations", "1").exit_code == 5
    root3 = repo([("P1", "good"), ("P2", "good2")], name="repo3")
    result = cli("fix", "--repo", str(root3), "--dim", "backend", "--until", "79", "-q")
    assert result.exit_code == 0 and result.stdout == ""


def test_rollback_moves_branch_and_worktree_and_can_be_undone(repo, cli):
    root = repo([("P1", "good"), ("P2", "good2")])
    cli("fix", "--repo", str(root), "--dim", "backend", "-q")
    state, _ = load_session(root)
    first, second = branch_commits(root, state)
    tip = lambda: git(root, "rev-parse", f"refs/heads/{state.branch}").strip()  # noqa: E731
    result = cli("rollback", "1", "--repo", str(root))
    assert result.exit_code == 0, result.output
    assert tip() == first
    assert git(state.worktree, "rev-parse", "HEAD").strip() == first
    assert "good2" in (root / ".git" / "gitorch" / "worktrees" / state.id / "app" / "calc.py").read_text()
    assert cli("rollback", "0", "--repo", str(root)).exit_code == 0
    assert tip() == state.base_commit
    assert cli("rollback", "--undo", "--repo", str(root)).exit_code == 0
    assert tip() == first
    assert cli("rollback", "--undo", "--repo", str(root)).exit_code == 0
    assert tip() == second
    assert cli("rollback", "--undo", "--repo", str(root)).exit_code == 2  # nothing left to undo
    # every tip the branch had stays reachable
    attic = git(root, "for-each-ref", "--format=%(objectname)", f"refs/gitorch/{state.id}/attic/").split()
    assert {first, second} <= set(attic)
    assert cli("rollback", "7", "--repo", str(root)).exit_code == 2


def test_rollback_refuses_and_changes_nothing_when_it_would_lose_work(repo, cli):
    root = repo([("P1", "good"), ("P2", "good2")])
    cli("fix", "--repo", str(root), "--dim", "backend", "-q")
    state, _ = load_session(root)
    scratch = root / ".git" / "gitorch" / "worktrees" / state.id / "app" / "calc.py"
    scratch.write_text(scratch.read_text() + "# my own edit\n")
    tip = git(root, "rev-parse", f"refs/heads/{state.branch}").strip()
    result = cli("rollback", "1", "--repo", str(root))
    assert result.exit_code == 2 and "uncommitted changes" in result.stderr
    assert git(root, "rev-parse", f"refs/heads/{state.branch}").strip() == tip
    assert scratch.read_text().endswith("# my own edit\n")
    assert not git(root, "for-each-ref", f"refs/gitorch/{state.id}/attic/").strip()


def test_clean_removes_worktrees_but_keeps_unmerged_branches_without_force(repo, cli):
    root = repo([("P1", "good")])
    cli("fix", "--repo", str(root), "--dim", "backend", "-q")
    state, _ = load_session(root)
    before = fingerprint(root)
    result = cli("clean", "--repo", str(root))
    assert result.exit_code == 0
    assert "removed worktree" in result.stdout and "kept branch" in result.stdout
    assert git(root, "rev-parse", "--verify", f"refs/heads/{state.branch}").strip()
    assert not (root / ".git" / "gitorch" / "worktrees" / state.id).exists()
    assert fingerprint(root) == before
    # the report still builds from the ledger
    assert json.loads(cli("report", "--repo", str(root), "--format", "json").stdout)["final_score"] == 100.0
    result = cli("clean", "--repo", str(root), "--force")
    assert f"deleted branch {state.branch}" in result.stdout
    assert not git(root, "for-each-ref", f"refs/heads/{state.branch}").strip()


def test_clean_deletes_a_merged_branch_without_force(repo, cli):
    root = repo([("P1", "good")])
    cli("fix", "--repo", str(root), "--dim", "backend", "-q")
    state, _ = load_session(root)
    git(root, "branch", "-q", "release", state.branch)  # merged into another branch than the checked-out one
    result = cli("clean", "--repo", str(root))
    assert f"deleted branch {state.branch}" in result.stdout


def test_resume_after_the_budget_with_a_new_budget(repo, cli):
    root = repo([("P1", "costly"), ("P1", "good")])
    assert cli("fix", "--repo", str(root), "--dim", "backend", "--budget", "0.3", "-q").exit_code == 6
    result = cli("resume", "--repo", str(root), "--budget", "2")
    assert result.exit_code == 0, result.output
    assert "$0.400/$2.00" in result.stdout


def test_dry_run_exits_zero_and_creates_no_run(repo, cli):
    root = repo([("P1", "good")])
    result = cli("fix", "--repo", str(root), "--dim", "backend", "--dry-run")
    assert result.exit_code == 0
    assert "would fix P1" in result.stderr
    assert cli("status", "--repo", str(root)).stdout.strip() == "no gitorch runs in this repository"


def test_resume_after_a_rollback_continues_from_the_rolled_back_tip(repo, cli):
    root = repo([("P1", "good"), ("P2", "good2")])
    cli("fix", "--repo", str(root), "--dim", "backend", "-q")
    state, _ = load_session(root)
    first, _second = branch_commits(root, state)
    assert cli("resume", "--repo", str(root)).exit_code == 2  # target reached: nothing to resume
    assert cli("rollback", "1", "--repo", str(root)).exit_code == 0
    result = cli("resume", "--repo", str(root), "-q")
    assert result.exit_code == 0, result.output
    resumed, _ = load_session(root)
    commits = branch_commits(root, resumed)
    assert commits[0] == first and len(commits) == 2 and commits[1] != _second
    assert "Gitorch-Iteration: 3" in git(root, "log", "-1", "--format=%B", commits[1])


def test_a_report_with_no_commit_asks_for_no_review(repo, cli):
    root = repo([("P1", "cannot")])
    result = cli("fix", "--repo", str(root), "--dim", "backend")
    assert result.exit_code == 7, result.output
    assert "No commit on `gitorch/" in result.stdout and "merge when satisfied" not in result.stdout
