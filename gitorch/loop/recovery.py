"""Getting a run back on its feet: after a crash, Ctrl-C or SIGTERM, and after an agent moved HEAD.

The invariant they restore: the run worktree is on the run branch, at the last green commit (the last
commit whose tests passed), with nothing else in it; whatever was half done is kept as a patch.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitorch.loop import events
from gitorch.loop.ledger import Ledger
from gitorch.loop.session import SessionState
from gitorch.process.runner import kill_group_if_same
from gitorch.vcs.git import Git, delete_ref, gitorch_dir
from gitorch.vcs.workspace import Worktree, remove_leftovers, workspace_git_dir


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


def keep_changes(tree: Worktree, base: str, ledger: Ledger, label: str) -> None:
    """Save what a job worktree holds beyond ``base`` as a patch in the ledger (best effort)."""
    with contextlib.suppress(Exception):
        tree.stage_all()
        patch = tree.staged_patch(base)
        if patch.strip():
            saved = ledger.save_patch(label, patch)
            ledger.append(
                events.RollbackAttempt(reason="interrupted", detail="a parallel call", patch=str(saved))
            )


def job_git_dir(root: Path, session_id: str, number: int) -> Path:
    """The git directory of job ``number``'s workspace (``gitorch fix --jobs``), beside the run's own."""
    return workspace_git_dir(root, f"{session_id}.job{number}")


def leftover(root: Path, path: Path, git_dir: Path, branch: str) -> None:
    """Remove a job workspace a killed run left behind (before a slot is made there again); a job branch
    in the user's repository too (an older gitorch made job worktrees with ``git worktree add``)."""
    found = Worktree.open(root, path, git_dir)
    if found is not None:
        found.remove(root)
    if path.exists() or git_dir.exists():
        remove_leftovers(root, path, git_dir)
    if Git(root).rev(f"refs/heads/{branch}"):
        delete_ref(root, f"refs/heads/{branch}")


def recover_jobs(root: Path, worktree: Path, state: SessionState, ledger: Ledger) -> list[str]:
    """After a crash, Ctrl-C or SIGKILL of a ``--jobs`` run: kill the process groups its calls left running
    (recorded in ``<session>/running/``, each checked to be the same process by its start time), keep each
    job workspace's changes as a patch, and remove the job workspaces (and their git directories). Returns
    what it removed."""
    removed: list[str] = []
    running = ledger.dir / "running"
    if running.is_dir():
        for record in sorted(running.iterdir()):
            with contextlib.suppress(OSError, ValueError, KeyError):
                data = json.loads(record.read_text())
                if kill_group_if_same(int(data["pid"]), data.get("start")):
                    removed.append(f"process group {data['pid']}")
            record.unlink(missing_ok=True)
    paths = {p for p in worktree.parent.glob(f"{worktree.name}.job*")}
    gitdirs = workspace_git_dir(root, f"{state.id}.job1").parent
    paths |= {
        worktree.parent / g.name.removesuffix(".git") for g in gitdirs.glob(f"{state.id}.job*.git")
    }
    for path in sorted(paths):
        number = path.name.rsplit(".job", 1)[-1]
        if not number.isdigit():
            continue
        branch = f"{state.branch}-job{number}"
        git_dir = job_git_dir(root, state.id, int(number))
        with contextlib.suppress(Exception):  # opening rewrites the settings an agent may have left
            job = Worktree.open(root, path, git_dir, gitorch_dir(root) / "exclude")
            if job is not None:
                base = job.git.rev(f"refs/heads/{branch}") or state.green_commit
                keep_changes(job, base, ledger, f"iter{state.iteration}-job{number}-interrupted")
        leftover(root, path, git_dir, branch)
        removed.append(str(path))
    return removed


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
