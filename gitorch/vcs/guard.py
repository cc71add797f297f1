"""Watching the user's checkout while an agent gitorch cannot confine edits the run's worktree.

The AI CLIs are told to edit the worktree only, but some honour that only as far as their own sandbox
goes: observed here, codex (``-s workspace-write`` without a working Linux sandbox) and qwen
(``--approval-mode auto-edit``) write an absolute path outside their working directory when the model
asks. gitorch cannot stop a process from writing, so around each call of such an agent it:

- lists what ``git status`` reports in the user's checkout (run with ``--no-optional-locks``, so the
  index file is never rewritten), with each entry's size and modification time;
- copies the bytes of the user's uncommitted files (modified and untracked, within size limits) into
  the session folder, so that what an agent overwrites can be restored;
- compares after the call. Any difference stops the run (the attempt is rejected) and says which files
  changed and where their copies are. A file the user edits at the same moment is reported too: the
  guard cannot tell who wrote it, and stopping is the safe side.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gitorch.vcs.git import Git

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class CheckoutSnapshot:
    head: str
    entries: dict[str, tuple[str, int, int]]  # path -> (status, size, mtime_ns)
    backup: Path | None = None
    skipped: list[str] = field(default_factory=list)


def _status(root: Path) -> tuple[str, dict[str, str]]:
    git = Git(root)
    optional_locks_off = {"GIT_OPTIONAL_LOCKS": "0"}
    head = git.call("rev-parse", "--verify", "-q", "HEAD", env=optional_locks_off).stdout.strip()
    out = git.run(
        "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all",
        env=optional_locks_off, text=False,
    ).decode("utf-8", "surrogateescape")
    entries: dict[str, str] = {}
    parts = out.split("\0")
    i = 0
    while i < len(parts):
        item = parts[i]
        i += 1
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        if code[0] in "RC":  # a rename or copy is followed by its source path
            i += 1
        entries[path] = code
    return head, entries


def _stat(root: Path, path: str) -> tuple[int, int]:
    try:
        st = (root / path).lstat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def snapshot(root: Path, backup_dir: Path | None = None) -> CheckoutSnapshot:
    """What the checkout at ``root`` looks like now; with ``backup_dir``, a copy of its uncommitted files."""
    head, status = _status(root)
    entries = {path: (code, *_stat(root, path)) for path, code in status.items()}
    skipped: list[str] = []
    backup = None
    if backup_dir is not None and entries:
        total = 0
        for path, (_, size, _) in sorted(entries.items()):
            source = root / path
            if size < 0 or not source.is_file() or source.is_symlink():
                continue
            if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
                skipped.append(path)
                continue
            target = backup_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            total += size
            backup = backup_dir
    return CheckoutSnapshot(head, entries, backup, skipped)


def changes_since(root: Path, before: CheckoutSnapshot) -> list[str]:
    """Paths of the checkout that changed since ``before`` (a moved HEAD is reported as ``HEAD``)."""
    after = snapshot(root)
    changed = {
        path
        for path in before.entries.keys() | after.entries.keys()
        if before.entries.get(path) != after.entries.get(path)
    }
    if after.head != before.head:
        changed.add("HEAD")
    return sorted(changed)
