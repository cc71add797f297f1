"""Getting a run back on its feet: after a crash, Ctrl-C or SIGTERM, and after an agent moved HEAD.

The invariant they restore: the run worktree is on the run branch, at the last green commit (the last
commit whose tests passed), with nothing else in it; whatever was half done is kept as a patch.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitorch.loop import events
from gitorch.loop.ledger import Ledger
from gitorch.loop.session import SessionState
from gitorch.vcs.git import Git
from gitorch.vcs.workspace import Worktree


def reconcile_green(tree: Worktree, state: SessionState, ledger: Ledger) -> None:
    """A commit whose ledger event was lost (a kill between ``update-ref`` and the event) is still green:
    the branch only ever moves after the tests passed. The user's run branch is the one that counts (the
    workspace's copy of it moves after it)."""
    tip = Git(Path(state.repo_root)).rev(f"refs/heads/{state.branch}")
    if tip and tip != state.green_commit:
        ledger.append(events.Reconciled(green=tip, previous=state.green_commit))
        state.green_commit = tip


def recover(tree: Worktree, state: SessionState, ledger: Ledger) -> None:
    """Put the worktree back on the last green commit, keeping any half-done attempt as a patch.

    Best effort: a failure is recorded, and ``gitorch resume`` does it again.
    """
    try:
        reconcile_green(tree, state, ledger)
        tree.reattach(state.branch)
        tree.git.run("reset", "-q", "--soft", state.green_commit)
        tree.stage_all()
        patch = tree.staged_patch(state.green_commit)
        if patch.strip():
            saved = ledger.save_patch(f"iter{state.iteration}-interrupted", patch)
            ledger.append(events.RollbackAttempt(reason="interrupted", patch=str(saved)))
        tree.restore(state.green_commit)
    except Exception as exc:
        ledger.append(events.Error(error=f"recovery failed: {type(exc).__name__}: {exc}"))


def bring_back_head(tree: Worktree, branch: str, green: str, ledger: Ledger) -> str | None:
    """An agent that committed, switched branch or detached HEAD in the worktree: undo the move, keep its
    edits (staged), and say what happened (a gate reason), or None when HEAD did not move."""
    if tree.head_is(branch, green):  # the usual case, read without running git
        return None
    symbolic = tree.symbolic_head()
    head = tree.git.rev("HEAD")
    tip = tree.git.rev(f"refs/heads/{branch}")
    tree.reattach(branch)
    if tip != green:
        tree.git.run("update-ref", "-m", "gitorch: undo agent move", f"refs/heads/{branch}", green)
    tree.git.run("reset", "-q", "--soft", green)
    ledger.append(events.AgentMovedHead(symbolic=symbolic, head=head, branch_tip=tip))
    return f"HEAD (agent left it at {symbolic or head})"


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the run like Ctrl-C (unless the caller installed a handler of its own)."""
    previous = signal.getsignal(signal.SIGTERM)
    ours = previous in (signal.SIG_DFL, None)
    if ours:
        with contextlib.suppress(ValueError):  # only the main thread may set handlers
            signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        if ours:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def ignoring_sigint() -> Iterator[None]:
    """A second Ctrl-C must not cut the recovery of the first short."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
