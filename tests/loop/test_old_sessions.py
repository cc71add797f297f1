"""Sessions made before the workspace had a git directory of its own (a ``git worktree add`` linked worktree
sharing refs, stash, config and hooks with the user's repository): resume moves them to a workspace of
their own; rollback and clean still work on them as they are."""

from __future__ import annotations

import shutil
from pathlib import Path

from loophelpers import branch_commits, fingerprint, git, loop_config, options

from gitorch.loop import LoopUI, create_session, resume_run, start_run
from gitorch.loop import events as ev
from gitorch.loop.lock import RunLock
from gitorch.loop.runs import clean, rollback
from gitorch.loop.session import load_session
from gitorch.vcs.workspace import workspace_git_dir


def make_it_old(root: Path, state) -> Path:
    """Replace the session's workspace by the linked worktree an older gitorch made."""
    path = Path(state.worktree)
    shutil.rmtree(path)
    shutil.rmtree(workspace_git_dir(root, state.id))
    git(root, "worktree", "add", "-q", str(path), state.branch)
    return path


def linked_worktrees(root: Path) -> int:
    return git(root, "worktree", "list").count("\n") - 1


def test_resume_moves_an_old_linked_worktree_to_a_workspace_of_its_own(project, fake_plugins):
    root = project([("P1", "good")])
    config = loop_config(root)
    loop = create_session(root, config, fake_plugins, options(config))
    state = loop.state
    RunLock(root).release(state.id)  # the old process is gone
    path = make_it_old(root, state)
    (path / "app" / "half.py").write_text("half an edit\n")  # what the killed attempt left
    before = fingerprint(root)

    resumed = resume_run(root, config, fake_plugins, state.id, ui=LoopUI())

    assert resumed.stop_reason == "target" and resumed.commits == 1
    assert linked_worktrees(root) == 0 and workspace_git_dir(root, state.id).is_dir()
    assert (path / ".git").read_text() == f"gitdir: {workspace_git_dir(root, state.id)}\n"
    _, ledger = load_session(root, state.id)
    (moved,) = ledger.events(ev.WorkspaceMigrated)
    assert moved.worktree == str(path)
    (kept,) = [e for e in ledger.events(ev.RollbackAttempt) if e.reason == "interrupted"]
    assert "half an edit" in Path(kept.patch).read_text()
    assert fingerprint(root) == before


def test_rollback_and_clean_work_on_an_old_session_as_it_is(project, fake_plugins):
    root = project([("P1", "good")])
    config = loop_config(root)
    state = start_run(root, config, fake_plugins, options(config), LoopUI())
    (commit,) = branch_commits(root, state)
    path = make_it_old(root, state)
    assert linked_worktrees(root) == 1

    _, target, _ = rollback(root, 0, state.id)

    assert target == state.base_commit and git(root, "rev-parse", state.branch).strip() == target
    assert git(path, "rev-parse", "HEAD").strip() == target  # the linked worktree moved with it
    result = clean(root, force=True)
    assert result.removed_worktrees == [str(path)] and linked_worktrees(root) == 0
    assert commit not in git(root, "for-each-ref")
