"""Where an argv becomes the process actually started: the :class:`Launch` and the policy that wraps it.

Every subprocess gitorch starts (an agent CLI, the project's tests, an analyzer, git) goes through
:func:`gitorch.process.runner.run_process`, which hands a :class:`Launch` to the current
:class:`LaunchPolicy` and starts what the policy returns. The default policy, :class:`HostLaunch`,
starts the argv as it is. A sandboxing policy (:mod:`gitorch.process.sandbox`: bubblewrap with the
root read-only, the ``writable`` paths read-write, a private PID namespace, ``--die-with-parent``)
replaces :meth:`LaunchPolicy.wrap`; one that needs something around the process (a private temporary
folder, a check once it ended) replaces :meth:`LaunchPolicy.start`. The caller already says where the
process runs (``cwd``), what it may write (``writable``) and what it is (``purpose``)::

    class Echoing(LaunchPolicy):
        def wrap(self, launch: Launch) -> Launch:
            return launch.with_argv(["echo", *launch.argv])

    with using_policy(Echoing()):
        run_process(["true"], cwd=".")  # starts `echo true`

NOTE: the policy is a context variable rather than an argument threaded through every caller: the
fix loop sets it once around a run, and every agent call, test run and analyzer inside sees it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

Purpose = Literal["agent", "tests", "analyzer", "git", "other"]


@dataclass(frozen=True)
class Launch:
    """A process about to be started: what runs, where, with which environment, what it may write."""

    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = None  # None: gitorch's own environment
    writable: tuple[Path, ...] = ()  # besides cwd: the paths the process is expected to write
    purpose: Purpose = "other"
    cwd_writable: bool = True  # False: the process only reads where it runs (an agent's audit)

    def with_argv(self, argv: list[str]) -> Launch:
        return replace(self, argv=list(argv))


class LaunchPolicy:
    """Turns a :class:`Launch` into the one actually started. The base class starts it unchanged."""

    def wrap(self, launch: Launch) -> Launch:
        return launch

    def confines(self, purpose: Purpose) -> bool:
        """Whether processes of ``purpose`` start in a sandbox that keeps their writes to their declared
        paths (a CLI's own sandbox is then redundant, and may not nest in it)."""
        return False

    @contextlib.contextmanager
    def start(self, launch: Launch) -> Iterator[Launch]:
        """The launch to start, held for as long as the process runs (``run_process`` leaves the block
        once the process and everything it left in its group are gone). :meth:`wrap` by default; an
        exception raised when the block ends reaches the caller of ``run_process``."""
        yield self.wrap(launch)


class HostLaunch(LaunchPolicy):
    """Run on the host as asked: no sandbox."""


_HOST = HostLaunch()
_policy: ContextVar[LaunchPolicy | None] = ContextVar("gitorch_launch_policy", default=None)


def current_policy() -> LaunchPolicy:
    """The policy :func:`~gitorch.process.runner.run_process` uses when it is given none."""
    return _policy.get() or _HOST


@contextlib.contextmanager
def using_policy(policy: LaunchPolicy) -> Iterator[LaunchPolicy]:
    """Start every process inside the ``with`` block (this thread or task) through ``policy``."""
    token = _policy.set(policy)
    try:
        yield policy
    finally:
        _policy.reset(token)
