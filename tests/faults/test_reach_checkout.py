"""Reach probes: an agent, or the code it wrote, writes the user's checkout by absolute path.

The trial: ignored files overwritten without a backup (the guard watched ``git status``, which does not
show them); the attempt's code writing the checkout when the tests ran (only the agent call was watched);
an audit writing it. With the sandbox the writes fail (the checkout is read-only to agents and tests);
without it, the guard sees every file (ignored ones included), puts each back and stops the run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reachkit import Probe, agent_said, check_contained, fingerprint, wait_for_no_process


def test_ignored_files_written_by_absolute_path(user, probe, mode):
    run = probe("ignored-files")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(user, before, outcome, mode, reached=["build/out.bin", "debug.log", ".env"])
    if mode == "sandbox":
        assert "overwrite build/out.bin: refused" in agent_said(user)


def test_tracked_staged_and_untracked_files_and_the_index(user, probe, mode):
    run = probe("checkout-files")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(
        user,
        before,
        outcome,
        mode,
        reached=["notes.txt", "app/calc.py", "docs.txt", "planted.py", ".git/index"],
    )
    if mode == "fallback":
        (breach,) = outcome.of("repository_changed")
        assert breach["removed"] == ["planted.py"] and not breach["lost"]
        displaced = Path(breach["displaced"])
        assert (displaced / "checkout" / "notes.txt").read_text() == "agent\n"  # the version found is kept


def test_the_attempts_code_writes_the_checkout_when_the_tests_run(user, probe, mode):
    run = probe("tests-write")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(user, before, outcome, mode, reached=["notes.txt", "build/out.bin"])
    if mode == "fallback":
        (breach,) = outcome.of("repository_changed")
        assert "(test run)" in breach["during"]


def test_an_audit_that_writes_the_checkout(user, probe, mode):
    run = probe("audit-write")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(user, before, outcome, mode, reached=["notes.txt", "build/out.bin"])
    if mode == "fallback":
        assert not outcome.of("attempt")  # stopped at the first audit, before any fix


def test_gitorch_audit_runs_its_agent_read_only_in_the_sandbox(user, tmp_path):
    """``gitorch audit`` works in the checkout itself: its agent runs there in the sandbox, read-only.
    (Without bubblewrap an audit has no guard: nothing to restore from; see docs/reliability.md.)"""
    run = Probe(user, "audit-write", "sandbox", tmp_path)
    before = fingerprint(user)
    argv = [
        *run.argv()[:3],
        "audit",
        "--repo",
        str(user.repo),
        "--config",
        str(run.config),
        "--dim",
        "backend",
    ]
    done = subprocess.run(argv, env=run.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "add() is too plain" in done.stdout
    assert fingerprint(user) == before
    assert not wait_for_no_process(run.marker, 10)
