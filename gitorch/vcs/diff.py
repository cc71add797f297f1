"""Unified-diff analysis of one fix attempt (unidiff): what the gates decide on."""

from __future__ import annotations

from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from gitorch.errors import GitorchError


@dataclass(frozen=True)
class FileChange:
    """One file of an attempt's diff. ``path`` is the new path (the old one for a deleted file)."""

    path: str
    old_path: str | None
    added: int
    removed: int
    is_new: bool = False
    is_deleted: bool = False
    is_renamed: bool = False
    is_binary: bool = False
    is_symlink: bool = False
    added_lines: tuple[str, ...] = ()
    removed_lines: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path this change touches (both names of a rename)."""
        return (self.path,) if not self.old_path or self.old_path == self.path else (self.old_path, self.path)


@dataclass(frozen=True)
class DiffStats:
    """Per-file changes and totals of one attempt's diff."""

    files: tuple[FileChange, ...] = field(default_factory=tuple)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)

    @property
    def touched(self) -> list[str]:
        return sorted({p for f in self.files for p in f.paths})

    @property
    def empty(self) -> bool:
        return not self.files

    def summary(self) -> dict:
        return {
            "files": len(self.files),
            "added": self.added,
            "removed": self.removed,
            "new": [f.path for f in self.files if f.is_new],
            "deleted": [f.path for f in self.files if f.is_deleted],
            "renamed": [[f.old_path, f.path] for f in self.files if f.is_renamed],
            "binary": [f.path for f in self.files if f.is_binary],
            "per_file": {f.path: [f.added, f.removed] for f in self.files},
        }


def _strip(name: str | None) -> str | None:
    if name is None or name == "/dev/null":
        return None
    return name[2:] if name.startswith(("a/", "b/")) else name


def analyze(patch: str) -> DiffStats:
    """Parse a ``git diff`` patch into :class:`DiffStats`."""
    if not patch.strip():
        return DiffStats()
    try:
        patch_set = PatchSet(patch)
    except UnidiffParseError as exc:
        raise GitorchError(f"could not analyse the attempt's diff: {exc}") from None
    files = []
    for pf in patch_set:
        added_lines = tuple(line.value.rstrip("\n") for hunk in pf for line in hunk if line.is_added)
        removed_lines = tuple(line.value.rstrip("\n") for hunk in pf for line in hunk if line.is_removed)
        source, target = _strip(pf.source_file), _strip(pf.target_file)
        files.append(
            FileChange(
                path=target or source or pf.path,
                old_path=source,
                added=pf.added,
                removed=pf.removed,
                # from git's headers (/dev/null), not unidiff's hunk heuristic: an emptied file is not deleted
                is_new=source is None,
                is_deleted=target is None,
                is_renamed=pf.is_rename,
                is_binary=pf.is_binary_file,
                is_symlink=pf.is_symlink,
                added_lines=added_lines,
                removed_lines=removed_lines,
            )
        )
    return DiffStats(tuple(files))


def touched_lines(patch: str) -> dict[str, set[int]]:
    """``{file: line numbers of the new file the patch added or rewrote}`` from a ``git diff``; where
    lines were only deleted, the lines on either side of the gap. Deleted files are left out."""
    if not patch.strip():
        return {}
    try:
        patch_set = PatchSet(patch)
    except UnidiffParseError as exc:
        raise GitorchError(f"could not analyse the attempt's diff: {exc}") from None
    out: dict[str, set[int]] = {}
    for patched in patch_set:
        if patched.is_removed_file:
            continue
        lines = out.setdefault(_strip(patched.target_file) or patched.path, set())
        for hunk in patched:
            # NOTE: with no new lines, git's hunk start is the line before the gap.
            position = hunk.target_start - 1 if hunk.target_length else hunk.target_start
            items = list(hunk)
            for i, line in enumerate(items):
                if line.target_line_no:
                    position = line.target_line_no
                    if line.is_added:
                        lines.add(position)
                elif (
                    line.is_removed
                    and not any(x.is_added for x in items[i + 1 : i + 2])
                    and not (i and items[i - 1].is_removed)
                ):
                    lines.update(n for n in (position, position + 1) if n >= 1)
    return out
