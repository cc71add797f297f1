"""The one-run-per-repository lock: ``<git-common-dir>/gitorch/lock``, created exclusively.

NOTE: a live run writes its lock file in the instant it creates it. A lock file that is empty or holds no
valid lock (a run killed in that instant, a disk that filled up, a hand edit) and is older than
:data:`DAMAGED_GRACE_S` was left by no live run: it is named for what it is, and ``gitorch clean``
removes it, instead of being taken for a run on another host forever.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from pydantic import BaseModel

from gitorch.errors import UsageError
from gitorch.loop.ledger import now_iso
from gitorch.vcs.git import gitorch_dir


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


DAMAGED_GRACE_S = 10.0


class LockInfo(BaseModel):
    session: str
    pid: int
    host: str
    started_at: str
    process_start: str | None = None
    damaged: str | None = None  # why the file holds no valid lock
    age_s: float = 0.0  # of a damaged lock file

    def alive(self) -> bool | None:
        """True/False for a process on this host; None when it runs on another host (cannot tell)."""
        if self.damaged is not None:
            return self.age_s < DAMAGED_GRACE_S  # a run that is writing it right now, or none at all
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # a pid reused by another process: the run that held the lock is gone
        return self.process_start is None or process_start(self.pid) in (None, self.process_start)

    def describe(self) -> str:
        if self.damaged is not None:
            return f"a lock file that is {self.damaged}, written by no live run"
        return f"session {self.session}, pid {self.pid} on {self.host}, started {self.started_at}"


class RunLock:
    """``<git-common-dir>/gitorch/lock``: created exclusively; holds pid, host and start time."""

    def __init__(self, root: Path) -> None:
        self.path = gitorch_dir(root) / "lock"

    def read(self) -> LockInfo | None:
        try:
            data = self.path.read_bytes()
            age = max(0.0, time.time() - self.path.stat().st_mtime)
        except FileNotFoundError:
            return None
        try:
            return LockInfo.model_validate_json(data)
        except ValueError:
            what = "empty" if not data.strip() else "damaged (not a gitorch lock)"
            return LockInfo(session="?", pid=-1, host="?", started_at="?", damaged=what, age_s=age)

    def acquire(self, session_id: str, *, take_over_stale_of: str | None = None) -> str | None:
        """Take the lock for ``session_id``.

        A live holder → UsageError. A stale lock (its process is gone) is never taken silently:
        only ``resume`` of that same session takes it over (``take_over_stale_of``), and the message
        it returns says so. Returns that message, or None.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = LockInfo(
            session=session_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=now_iso(),
            process_start=process_start(os.getpid()),
        )
        note = None
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = self.read()
                if held is None:
                    continue
                state = held.alive()
                if state is not False:
                    raise UsageError(  # noqa: B904 (the FileExistsError is the expected path, not a cause)
                        f"another gitorch run holds the lock ({held.describe()})"
                        + (
                            "; it runs on another host, so gitorch cannot tell whether it is alive"
                            if state is None
                            else ""
                        )
                        + f"; wait for it, or stop it (lock file: {self.path})"
                    )
                if held.damaged is not None:
                    raise UsageError(  # noqa: B904
                        f"the lock file {self.path} is {held.damaged}: no live run holds it (a run died "
                        f"while taking it); `gitorch clean` removes it"
                    )
                if take_over_stale_of is not None and held.session == take_over_stale_of:
                    note = f"took over the stale lock of {held.describe()} (that process is gone)"
                    self.path.unlink(missing_ok=True)
                    continue
                raise UsageError(  # noqa: B904
                    f"a stale lock is left by a run that died ({held.describe()}; no such process any more). "
                    f"`gitorch resume {held.session}` continues that run; `gitorch clean` closes it and "
                    f"removes the lock"
                )
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(info.model_dump_json())
            return note
        raise UsageError(f"could not take the lock {self.path}")

    def release(self, session_id: str) -> None:
        held = self.read()
        if held is not None and held.session == session_id and held.pid == os.getpid():
            self.path.unlink(missing_ok=True)

    def clear_stale(self) -> LockInfo | None:
        """Remove the lock if its process is gone, or if it holds no valid lock and no run is writing it
        (``gitorch clean``); returns what it held."""
        held = self.read()
        if held is not None and held.alive() is False:
            self.path.unlink(missing_ok=True)
            return held
        return None


def running_session(root: Path) -> str | None:
    """The id of the session whose live process holds the lock, if any."""
    held = RunLock(root).read()
    if held is not None and held.alive() is not False:
        return held.session
    return None
