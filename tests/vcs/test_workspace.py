"""The run's workspace (gitorch.vcs.workspace): a git directory of its own, sharing only the objects.

Real repositories; the "agent" is the user's own git run inside the workspace, as a CLI would run it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitorch.vcs.git import Git, identity_env
from gitorch.vcs.workspace import Worktree, workspace_git_dir


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@b",
    }
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("X = 1\n")
    (root / ".gitignore").write_text("*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "branch", "feature")
    (root / "app.py").write_text("X = 2\n")
    git(root, "stash", "push", "-q")
    git(root, "config", "filter.mine.clean", "cat")
    git(root, "config", "core.hooksPath", str(tmp_path / "user-hooks"))
    (root / ".git" / "info" / "exclude").write_text("*.swp\n")
    return root


def make(repo: Path, name: str = "s1") -> Worktree:
    gitorch = repo / ".git" / "gitorch"
    return Worktree.create(
        repo,
        gitorch / "worktrees" / name,
        workspace_git_dir(repo, name),
        "HEAD",
        branch=f"gitorch/{name}",
        excludes_file=None,
    )


def test_a_workspace_shares_nothing_but_the_objects(repo):
    wt = make(repo)
    assert not wt.linked and wt.git_dir == repo / ".git" / "gitorch" / "gitdirs" / "s1.git"
    assert git(repo, "worktree", "list").count("\n") == 1  # no linked worktree in the user's repository
    assert (wt.path / ".git").read_text() == f"gitdir: {wt.git_dir}\n"
    config = (wt.git_dir / "config").read_text()
    assert "hooksPath" not in config and '[filter "mine"]' in config  # the user's filters, not their hooks
    assert f"checkout = {repo}" in config
    assert not list((wt.git_dir / "hooks").iterdir())
    assert (wt.git_dir / "info" / "exclude").read_text() == "*.swp\n"
    # an agent's own git commands see a repository with one branch, no stash, nothing of the user's
    assert git(wt.path, "branch", "--format=%(refname)").split() == ["refs/heads/gitorch/s1"]
    assert git(wt.path, "stash", "list") == ""
    assert git(wt.path, "log", "--format=%s") == "initial\n"  # the user's objects, read through alternates


def test_a_commit_is_published_on_the_users_run_branch(repo):
    wt = make(repo)
    green = wt.head()
    (wt.path / "new.py").write_text("Y = 1\n")
    wt.stage_all()
    commit = wt.commit_staged(green, "gitorch: fix\n", "gitorch/s1", identity_env(Git(repo)))
    assert git(repo, "rev-parse", "gitorch/s1").strip() == commit
    assert git(repo, "cat-file", "-t", commit).strip() == "commit"  # in the user's object store
    assert git(repo, "show", f"{commit}:new.py") == "Y = 1\n"
    assert wt.head_is("gitorch/s1", commit)
    wt.settle(commit)
    assert git(wt.path, "status", "--porcelain", "--ignored") == ""


def test_what_an_agent_does_to_refs_and_stash_in_the_workspace_stays_there(repo):
    wt = make(repo)
    before = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    (wt.path / "app.py").write_text("X = 3\n")
    git(wt.path, "stash", "push", "-q")
    git(wt.path, "commit", "-q", "--allow-empty", "-m", "agent commit")
    git(wt.path, "update-ref", "-d", "refs/heads/gitorch/s1")
    assert git(repo, "for-each-ref", "--format=%(refname) %(objectname)") == before
    assert git(repo, "stash", "list").count("\n") == 1


def test_opening_a_workspace_rewrites_what_gitorch_owns_there(repo, tmp_path):
    wt = make(repo)
    git(wt.path, "config", "filter.evil.clean", "sh -c 'touch /tmp/evil; cat'")
    git(wt.path, "config", "core.hooksPath", str(tmp_path))
    (wt.git_dir / "hooks" / "post-checkout").write_text("#!/bin/sh\n")
    (wt.path / ".git").write_text(f"gitdir: {tmp_path}\n")
    opened = Worktree.open(repo, wt.path, wt.git_dir)
    assert opened is not None and not opened.linked
    config = (wt.git_dir / "config").read_text()
    assert "evil" not in config and "hooksPath" not in config
    assert not list((wt.git_dir / "hooks").iterdir())
    assert (wt.path / ".git").read_text() == f"gitdir: {wt.git_dir}\n"


def test_gitorchs_commands_name_the_git_directory_and_never_follow_the_link(repo, tmp_path):
    wt = make(repo)
    elsewhere = tmp_path / "elsewhere"
    git(tmp_path, "init", "-q", str(elsewhere))
    (wt.path / ".git").write_text(f"gitdir: {elsewhere / '.git'}\n")
    assert wt.git.rev("HEAD") == git(repo, "rev-parse", "HEAD").strip()


def test_an_old_linked_worktree_is_still_opened(repo):
    path = repo / ".git" / "gitorch" / "worktrees" / "old"
    git(repo, "worktree", "add", "-q", "-b", "gitorch/old", str(path))
    old = Worktree.open(repo, path, workspace_git_dir(repo, "old"))
    assert old is not None and old.linked
    assert old.head_is("gitorch/old", git(repo, "rev-parse", "HEAD").strip())
    old.remove(repo)
    assert not path.exists() and git(repo, "worktree", "list").count("\n") == 1


def test_the_redactor_of_a_workspace_masks_the_env_files_of_the_users_checkout(repo):
    from gitorch.services.redact import Redactor

    (repo / ".env").write_text("SERVICE_TOKEN=wsp-canary-0123456789abcdef\n")
    wt = make(repo)
    assert not (wt.path / ".env").exists()
    red = Redactor.for_repository(wt.path, env={})
    assert "wsp-canary-0123456789abcdef" not in red.mask("token wsp-canary-0123456789abcdef")
