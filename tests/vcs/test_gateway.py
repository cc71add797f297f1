"""The git gateway: no program the repository's configuration names runs on gitorch's behalf."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitorch.process.runner import ProcessError
from gitorch.vcs.git import Git, GitError, identity_env, update_ref
from gitorch.vcs.patch import ChangeCapture, apply_patch, worktree_patch
from gitorch.vcs.workspace import Worktree


def git(root: Path, *args: str) -> str:
    """The user's own git (tests act as the user)."""
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def tattler(path: Path, marker: Path) -> Path:
    """An executable that leaves ``marker`` behind when anything runs it."""
    path.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def root(git_repo) -> Path:
    return Path(git_repo.working_tree_dir)


def test_hooks_of_the_repository_never_run_on_gitorchs_commits_and_refs(root, tmp_path):
    marker = tmp_path / "ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction"):
        tattler(hooks / name, marker)
    git(root, "config", "core.hooksPath", str(hooks))
    git(root, "commit", "--allow-empty", "-q", "-m", "the user's commit runs hooks")
    assert marker.exists()  # the hooks are live for the user
    marker.unlink()
    head = git(root, "rev-parse", "HEAD").strip()
    wt = Worktree.create(root, root / ".git" / "gitorch" / "worktrees" / "s1",
                         root / ".git" / "gitorch" / "gitdirs" / "s1.git", head, branch="gitorch/s1",
                         excludes_file=tmp_path / "excludes")
    (wt.path / "new.txt").write_text("x\n", encoding="utf-8")
    wt.stage_all()
    commit = wt.commit_staged(head, "gitorch fix", "gitorch/s1", identity_env(wt.git))
    update_ref(root, "refs/gitorch/s1/iter-1", commit)
    assert not marker.exists()


def test_the_worktree_patch_ignores_external_diff_textconv_and_colour(root, tmp_path):
    marker = tmp_path / "ran"
    differ = tattler(tmp_path / "differ", marker)
    git(root, "config", "diff.external", str(differ))
    git(root, "config", "diff.conv.textconv", str(differ))
    git(root, "config", "color.diff", "always")
    git(root, "config", "color.ui", "always")
    (root / ".gitattributes").write_text("*.md diff=conv\n", encoding="utf-8")
    (root / "README.md").write_text("# changed\n", encoding="utf-8")
    patch = worktree_patch(root)
    assert not marker.exists()
    assert "\x1b[" not in patch
    assert "-# test\n+# changed\n" in patch
    git(root, "checkout", "--", "README.md")
    (root / ".gitattributes").unlink()
    apply_patch(root, patch)
    assert (root / "README.md").read_text(encoding="utf-8") == "# changed\n"


def test_an_fsmonitor_hook_and_a_signing_program_are_never_run(root, tmp_path):
    marker = tmp_path / "ran"
    program = tattler(tmp_path / "program", marker)
    git(root, "config", "core.fsmonitor", str(program))
    git(root, "config", "commit.gpgSign", "true")
    git(root, "config", "gpg.program", str(program))
    g = Git(root)
    g.run("status", "--porcelain")
    tree = g.run("write-tree").strip()
    g.run("commit-tree", tree, "-m", "unsigned", env=identity_env(g))
    assert not marker.exists()


def test_git_environment_pointing_elsewhere_is_not_inherited(root, tmp_path, monkeypatch):
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert Path(Git(root).run("rev-parse", "--show-toplevel").strip()) == root.resolve()


def test_an_explicit_environment_still_reaches_git(root, tmp_path):
    index = tmp_path / "index-copy"
    Git(root).run("read-tree", "HEAD", env={"GIT_INDEX_FILE": str(index)})
    assert index.is_file()


def test_a_failed_git_command_names_the_command_and_keeps_its_output(root):
    with pytest.raises(GitError) as caught:
        Git(root).run("rev-parse", "--verify", "no-such-ref")
    error = caught.value
    assert isinstance(error, ProcessError) and error.exit_code == 4
    assert str(error).startswith(f"git rev-parse --verify no-such-ref failed in {root}: ")
    assert error.argv[0] == "git" and error.argv[-1] == "no-such-ref"
    assert error.returncode == 128 and "Needed a single revision" in error.stderr


def test_a_patch_that_does_not_apply_is_a_git_error_with_gits_reason(root):
    with pytest.raises(GitError) as caught:
        apply_patch(root, "--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-a\n+b\n")
    assert "missing.txt" in caught.value.stderr


def test_a_change_capture_keeps_only_a_change_made_from_a_clean_worktree(root):
    clean = ChangeCapture(root)
    (root / "README.md").write_text("# edited\n", encoding="utf-8")
    (root / "added.py").write_text("x = 1\n", encoding="utf-8")
    assert clean.changed() and "+# edited" in clean.patch() and "added.py" in clean.patch()
    dirty = ChangeCapture(root)
    assert not dirty.clean_before and dirty.patch() is None and not dirty.changed()
