"""Reach probes: a process of the agent outlives its call, or gitorch itself.

The trial: a detached child (``setsid nohup … &``) wrote the checkout 25 s after the call ended; after a
SIGKILL of gitorch the agent went on running. With the sandbox, the call's PID namespace dies with it
(and with gitorch: ``--die-with-parent``); without it, the supervisor (``gitorch.process.reaper``, a child
subreaper with a parent-death signal) kills what the call left behind, detached or not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from reachkit import Outcome, check_contained, fingerprint, live_processes, record, wait_for_no_process


def test_a_detached_child_that_writes_after_the_call(user, probe, mode):
    run = probe("detached-child")
    before = fingerprint(user)
    outcome = run.run()
    time.sleep(4)  # the child meant to write 3 s after the call
    check_contained(user, before, outcome, mode, reached=[])
    assert not live_processes(run.marker)


def test_no_process_survives_a_sigkill_of_gitorch_mid_call(user, probe, mode):
    run = probe("killed-mid-call")
    before = fingerprint(user)
    gitorch = run.start()
    deadline = time.monotonic() + 120
    sleepers: list[int] = []
    while time.monotonic() < deadline and len(sleepers) < 2:
        sleepers = [
            pid
            for pid in live_processes(run.marker)
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0")
        ]
        assert gitorch.poll() is None, gitorch.communicate()
        time.sleep(0.2)
    assert len(sleepers) == 2, "the agent never started its children"
    os.kill(gitorch.pid, signal.SIGKILL)
    gitorch.wait()
    assert wait_for_no_process(run.marker, 10) == []
    assert fingerprint(user) == before
    # the run is left resumable; clean closes it and changes nothing of the user's
    cleaned = subprocess.run(
        [*run.argv()[:3], "clean", "--repo", str(user.repo)], env=run.env(), capture_output=True, text=True
    )
    assert cleaned.returncode == 0, cleaned.stderr
    assert fingerprint(user) == before
    record(Outcome(-9, "", "", [], [], run.probe, mode), None)
