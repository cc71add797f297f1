"""The run's containment (gitorch.vcs.containment): the sandbox setting, and what the watch around a
process or a call calls a change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitorch.errors import ConfigError
from gitorch.vcs.containment import Containment
from gitorch.vcs.guard import ContainmentBreach
from gitorch.vcs.workspace import Worktree, workspace_git_dir


def git(cwd: Path, *args: str, locks: bool = True) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@b",
    }
    if not locks:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    (tmp_path / "home").mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text("A = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def no_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setenv("GITORCH_BWRAP", str(tmp_path / "missing" / "bwrap"))


def test_required_without_bubblewrap_refuses_to_start(repo, tmp_path, no_bubblewrap):
    with pytest.raises(ConfigError, match='sandbox = "required" but cannot run .*bwrap'):
        Containment.prepare("required", repo, tmp_path / "store")
    (repo / ".gitorch.toml").write_text('sandbox = "required"\n')
    env = {**os.environ, "GITORCH_LOAD_PLUGINS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "gitorch", "fix", "--repo", str(repo), "--dim", "security"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "apt-get install bubblewrap" in done.stderr
    assert not (repo / ".git" / "gitorch" / "sessions").exists()
    assert "gitorch/" not in git(repo, "branch", "--all")


def test_auto_without_bubblewrap_falls_back_and_says_why(repo, tmp_path, no_bubblewrap):
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    assert not contained.sandboxed and "NOT available (cannot run" in contained.describe()
    off = Containment.prepare("off", repo, tmp_path / "store")
    assert not off.sandboxed and 'sandbox = "off"' in off.describe()


def test_a_refreshed_index_is_no_change_but_a_staged_file_is(repo, tmp_path, no_bubblewrap):
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    (repo / "a.py").touch()  # stale stat data: the next status rewrites the index
    with contained.watching("the user's status", checkout=True):
        git(repo, "status", "--porcelain")
    with pytest.raises(ContainmentBreach) as caught, contained.watching("an agent", checkout=True):
        (repo / "b.py").write_text("B = 1\n")
        git(repo, "add", "b.py")
    assert caught.value.changed == [".git/index", "b.py"]
    assert git(repo, "status", "--porcelain", locks=False) == ""


def test_the_users_config_is_put_back_before_anything_runs_git(repo, tmp_path, no_bubblewrap):
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    config = (repo / ".git" / "config").read_text()
    with pytest.raises(ContainmentBreach, match=r"\.git/config"), contained.watching("x", checkout=False):
        git(repo, "config", "core.fsmonitor", "/bin/false")
    assert (repo / ".git" / "config").read_text() == config


def test_a_workspace_change_is_put_back_and_named_or_stops_a_test_run(repo, tmp_path, no_bubblewrap):
    gitorch = repo / ".git" / "gitorch"
    tree = Worktree.create(
        repo, gitorch / "worktrees" / "s", workspace_git_dir(repo, "s"), "HEAD", branch="gitorch/s"
    )
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    contained.use_workspace(tree)
    config = (tree.git_dir / "config").read_text()
    with contained.watching("agent", checkout=False):
        git(tree.path, "config", "core.hooksPath", "/tmp")
        git(tree.path, "status")  # the index: put back, but no reason to reject
    assert contained.take_workspace_changes() == ["config"]
    assert (tree.git_dir / "config").read_text() == config
    with pytest.raises(ContainmentBreach), contained.watching("tests", checkout=False, purpose="tests"):
        git(tree.path, "config", "filter.x.clean", "cat")
    assert (tree.git_dir / "config").read_text() == config


def test_calls_of_several_threads_share_one_window_and_a_change_by_any_is_put_back(
    repo, tmp_path, no_bubblewrap
):
    import threading

    contained = Containment.prepare("auto", repo, tmp_path / "store")
    config = (repo / ".git" / "config").read_text()
    job_in, main_out = threading.Event(), threading.Event()
    caught: list[BaseException] = []

    def job() -> None:  # a job's call (gitorch fix --jobs) that starts during another and ends after it
        try:
            with contained.watching("job", checkout=False):
                job_in.set()
                assert main_out.wait(5)
                git(repo, "config", "core.fsmonitor", "/bin/false")
        except ContainmentBreach as exc:
            caught.append(exc)

    thread = threading.Thread(target=job)
    with contained.watching("main", checkout=False):
        thread.start()
        assert job_in.wait(5)
    main_out.set()  # the first block ended with nothing changed; the job's is still open
    thread.join(5)
    assert len(caught) == 1 and caught[0].changed == [".git/config"]
    assert (repo / ".git" / "config").read_text() == config  # put back when the last block ended


def test_gitorchs_own_commit_during_a_window_is_no_change(repo, tmp_path, no_bubblewrap):
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "branch", "gitorch/s")
    with contained.watching("job", checkout=False):
        tree = git(repo, "write-tree").strip()
        commit = git(repo, "commit-tree", tree, "-p", head, "-m", "landed").strip()
        with contained.own_writes(["refs/heads/gitorch/s"]):
            git(repo, "update-ref", "-m", "gitorch: commit", "refs/heads/gitorch/s", commit, head)
    assert git(repo, "rev-parse", "gitorch/s").strip() == commit  # adopted, not put back
    with pytest.raises(ContainmentBreach, match="gitorch/s"), contained.watching("job", checkout=False):
        git(repo, "update-ref", "refs/heads/gitorch/s", head)  # the same ref moved by a call: a breach
    assert git(repo, "rev-parse", "gitorch/s").strip() == commit


def test_a_jobs_workspace_git_dir_is_put_back_around_its_call(repo, tmp_path, no_bubblewrap):
    gitorch = repo / ".git" / "gitorch"
    tree = Worktree.create(
        repo, gitorch / "worktrees" / "s.job1", workspace_git_dir(repo, "s.job1"), "HEAD",
        branch="gitorch/s-job1", new_branch=False,
    )
    contained = Containment.prepare("auto", repo, tmp_path / "store")
    config = (tree.git_dir / "config").read_text()
    with contained.watching_job_workspace(tree, "job-1") as changes:
        git(tree.path, "config", "filter.x.clean", "touch /tmp/owned")
        (tree.git_dir / "hooks" / "pre-commit").write_text("#!/bin/sh\n")
        git(tree.path, "status")  # the index: put back silently
    assert changes == ["config", "hooks/pre-commit"]
    assert (tree.git_dir / "config").read_text() == config
    assert not (tree.git_dir / "hooks" / "pre-commit").exists()
    assert "gitorch/s-job1" not in git(repo, "branch", "--list")  # the job's branch is its own
