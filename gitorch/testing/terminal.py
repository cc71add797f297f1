"""Run a command under a pseudo-terminal, as a person at a terminal would, and keep what it wrote and when.

Used by the tests of the live console (colour, ``NO_COLOR``, prompts) and by ``benchmarks/console_gaps.py``
(the longest silence of a ``gitorch fix`` run on a terminal).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TerminalRun:
    """What a command wrote to its terminal: ``chunks`` as (seconds since start, bytes), and its exit code."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    exit_code: int | None = None
    duration_s: float = 0.0

    @property
    def output(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")

    def gaps(self) -> list[float]:
        """Seconds between consecutive writes, from the start to the exit."""
        times = [0.0, *(t for t, _ in self.chunks), self.duration_s]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    def longest_gap(self) -> float:
        return max(self.gaps(), default=0.0)


def run_in_terminal(
    argv: list[str],
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
    columns: int = 120,
    lines: int = 40,
) -> TerminalRun:
    """Run ``argv`` with stdin, stdout and stderr on a new pseudo-terminal; kill its group at ``timeout``."""
    import fcntl
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = dict(os.environ if env is None else env)
    env.setdefault("TERM", "xterm-256color")
    env["COLUMNS"], env["LINES"] = str(columns), str(lines)
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True
    )
    os.close(secondary)
    run = TerminalRun()
    try:
        while True:
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([primary], [], [], 0.05)
            if ready:
                try:
                    data = os.read(primary, 65536)
                except OSError:  # EIO: every process holding the terminal has exited
                    break
                if not data:
                    break
                run.chunks.append((time.monotonic() - started, data))
            elif proc.poll() is not None:
                break
    finally:
        os.close(primary)
        run.exit_code = proc.wait()
        run.duration_s = time.monotonic() - started
    return run
