"""Operations on runs after (or between) loops: rollback, its undo, and clean.

None of them loses work: the tip a rollback leaves is saved under ``refs/gitorch/<id>/attic/<n>``;
anything uncommitted in a run worktree makes rollback refuse, and clean keeps it as a patch first;
a run branch with commits not merged into HEAD is only deleted with ``force``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitorch.errors import UsageError
from gitorch.loop import events
from gitorch.loop.ledger import Ledger, now_iso
from gitorch.loop.lock import RunLock, running_session
from gitorch.loop.recovery import recover_jobs
from gitorch.loop.session import SessionState, list_sessions, load_session, sessions_dir
from gitorch.vcs.containment import Containment
from gitorch.vcs.git import (
    REF_NAMESPACE,
    Git,
    attic_prefix,
    delete_ref,
    iteration_ref,
    list_refs,
    update_ref,
)
from gitorch.vcs.workspace import Worktree, remove_leftovers, workspace_git_dir


def _refuse_if_running(root: Path, state: SessionState, what: str) -> None:
    if running_session(root) == state.id:
        raise UsageError(f"session {state.id} is running; stop it before {what}")


def _worktree(root: Path, state: SessionState) -> Worktree | None:
    """The session's workspace (or the linked worktree of an older session), if it is still there."""
    return Worktree.open(root, Path(state.worktree), workspace_git_dir(root, state.id))


def _refuse_if_dirty(wt: Worktree | None, what: str) -> None:
    if wt is not None and wt.dirty():
        raise UsageError(
            f"the run worktree {wt.path} has uncommitted changes that {what} would lose; nothing was changed "
            f"(inspect them with `git -C {wt.path} status`, or `gitorch resume` keeps them as a patch)"
        )


def _move_branch(root: Path, state: SessionState, target: str, event: str) -> tuple[str, str]:
    """Save the tip in the attic, move the branch (and worktree) to ``target``; returns (tip, attic ref)."""
    git = Git(root)
    tip = git.rev(f"refs/heads/{state.branch}")
    if tip is None:
        raise UsageError(f"the run branch {state.branch} no longer exists")
    n = len(list_refs(root, attic_prefix(state.id))) + 1
    attic = f"{attic_prefix(state.id)}{n}"
    update_ref(root, attic, tip, message=f"gitorch: {event} saves the tip")
    update_ref(root, f"refs/heads/{state.branch}", target, tip, message=f"gitorch: {event}")
    wt = _worktree(root, state)
    if wt is not None:
        wt.restore(target)
    state.green_commit = target
    state.updated_at = now_iso()
    return tip, attic


def rollback(root: Path, iteration: int, session_id: str | None = None) -> tuple[SessionState, str, str]:
    """Move the run branch (and its worktree) to the end of ``iteration`` (0 = the start of the run).

    Returns (state, target commit, attic ref holding the previous tip).
    """
    state, ledger = load_session(root, session_id)
    _refuse_if_running(root, state, "rolling back")
    target = Git(root).rev(iteration_ref(state.id, iteration))
    if target is None:
        known = sorted(
            int(r.rsplit("-", 1)[1]) for r in list_refs(root, f"{REF_NAMESPACE}/{state.id}/") if "/iter-" in r
        )
        raise UsageError(
            f"session {state.id} has no iteration {iteration} (known: {', '.join(map(str, known)) or 'none'})"
        )
    _refuse_if_dirty(_worktree(root, state), "the rollback")
    tip, attic = _move_branch(root, state, target, "rollback")
    ledger.append(events.Rollback(previous_tip=tip, target=target, attic=attic, iteration=iteration))
    state.rollbacks.append(attic)
    ledger.save(state)
    return state, target, attic


def undo_rollback(root: Path, session_id: str | None = None) -> tuple[SessionState, str]:
    """Put the run branch back where the last rollback found it (the current tip goes to the attic too)."""
    state, ledger = load_session(root, session_id)
    _refuse_if_running(root, state, "undoing a rollback")
    if not state.rollbacks:
        raise UsageError(f"session {state.id} has no rollback to undo")
    attic = state.rollbacks[-1]
    target = Git(root).rev(attic)
    if target is None:
        raise UsageError(f"{attic} is gone; cannot undo")
    _refuse_if_dirty(_worktree(root, state), "undoing the rollback")
    tip, saved = _move_branch(root, state, target, "rollback_undo")
    ledger.append(events.RollbackUndo(previous_tip=tip, target=target, attic=saved, undoes=attic))
    state.rollbacks.pop()
    ledger.save(state)
    return state, target


@dataclass
class CleanResult:
    removed_worktrees: list[str] = field(default_factory=list)
    deleted_branches: list[str] = field(default_factory=list)
    kept_branches: list[str] = field(default_factory=list)
    saved_patches: list[str] = field(default_factory=list)
    stale_lock: str | None = None
    skipped_running: list[str] = field(default_factory=list)
    kept_copies: list[str] = field(default_factory=list)


def _user_branches(git: Git) -> list[str]:
    out = git.run("for-each-ref", "--format=%(refname)", "refs/heads/")
    return [r for r in out.split() if not r.startswith("refs/heads/gitorch/")]


def _in_another_branch(git: Git, commit: str) -> bool:
    """Whether a local branch other than gitorch's own holds ``commit`` (the run was merged somewhere)."""
    out = git.run("for-each-ref", "--contains", commit, "--format=%(refname)", "refs/heads/")
    return any(not r.startswith("refs/heads/gitorch/") for r in out.split())


def clean(root: Path, *, force: bool = False) -> CleanResult:
    """Remove finished runs' worktrees; delete run branches already merged (all of them with ``force``)."""
    result = CleanResult()
    held = RunLock(root).clear_stale()
    if held is not None:
        result.stale_lock = held.describe()
    live = running_session(root)
    git = Git(root)
    sessions = sessions_dir(root)
    for state in list_sessions(root):
        if state.id == live:
            result.skipped_running.append(state.id)
            continue
        if (
            state.cleaned
            and not Path(state.worktree).exists()
            and git.rev(f"refs/heads/{state.branch}") is None
        ):
            continue  # nothing left of it but its ledger
        ledger = Ledger(sessions / state.id)
        if state.status == "running":  # its process died without closing the session
            state.status, state.stop_reason = "interrupted", "interrupted"
            state.stop_detail = "the process died; closed by gitorch clean"
        for what in recover_jobs(root, Path(state.worktree), state, ledger):  # a dead --jobs run's leftovers
            result.removed_worktrees.append(what)
        wt = _worktree(root, state)
        if wt is not None:
            if wt.dirty():
                wt.stage_all()
                patch = wt.staged_patch(state.green_commit)
                if patch.strip():
                    saved = ledger.save_patch("clean-leftover", patch)
                    result.saved_patches.append(str(saved))
            wt.remove(root)
            result.removed_worktrees.append(str(wt.path))
        elif Path(state.worktree).exists() or workspace_git_dir(root, state.id).exists():
            remove_leftovers(root, Path(state.worktree), workspace_git_dir(root, state.id))
        # copies of the user's files a killed run took before its last call: moved aside, never deleted
        kept = Containment.keep_leftovers(sessions / state.id / "containment")
        if kept is not None:
            result.kept_copies.append(str(kept))
        tip = git.rev(f"refs/heads/{state.branch}")
        if tip is not None:
            merged = tip == state.base_commit or _in_another_branch(git, tip)
            if merged or force:
                git.run("update-ref", "-d", f"refs/heads/{state.branch}")
                result.deleted_branches.append(state.branch)
                if force:
                    for ref in list_refs(root, f"{REF_NAMESPACE}/{state.id}/"):
                        delete_ref(root, ref)
            else:
                others = [f"^{r}" for r in _user_branches(git)]
                ahead = git.run("rev-list", "--count", tip, *others).strip()
                result.kept_branches.append(
                    f"{state.branch} ({ahead} commit(s) not merged; --force deletes it)"
                )
        state.cleaned = True
        ledger.append(events.Clean(force=force))
        ledger.save(state)
    return result
