"""The one process runner: its own process group, timeouts, a silence watchdog, nothing left behind.

Every subprocess gitorch starts goes through :func:`run_process`: agent CLIs, the project's tests
(:mod:`gitorch.process.testrun`), analyzers and git (:class:`gitorch.vcs.git.Git`). One kill policy
applies to all of them: the process leads its own process group; on a timeout, on silence or on
Ctrl-C the whole group gets SIGTERM, then SIGKILL after a grace period; and when the leader exits,
whatever it left in its group is killed too. The argv is turned into the process actually started
by the current :class:`~gitorch.process.launch.LaunchPolicy` (the place a sandbox plugs in).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitorch.errors import ExitCode, GitorchError
from gitorch.process.launch import Launch, LaunchPolicy, Purpose, current_policy

# How much of a failed command's output an error message quotes.
OUTPUT_IN_ERRORS = 500


class Cancelled(KeyboardInterrupt):
    """The thread's :class:`ProcessScope` was cancelled: its process group was killed. A subclass of
    KeyboardInterrupt so that no ``except Exception`` on the way turns it into an ordinary failure."""


@dataclass
class ProcessScope:
    """What a thread's processes are watched by (``gitorch fix --jobs``: one scope per parallel attempt):
    ``cancel`` set kills the running group at once (:class:`Cancelled`); ``started`` and ``ended`` see
    each process's pid, so that a record of the groups alive can outlive a SIGKILL of gitorch."""

    cancel: threading.Event = field(default_factory=threading.Event)
    started: Callable[[int], None] = lambda pid: None
    ended: Callable[[int], None] = lambda pid: None


_scopes = threading.local()


@contextlib.contextmanager
def process_scope(scope: ProcessScope):
    """Run the processes this thread starts under ``scope``."""
    previous = getattr(_scopes, "current", None)
    _scopes.current = scope
    try:
        yield scope
    finally:
        _scopes.current = previous


def start_time(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (``/proc/<pid>/stat``), to tell it from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def kill_group_if_same(pid: int, started: str | None) -> bool:
    """SIGKILL the process group ``pid`` leads, if that process is still the one started at ``started``
    (a process left running by a gitorch that was killed); whether it was killed."""
    if started is None or start_time(pid) != started:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
        return True
    return False


@dataclass
class Completed:
    """What one run produced."""

    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    reason: str = ""  # why it was killed: "timeout after 900s", "no output for 300s"
    stopped: str = ""  # why the caller's watch stopped it (the run is then not ``timed_out``)
    stdout_bytes: bytes = field(default=b"", repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.stopped

    def check(self) -> Completed:
        """This run, or a :class:`ProcessError` when it failed or was killed."""
        if not self.ok:
            raise ProcessError.from_run(self)
        return self


class ProcessError(GitorchError):
    """A command failed. Like pre-commit's ``CalledProcessError``, it carries the command, its exit
    code and its output; ``str()`` is one line, :meth:`details` the whole story."""

    exit_code = ExitCode.PLUGIN

    def __init__(
        self,
        message: str,
        *,
        argv: list[str] | None = None,
        returncode: int | None = None,
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.argv = list(argv or [])
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @classmethod
    def from_run(cls, done: Completed, what: str | None = None) -> ProcessError:
        name = what or (Path(done.argv[0]).name if done.argv else "command")
        if done.timed_out:
            cause = f"killed ({done.reason})"
        else:
            lines = (done.stderr or done.stdout).strip().splitlines()
            cause = f"exit {done.exit_code}" + (f": {lines[-1][:OUTPUT_IN_ERRORS]}" if lines else "")
        return cls(
            f"{name} failed: {cause}",
            argv=done.argv,
            returncode=done.exit_code,
            stdout=done.stdout,
            stderr=done.stderr,
        )

    def details(self) -> str:
        """Command, exit code, stdout and stderr on several lines (for logs and debugging)."""

        def block(text: str) -> str:
            text = text.rstrip()
            return "\n" + "\n".join(f"    {line}" for line in text.splitlines()) if text else " (none)"

        return (
            f"command: {self.argv!r}\nreturn code: {self.returncode}\n"
            f"stdout:{block(self.stdout)}\nstderr:{block(self.stderr)}"
        )


def _kill_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the process group, wait ``grace_s`` for the leader, then SIGKILL whatever is left."""
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
    # NOTE: SIGKILL the group even when the leader obeyed: node wrappers and native children
    # (copilot, codex) can outlive it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def run_process(
    argv: list[str],
    *,
    cwd: Path | str,
    env: dict[str, str] | None = None,
    stdin_text: str | bytes | None = None,
    timeout: float | None = None,
    silence_timeout: float | None = None,
    grace_s: float = 3.0,
    merge_stderr: bool = False,
    writable: tuple[Path, ...] = (),
    purpose: Purpose = "other",
    policy: LaunchPolicy | None = None,
    cwd_writable: bool = True,
    watch: Callable[[bytes], str | None] | None = None,
) -> Completed:
    """Run ``argv`` in its own process group and collect its output.

    stdin is ``/dev/null`` unless ``stdin_text`` is given, in which case it is written and closed (some
    CLIs block until stdin reaches EOF). ``timeout`` bounds the wall-clock time, ``silence_timeout``
    the time without any output on stdout or stderr; either kills the whole group and returns with
    ``timed_out=True``. A KeyboardInterrupt kills the group and is re-raised. When the leader exits,
    any process it left in its group is killed too. ``merge_stderr`` sends stderr to stdout (one
    interleaved log, as a terminal shows it). ``writable``, ``cwd_writable``, ``purpose`` and ``policy``
    (default: :func:`~gitorch.process.launch.current_policy`) decide how the argv is started, and the
    policy may raise once the process is gone (a sandbox's check of what it changed). ``watch`` sees each
    chunk of stdout as it arrives; a reason it returns stops the run at once (the whole group killed, the
    reason in ``Completed.stopped``): an agent watching the cost its CLI streams. A missing or
    non-executable program raises the ``OSError`` of ``Popen``.
    """
    asked = Launch(list(argv), Path(cwd), env, tuple(map(Path, writable)), purpose, cwd_writable)
    with (policy or current_policy()).start(asked) as launch:
        return _run(launch, list(argv), stdin_text, timeout, silence_timeout, grace_s, merge_stderr, watch)


def _run(
    launch: Launch, argv: list[str], stdin_text: str | bytes | None, timeout: float | None,
    silence_timeout: float | None, grace_s: float, merge_stderr: bool,
    watch: Callable[[bytes], str | None] | None,
) -> Completed:
    started = time.monotonic()
    proc = subprocess.Popen(
        launch.argv,
        cwd=str(launch.cwd),
        env=launch.env,
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=True,
    )
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    timed_out, reason, stopped = False, "", ""
    scope: ProcessScope | None = getattr(_scopes, "current", None)
    if scope is not None:
        scope.started(proc.pid)
    try:
        if stdin_text is not None:
            assert proc.stdin is not None
            data = stdin_text.encode() if isinstance(stdin_text, str) else stdin_text
            threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True).start()
        selector = selectors.DefaultSelector()
        for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if pipe is not None:
                os.set_blocking(pipe.fileno(), False)
                selector.register(pipe, selectors.EVENT_READ, name)
        last_output = time.monotonic()
        exited_at: float | None = None
        while selector.get_map():
            for key, _ in selector.select(timeout=0.1):
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.data].append(data)
                    last_output = time.monotonic()
                    if watch is not None and key.data == "stdout" and not stopped:
                        stopped = watch(data) or ""
                else:
                    selector.unregister(key.fileobj)
            if stopped:
                break
            if scope is not None and scope.cancel.is_set():
                raise Cancelled(f"cancelled: {argv[0]}")
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None:
                # The leader is gone but something in its group still holds the pipes open.
                if now - exited_at > grace_s:
                    break
                continue
            if timeout is not None and now - started > timeout:
                timed_out, reason = True, f"timeout after {timeout:g}s"
                break
            if silence_timeout is not None and now - last_output > silence_timeout:
                timed_out, reason = True, f"no output for {silence_timeout:g}s"
                break
        selector.close()
        if not timed_out and not stopped and proc.poll() is None:
            # Both pipes closed but the CLI is still finishing (flushing, cleanup): let it, within limits.
            timed_out, reason = _wait_quietly(proc, started, timeout, last_output, silence_timeout)
        _kill_group(proc, grace_s if proc.poll() is None else 0.0)
    except BaseException:
        _kill_group(proc, grace_s)
        raise
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        if scope is not None:
            scope.ended(proc.pid)
    stdout = b"".join(chunks["stdout"])
    return Completed(
        argv=list(argv),
        exit_code=proc.returncode,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=b"".join(chunks["stderr"]).decode("utf-8", "replace"),
        duration_s=round(time.monotonic() - started, 3),
        timed_out=timed_out,
        reason=reason,
        stopped=stopped,
        stdout_bytes=stdout,
    )


def _wait_quietly(
    proc: subprocess.Popen[bytes],
    started: float,
    timeout: float | None,
    last_output: float,
    silence_timeout: float | None,
) -> tuple[bool, str]:
    """Wait for a process that closed its output; ``(timed_out, reason)``."""
    limits = []
    if timeout is not None:
        limits.append((started + timeout, f"timeout after {timeout:g}s"))
    if silence_timeout is not None:
        limits.append((last_output + silence_timeout, f"no output for {silence_timeout:g}s"))
    deadline, reason = min(limits, default=(None, ""))
    try:
        proc.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return True, reason
    return False, ""


def _feed(pipe: Any, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError, ValueError):
        pass  # the process exited or closed stdin early: its exit code tells the rest
