"""Where agents and tests are started (gitorch.process.sandbox): bubblewrap, or the supervisor without it.

Real processes, real bubblewrap (``/usr/bin/bwrap``; ``.ci/run`` installs it), and ``/proc`` to prove
what is left alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gitorch.process.launch import HostLaunch, Launch
from gitorch.process.runner import run_process
from gitorch.process.sandbox import (
    Bubblewrap,
    Supervised,
    bubblewrap_problem,
    bwrap_executable,
)

MARKER = "GITORCH_SANDBOX_TEST"


@pytest.fixture(scope="module")
def bwrap() -> str:
    executable = bwrap_executable()
    problem = bubblewrap_problem(executable)
    if problem:
        pytest.fail(f"these tests need bubblewrap (.ci/run installs it): {problem}")
    return executable


def alive(marker: str) -> list[int]:
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry))
            except OSError:
                continue
    return found


def sh(script: str, cwd: Path, policy, *, purpose="agent", writable=(), marker: str | None = None, **kw):
    env = {**os.environ, **({MARKER: marker} if marker else {})}
    return run_process(
        ["sh", "-c", script],
        cwd=cwd,
        env=env,
        purpose=purpose,
        policy=policy,
        writable=tuple(writable),
        timeout=30,
        **kw,
    )


def test_only_the_working_directory_the_declared_paths_and_a_private_tmp_are_writable(bwrap, tmp_path):
    work, extra, outside = tmp_path / "work", tmp_path / "extra", tmp_path / "outside.txt"
    work.mkdir()
    extra.mkdir()
    outside.write_text("mine\n")
    script = f"""
        echo w > {work}/a && echo work-ok
        echo x > {extra}/b && echo extra-ok
        echo bad > {outside} || echo outside-refused
        echo t > "$TMPDIR/t" && echo tmp-ok
        touch /etc/gitorch-probe 2>/dev/null || echo etc-refused
        echo "|/bin/true" > /proc/sys/kernel/core_pattern 2>/dev/null || echo sysctl-refused
        grep -q '^CapEff:.0000000000000000$' /proc/self/status && echo no-capabilities
        mount -o remount,rw / 2>/dev/null || echo remount-refused
    """
    done = sh(textwrap.dedent(script), work, Bubblewrap(bwrap), writable=[extra])
    said = done.stdout.split()
    expected = [
        "work-ok",
        "extra-ok",
        "outside-refused",
        "tmp-ok",
        "etc-refused",
        "sysctl-refused",
        "remount-refused",
    ]
    assert all(word in said for word in expected), done.stdout + done.stderr
    if os.geteuid() == 0:
        assert "no-capabilities" in said
    assert outside.read_text() == "mine\n" and (work / "a").exists() and (extra / "b").exists()
    assert not Path("/etc/gitorch-probe").exists()


def test_an_audit_may_not_write_where_it_runs(bwrap, tmp_path):
    done = sh(f"echo x > {tmp_path}/f || echo refused", tmp_path, Bubblewrap(bwrap), cwd_writable=False)
    assert "refused" in done.stdout and not (tmp_path / "f").exists()


def test_read_only_paths_stay_read_only_inside_a_writable_one(bwrap, tmp_path):
    (tmp_path / ".git").write_text("gitdir: /somewhere\n")
    done = sh(
        f"echo 'gitdir: /evil' > {tmp_path}/.git || echo refused; rm {tmp_path}/.git || echo kept",
        tmp_path,
        Bubblewrap(bwrap, read_only=(tmp_path / ".git",)),
    )
    assert "refused" in done.stdout and "kept" in done.stdout
    assert (tmp_path / ".git").read_text() == "gitdir: /somewhere\n"


def test_git_and_analyzers_are_not_sandboxed(bwrap, tmp_path):
    policy = Bubblewrap(bwrap)
    launch = Launch(["git", "status"], tmp_path, purpose="git")
    with policy.start(launch) as started:
        assert started.argv == ["git", "status"]
    assert policy.confines("agent") and policy.confines("tests") and not policy.confines("git")
    assert not HostLaunch().confines("agent")


@pytest.mark.parametrize("kind", ["sandbox", "supervised"])
def test_a_detached_child_does_not_outlive_the_call(bwrap, tmp_path, kind):
    marker = uuid.uuid4().hex
    policy = Bubblewrap(bwrap) if kind == "sandbox" else Supervised()
    late = tmp_path / "late"
    script = f"setsid nohup sh -c 'sleep 2; echo late > {late}' >/dev/null 2>&1 & (sleep 30 &) ; echo started"
    done = sh(script, tmp_path, policy, writable=[tmp_path], marker=marker)
    assert done.ok and "started" in done.stdout
    assert alive(marker) == []
    time.sleep(2.5)
    assert not late.exists()


@pytest.mark.parametrize("kind", ["sandbox", "supervised"])
def test_nothing_survives_a_sigkill_of_the_parent(bwrap, tmp_path, kind):
    """The parent (gitorch) is SIGKILLed while its contained child and grandchildren sleep."""
    marker = uuid.uuid4().hex
    policy = "Bubblewrap(bubblewrap)" if kind == "sandbox" else "Supervised()"
    program = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from gitorch.process.runner import run_process
        from gitorch.process.sandbox import Bubblewrap, Supervised
        bubblewrap = {bwrap!r}
        run_process(["sh", "-c", "sleep 300 & setsid sleep 301 & sleep 302"], cwd={str(tmp_path)!r},
                    purpose="agent", policy={policy})
    """)
    parent = subprocess.Popen([sys.executable, "-c", program], env={**os.environ, MARKER: marker})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sleepers = [p for p in alive(marker) if Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep")]
        if len(sleepers) == 3:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the sleepers never started: {alive(marker)}")
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(marker) == []


def test_the_supervisor_keeps_the_exit_status(tmp_path):
    policy = Supervised()
    assert sh("exit 3", tmp_path, policy).exit_code == 3
    assert sh("kill -TERM $$", tmp_path, policy).exit_code == -signal.SIGTERM
    assert sh("echo out; echo err >&2", tmp_path, policy).stdout == "out\n"


@pytest.mark.parametrize("kind", ["sandbox", "supervised"])
def test_a_missing_program_is_the_oserror_popen_raises(bwrap, tmp_path, kind):
    policy = Bubblewrap(bwrap) if kind == "sandbox" else Supervised()
    with pytest.raises(FileNotFoundError):
        run_process(["no-such-program-anywhere"], cwd=tmp_path, purpose="agent", policy=policy)
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError):
        run_process([str(script)], cwd=tmp_path, purpose="tests", policy=policy)


def test_a_timeout_kills_the_sandbox(bwrap, tmp_path):
    marker = uuid.uuid4().hex
    started = time.monotonic()
    done = run_process(
        ["sh", "-c", "sleep 300 & sleep 301"],
        cwd=tmp_path,
        purpose="agent",
        policy=Bubblewrap(bwrap),
        timeout=1,
        grace_s=0.5,
        env={**os.environ, MARKER: marker},
    )
    assert done.timed_out and time.monotonic() - started < 10
    assert alive(marker) == []


def test_bubblewrap_that_cannot_start_is_named(tmp_path):
    assert "not installed" in bubblewrap_problem(None)
    assert "cannot run" in bubblewrap_problem(str(tmp_path / "missing" / "bwrap"))
    failing = tmp_path / "bwrap"
    failing.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    failing.chmod(0o755)
    assert bubblewrap_problem(str(failing)).endswith("No permissions to create new namespace")
