"""Where agent calls and test runs are started: a bubblewrap sandbox, or a supervisor when it cannot start.

:class:`Bubblewrap` starts a process with the whole file system read-only except its working
directory, the paths its :class:`~gitorch.process.launch.Launch` declares ``writable`` and a private
temporary folder (``TMPDIR``), in a PID namespace of its own that dies with gitorch
(``--die-with-parent``): nothing the process starts outlives the call, or gitorch itself, even after a
SIGKILL. The network is left as it is (an agent talks to its model).

:class:`Supervised` is the fallback when bubblewrap is missing or cannot start (no user namespaces in
a container, for instance): the process runs on the host under :mod:`gitorch.process.reaper`, which
kills whatever it leaves behind, detached children included, and dies with gitorch. It cannot stop a
write: the user's repository is then watched around each call instead (:mod:`gitorch.vcs.containment`).

Both wrap only the purposes that run code gitorch does not trust (:data:`CONTAINED`: an agent, the
project's tests); git and the analyzers are started as they are.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gitorch.process.launch import Launch, LaunchPolicy, Purpose
from gitorch.process.runner import run_process

CONTAINED: frozenset[Purpose] = frozenset({"agent", "tests"})
# Where bubblewrap is looked for: this variable (a path), else `bwrap` on PATH.
BWRAP_VARIABLE = "GITORCH_BWRAP"
REAPER = Path(__file__).with_name("reaper.py")
# NOTE: uid 0 may write most of /proc/sys without any capability (kernel.core_pattern makes the host run a
# program as root), so those stay read-only; and as root bwrap keeps every capability unless dropped
# (CAP_SYS_ADMIN would remount / read-write).
PROC_READ_ONLY = ("/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/sysrq-trigger")
# Whoever talks to a container daemon is root on the host; a read-only mount does not stop a socket.
DAEMON_SOCKETS = (
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
)


def bwrap_executable() -> str | None:
    """The bubblewrap binary to use: ``$GITORCH_BWRAP`` when set, else ``bwrap`` on PATH (None: none)."""
    configured = os.environ.get(BWRAP_VARIABLE)
    if configured:
        return configured
    return shutil.which("bwrap")


def _resolve_program(launch: Launch) -> Launch:
    """``argv[0]`` as a path, looked up on the PATH the process will get; the ``OSError`` Popen would raise
    when it is missing or not executable (the wrapper itself would start fine and hide it)."""
    program = launch.argv[0]
    env = launch.env if launch.env is not None else os.environ
    if "/" in program:
        found = str(launch.cwd / program) if not os.path.isabs(program) else program
        if not os.path.exists(found):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    else:
        found = shutil.which(program, path=env.get("PATH", os.defpath)) or ""
        if not found:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    if not os.access(found, os.X_OK) or os.path.isdir(found):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    return launch.with_argv([found, *launch.argv[1:]])


@dataclass(frozen=True)
class Bubblewrap(LaunchPolicy):
    """Start :data:`CONTAINED` launches in a bubblewrap sandbox (see the module docstring).

    ``read_only`` paths stay read-only even inside a writable one (a workspace's ``.git`` link);
    ``daemons_for`` names the purposes that keep the container daemons' sockets (a test command run
    through ``docker`` needs them; an agent never does).
    """

    executable: str
    read_only: tuple[Path, ...] = ()
    daemons_for: frozenset[Purpose] = frozenset()

    def confines(self, purpose: Purpose) -> bool:
        return purpose in CONTAINED

    def command(self, launch: Launch, tmp: Path) -> list[str]:
        """The bwrap argv that runs ``launch`` with ``tmp`` as its private temporary folder."""
        argv = [self.executable, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        for path in PROC_READ_ONLY:
            argv += ["--ro-bind-try", path, path]
        argv += ["--unshare-pid", "--die-with-parent"]
        if os.geteuid() == 0:
            argv += ["--cap-drop", "ALL"]
        writable = [launch.cwd] if launch.cwd_writable else []
        for path in dict.fromkeys([*writable, *launch.writable, tmp]):
            real = os.path.realpath(path)
            argv += ["--bind-try", real, real]
        for path in self.read_only:
            real = os.path.realpath(path)
            argv += ["--ro-bind-try", real, real]
        if launch.purpose not in self.daemons_for:
            for socket in DAEMON_SOCKETS:
                if os.path.exists(socket):
                    argv += ["--ro-bind", "/dev/null", os.path.realpath(socket)]
        return [*argv, "--chdir", os.path.realpath(launch.cwd), "--", *launch.argv]

    @contextlib.contextmanager
    def start(self, launch: Launch) -> Iterator[Launch]:
        if launch.purpose not in CONTAINED:
            yield launch
            return
        launch = _resolve_program(launch)
        tmp = Path(tempfile.mkdtemp(prefix="gitorch-sandbox-"))
        try:
            env = dict(launch.env if launch.env is not None else os.environ)
            env.update(TMPDIR=str(tmp), TMP=str(tmp), TEMP=str(tmp))
            yield replace(launch, argv=self.command(launch, tmp), env=env)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Supervised(LaunchPolicy):
    """Start :data:`CONTAINED` launches on the host under :mod:`gitorch.process.reaper`: nothing they
    start outlives them or gitorch, but they may write anywhere gitorch's user may."""

    def wrap(self, launch: Launch) -> Launch:
        if launch.purpose not in CONTAINED:
            return launch
        launch = _resolve_program(launch)
        supervisor = [sys.executable, "-I", "-S", str(REAPER), str(os.getpid()), "--"]
        return launch.with_argv([*supervisor, *launch.argv])


def bubblewrap_problem(executable: str | None) -> str | None:
    """Why bubblewrap cannot sandbox a process here, or None when it can (it is tried once: ``true`` in a
    sandbox like an agent's)."""
    if not executable:
        return "bubblewrap is not installed (no `bwrap` on PATH)"
    with tempfile.TemporaryDirectory(prefix="gitorch-sandbox-probe-") as tmp:
        try:
            done = run_process(["true"], cwd=tmp, purpose="agent", policy=Bubblewrap(executable), timeout=30)
        except OSError as exc:
            return f"cannot run {executable}: {exc.strerror or exc}"
    if done.ok:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return f"{executable} cannot start a sandbox here: {lines[-1] if lines else f'exit {done.exit_code}'}"
