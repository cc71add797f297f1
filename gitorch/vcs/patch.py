"""A working tree's uncommitted change as one patch, and that patch applied again elsewhere.

An agent's fix is kept with its recorded call as the patch of what it changed (new files included),
so that a replay re-applies the change with no agent at all::

    capture = ChangeCapture(worktree)       # before the agent runs
    ...                                     # the agent edits the worktree
    capture.patch()                         # what it changed ("" when nothing); None if not clean before
    apply_patch(other_worktree, patch)      # the replay
"""

from __future__ import annotations

from pathlib import Path

from gitorch.vcs.git import DIFF_SAFETY, Git, GitError


def worktree_patch(root: Path) -> str:
    """The worktree's uncommitted changes as one ``git apply``-able patch, new files included."""
    git = Git(root)
    plain = ("--binary", *DIFF_SAFETY)
    try:
        parts = [git.run("diff", "HEAD", *plain, check=False)]
        untracked = git.run("ls-files", "--others", "--exclude-standard", "-z", check=False)
        for name in filter(None, untracked.split("\0")):
            # --no-index exits 1 when the files differ, which they always do here.
            parts.append(git.run("diff", "--no-index", *plain, "--", "/dev/null", name, check=False))
    except GitError:  # git itself could not be run
        return ""
    return "".join(parts)


def apply_patch(root: Path, patch: str) -> None:
    """Apply a :func:`worktree_patch` to ``root``; :class:`GitError` (with git's stderr) when it does not
    apply."""
    Git(root).run("apply", "--binary", "--whitespace=nowarn", "-", input=patch)


class ChangeCapture:
    """What one step changes in a worktree: its state before, and the patch of the change after.

    The change can be kept only when the worktree was clean before (otherwise the patch would also
    hold changes made earlier); :meth:`patch` is then the change, else None.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.before = worktree_patch(self.root)
        self._after: str | None = None

    @property
    def clean_before(self) -> bool:
        return self.before == ""

    def after(self) -> str:
        """The worktree's patch after the step (taken once, then remembered)."""
        if self._after is None:
            self._after = worktree_patch(self.root)
        return self._after

    def patch(self) -> str | None:
        """The change made since construction, when the worktree was clean before; else None."""
        return self.after() if self.clean_before else None

    def changed(self) -> bool:
        return self.after() != self.before
