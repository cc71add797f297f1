"""Reading a repository's source lines for findings and prompts, never outside the tree or a secret file.

:class:`SourceLines` is for agents: the offending line of a finding (its ``snippet``, which keeps the
finding's fingerprint stable when lines move), each file read once::

    from gitorch.services.source import SourceLines

    lines = SourceLines(request.root)
    Finding(..., file="app/db.py", line=12, snippet=lines.line("app/db.py", 12))

:func:`read_source` is the one place that decides whether a file's text may be read at all; the fix
prompts' excerpts (:func:`gitorch.services.templates.file_excerpt`) use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitorch.services.redact import is_secret_file

#: Files larger than this are not read for snippets (a minified bundle, a data dump).
MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class Source:
    """A file's lines, or why they cannot be read (``refused``: then ``lines`` is empty)."""

    lines: tuple[str, ...] = ()
    refused: str | None = None


def read_source(root: Path | str, file: str, *, max_bytes: int = MAX_BYTES) -> Source:
    """The lines of ``root/file``, refused for a secret file (``.env``, keys: see
    :func:`gitorch.services.redact.is_secret_file`), a path outside ``root`` (a symbolic link leading
    out included), a missing, binary or oversized file."""
    root = Path(root)
    if not file:
        return Source(refused="no file given")
    if is_secret_file(file):
        return Source(refused="a secret file; its contents are never put into a prompt")
    try:
        path = (root / file).resolve()
        inside = path.relative_to(root.resolve())
    except (ValueError, OSError):
        return Source(refused="outside the repository")
    if not path.is_file():
        return Source(refused="no such file")
    if is_secret_file(inside):  # a symbolic link to a secret file
        return Source(refused="a secret file; its contents are never put into a prompt")
    try:
        if path.stat().st_size > max_bytes:
            return Source(refused=f"larger than {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as exc:
        return Source(refused=f"cannot be read: {exc.strerror or exc}")
    if b"\x00" in data[:8192]:
        return Source(refused="a binary file")
    return Source(lines=tuple(data.decode("utf-8", errors="replace").splitlines()))


class SourceLines:
    """Source lines of the files under ``root`` on demand, each file read once (see :func:`read_source`
    for what is never read: those files simply have no lines)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._files: dict[str, tuple[str, ...]] = {}

    def lines(self, file: str) -> tuple[str, ...]:
        """Every line of ``file`` (POSIX, relative to ``root``); empty when it cannot be read."""
        if file not in self._files:
            self._files[file] = read_source(self.root, file).lines
        return self._files[file]

    def line(self, file: str, number: int | None) -> str | None:
        """Line ``number`` (1-based) of ``file``, stripped; None when there is none or it is blank."""
        if not number or number < 1:
            return None
        lines = self.lines(file)
        if number > len(lines):
            return None
        return lines[number - 1].strip() or None
