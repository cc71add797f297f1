"""Copies of a set of files, to see what changed since and to put it back: :class:`Vault`.

A vault watches *areas* (a directory walked recursively, minus pruned sub-directories, or a list of
single files) and keeps a copy of each file it may have to restore. Copies are taken incrementally:
a file is copied again only when its stat signature changed since its last copy, so that watching a
checkout around every agent call costs one walk of its files, not a copy of them.

The signature is (size, mtime, ctime, inode, mode): a process can set a file's mtime back, never its
ctime, so any write, rename or chmod shows. Nothing is followed: a symbolic link is watched and kept as
a link. ::

    vault = Vault(store, [Area("git", git_dir, skip=lambda rel: rel == "objects")])
    before = vault.refresh()          # the state now, copies brought up to date
    ...                               # something runs
    changed = vault.changes(before)   # ["git/config", "git/hooks/post-checkout"]
    vault.restore(before, changed, displaced_dir)
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

Signature = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, mode


def _keep_all(rel: str) -> bool:
    return False


@dataclass(frozen=True)
class Area:
    """What a vault watches under ``base``, its keys prefixed with ``label``: the whole tree but the paths
    ``skip(relative path)`` leaves out (a skipped directory is not entered), or only ``files``."""

    label: str
    base: Path
    skip: Callable[[str], bool] = _keep_all
    files: tuple[str, ...] | None = None

    def key(self, rel: str) -> str:
        return f"{self.label}/{rel}"


@dataclass
class Restoration:
    """What :meth:`Vault.restore` did: paths put back, paths removed (they did not exist before), paths it
    could not put back (no copy), and where the changed versions were moved."""

    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    displaced: Path | None = None


def signature(path: Path) -> Signature | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)


def _walk(area: Area) -> Iterator[tuple[str, Path]]:
    if area.files is not None:
        for rel in area.files:
            yield rel, area.base / rel
        return
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(area.base / rel_dir if rel_dir else area.base))
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if area.skip(rel):
                continue
            if is_dir:
                stack.append(rel)
            else:
                yield rel, Path(entry.path)


class Vault:
    """Watches ``areas`` and keeps copies under ``store`` of the files ``keep(key)`` accepts, within
    ``max_file`` bytes a file and ``max_total`` bytes in all."""

    def __init__(
        self,
        store: Path,
        areas: list[Area],
        *,
        keep: Callable[[str], bool] = lambda key: True,
        max_file: int | None = None,
        max_total: int | None = None,
    ) -> None:
        self.store = Path(store)
        self.areas = {area.label: area for area in areas}
        self.keep = keep
        self.max_file = max_file
        self.max_total = max_total
        self._copied: dict[str, tuple[Signature, int]] = {}  # key -> (signature when copied, size)
        self.unprotected: list[str] = []  # files watched but too big to copy (in the last refresh)

    def path(self, key: str) -> Path:
        label, _, rel = key.partition("/")
        return self.areas[label].base / rel

    def scan(self) -> dict[str, Signature]:
        """The signature of every watched file now."""
        found: dict[str, Signature] = {}
        for area in self.areas.values():
            for rel, path in _walk(area):
                sig = signature(path)
                if sig is not None:
                    found[area.key(rel)] = sig
        return found

    def refresh(self, keep: Callable[[str], bool] | None = None) -> dict[str, Signature]:
        """Scan, and bring the copies up to date with what is there now; returns the state."""
        keep = keep or self.keep
        state = self.scan()
        for key in list(self._copied):
            if key not in state or not keep(key):
                self._drop(key)
        total = sum(size for _, size in self._copied.values())
        self.unprotected = []
        for key, sig in sorted(state.items()):
            if not keep(key) or self._copied.get(key, (None, 0))[0] == sig:
                continue
            size = sig[0]
            previous = self._copied.get(key, (None, 0))[1]
            if (self.max_file is not None and size > self.max_file) or (
                self.max_total is not None and total - previous + size > self.max_total
            ):
                self._drop(key)
                total -= previous
                self.unprotected.append(key)
                continue
            if self._copy(self.path(key), self.store / key):
                self._copied[key] = (sig, size)
                total += size - previous
        return state

    def adopt(self, keys: set[str]) -> dict[str, Signature]:
        """Take ``keys`` as they are now (gitorch wrote them itself): their copies renewed; returns their
        signatures (a key absent now is left out, and its copy dropped)."""
        now: dict[str, Signature] = {}
        for key in sorted(keys):
            label = key.partition("/")[0]
            sig = signature(self.path(key)) if label in self.areas else None
            if sig is None or not self.keep(key):
                self._drop(key)
                if sig is not None:
                    now[key] = sig
                continue
            if self._copy(self.path(key), self.store / key):
                self._copied[key] = (sig, sig[0])
            now[key] = sig
        return now

    def kept(self, key: str) -> bool:
        return key in self._copied

    def changes(self, before: dict[str, Signature]) -> list[str]:
        """Keys whose file appeared, disappeared or changed since ``before``."""
        after = self.scan()
        return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))

    def restore(
        self,
        before: dict[str, Signature],
        keys: list[str],
        displaced: Path,
        fallback: Callable[[str, Path], bool] | None = None,
    ) -> Restoration:
        """Put ``keys`` back as they were in ``before``: from the copies, else through ``fallback(key,
        path)`` (True when it wrote the file); a file that did not exist is removed. The version found
        is moved under ``displaced`` first, so that nothing is lost either way."""
        done = Restoration()
        for key in keys:
            path = self.path(key)
            if os.path.lexists(path):
                target = displaced / key
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(path, target)  # a file, a link, or a directory put where a file was
                except OSError:
                    shutil.move(path, target)
                done.displaced = displaced
            if key not in before:
                done.removed.append(key)
                continue
            copy = self.store / key
            from_copy = self.kept(key) and os.path.lexists(copy) and self._copy(copy, path)
            if from_copy or (fallback is not None and fallback(key, path)):
                done.restored.append(key)
                mtime = before[key][1]
                with contextlib.suppress(OSError, NotImplementedError):
                    os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
            else:
                done.lost.append(key)
        return done

    def discard(self) -> None:
        """Remove every copy (the store directory included)."""
        shutil.rmtree(self.store, ignore_errors=True)
        self._copied.clear()

    def _drop(self, key: str) -> None:
        self._copied.pop(key, None)
        with contextlib.suppress(OSError):
            (self.store / key).unlink()

    @staticmethod
    def _copy(source: Path, target: Path) -> bool:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(target):
                target.unlink()
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            else:
                shutil.copy2(source, target)
        except OSError:
            return False
        return True


