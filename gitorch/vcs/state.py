"""The state of a tree as an audit sees it: git's tree of the audited path plus the uncommitted changes there.

Two audits of the same state see the same files, so their result can be reused (:mod:`gitorch.audit.cache`);
between two states, :func:`changed_paths` names the files that may differ (what a per-file analyzer must
look at again).

NOTE: the uncommitted part covers modified, staged, deleted and untracked files that git does not ignore
(``git status --untracked-files=all``), each by the hash of its content as it is on disk now. Files git
ignores are not part of the state: an analyzer that reads them (bandit reads every ``.py`` file under the
path) may see a change the state does not; docs/performance.md says so and ``--no-cache`` is the way out.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gitorch.vcs.git import Git

DELETED = "-"


@dataclass(frozen=True)
class TreeState:
    """``tree``: the id git gives ``path`` in ``HEAD`` (None before the first commit, or when ``path`` is
    not in it); ``changes``: every uncommitted path under it (relative to the repository root) with the
    git blob id of its content on disk, or :data:`DELETED`."""

    path: str
    tree: str | None
    changes: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """One hash for the whole state: equal digests, equal files."""
        h = hashlib.sha256(f"{self.path}\0{self.tree or ''}\0".encode())
        for name in sorted(self.changes):
            h.update(f"{name}\0{self.changes[name]}\0".encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def as_dict(self) -> dict:
        return {"path": self.path, "tree": self.tree, "changes": dict(sorted(self.changes.items()))}

    @classmethod
    def from_dict(cls, data: dict) -> TreeState:
        changes = data.get("changes") or {}
        if not isinstance(changes, dict):
            raise ValueError("changes is not a mapping")
        changes = {str(k): str(v) for k, v in changes.items()}
        return cls(path=str(data["path"]), tree=data.get("tree"), changes=changes)


def blob_id(path: Path) -> str:
    """The id git would give the file's content as a blob (a symbolic link: its target), no filters."""
    data = os.readlink(path).encode("utf-8", "surrogateescape") if path.is_symlink() else path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def tree_state(root: Path, path: str = ".") -> TreeState:
    """The state of ``root/path`` now: two git calls (``rev-parse``, ``status``) and the uncommitted
    files read and hashed. ``--no-optional-locks``: the user's index is not rewritten."""
    git = Git(root)
    spec = "HEAD:" if path in ("", ".") else f"HEAD:{path}"
    done = git.call("rev-parse", "--verify", "-q", spec)
    tree = done.stdout.strip() or None if done.ok else None
    status = git.run(
        "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all",
        "--ignore-submodules=none", "--", path or ".", text=False,
    ).decode("utf-8", "surrogateescape")  # fmt: skip
    changes: dict[str, str] = {}
    for name in _status_paths(status):
        file = root / name
        try:
            if file.is_symlink() or file.is_file():
                changes[name] = blob_id(file)
            elif file.is_dir():  # a submodule or nested repository: its checked-out commit decides
                changes[name] = "dir:" + (Git(file).call("rev-parse", "HEAD").stdout.strip() or "?")
            else:
                changes[name] = DELETED
        except OSError:
            changes[name] = DELETED
    return TreeState(path=path or ".", tree=tree, changes=changes)


def _status_paths(out: str) -> list[str]:
    """Every path ``git status --porcelain -z`` names (both sides of a rename or copy)."""
    records = out.split("\0")
    paths: list[str] = []
    i = 0
    while i < len(records):
        record = records[i]
        i += 1
        if len(record) < 4:
            continue
        paths.append(record[3:].rstrip("/"))
        if record[0] in "RC" or record[1] in "RC":
            if i < len(records) and records[i]:
                paths.append(records[i].rstrip("/"))
            i += 1
    return paths


def changed_paths(root: Path, old: TreeState, new: TreeState) -> list[str] | None:
    """The files (relative to the repository root) that may differ between ``old`` and ``new``, sorted; None
    when it cannot be told (another path, a tree git no longer has)."""
    if old.path != new.path:
        return None
    names = set(old.changes) | set(new.changes)
    if old.tree != new.tree:
        if old.tree is None or new.tree is None:
            return None
        done = Git(root).call("diff-tree", "-r", "-z", "--name-only", "--no-renames", old.tree, new.tree)
        if not done.ok:
            return None
        prefix = "" if new.path in ("", ".") else new.path.rstrip("/") + "/"
        names |= {prefix + name for name in done.stdout.split("\0") if name}
    return sorted(names)
