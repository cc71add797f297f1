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
