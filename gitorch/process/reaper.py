"""Run a command and leave nothing behind: the supervisor of an agent call or a test run without a sandbox.

``python -I -S reaper.py <gitorch pid> -- <argv...>`` starts ``argv`` as its child and waits for it.
It is a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): a process the command detaches
(``setsid nohup … &``, a double fork) is re-parented to it, not to init, so it can still be found.
When the command exits, every process still below the reaper is killed; when gitorch dies, even by
SIGKILL, the kernel sends the reaper SIGTERM (``PR_SET_PDEATHSIG``) and it kills them all at once.
The exit status is the command's (a command killed by a signal kills the reaper with that signal).

Without bubblewrap (:mod:`gitorch.process.sandbox`) this is what keeps a call from outliving itself.
Standard library only: it runs with ``-I -S`` (no site packages) to start in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
WATCHED = {signal.SIGCHLD, *STOPS}


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, process group) of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[2])


def descendants(root: int) -> list[tuple[int, int]]:
    """Every live process below ``root``, with its process group."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                children.setdefault(found[0], []).append((int(entry), found[1]))
    out, todo = [], [root]
    while todo:
        for pid, group in children.get(todo.pop(), []):
            out.append((pid, group))
            todo.append(pid)
    return out


def _reap() -> list[tuple[int, int]]:
    """Collect every child that ended: [(pid, wait status)]."""
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, status))


def kill_all(me: int) -> None:
    """SIGKILL every process below ``me`` until none is left (a process forking meanwhile is caught on the
    next round; its orphans come back to us, the subreaper)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = descendants(me)
        if not left:
            return
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
        _reap()


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: reaper.py <parent pid> -- <argv...>\n")
        return 2
    parent, argv = int(args[0]), args[2:]
    me = os.getpid()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # gitorch died before the death signal was armed
        return 137
    signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    child = os.fork()
    if child == 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            sys.stderr.write(f"{argv[0]}: {exc.strerror}\n")
            os._exit(127 if isinstance(exc, FileNotFoundError) else 126)
    status: int | None = None
    while status is None:
        for pid, ended in _reap():
            if pid == child:
                status = ended
        if status is not None:
            break
        received = signal.sigtimedwait(WATCHED, 1.0)
        if os.getppid() != parent:  # gitorch is gone: nobody reads the output any more
            kill_all(me)
            return 137
        if received is not None and received.si_signo in STOPS:
            # the whole group got the signal from gitorch; what detached from the group did not
            for pid, group in descendants(me):
                if group != me:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, received.si_signo)
    kill_all(me)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number != signal.SIGKILL:
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {number})
        os.kill(me, number)
        return 128 + number
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
