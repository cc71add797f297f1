"""SIGKILL and Ctrl-C in the middle of an attempt, in a real subprocess; then resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from loophelpers import (
    branch_commits,
    dirty_up,
    fingerprint,
    git,
    killed_after_the_commit,
    loop_config,
    options,
    passes_tests_at,
)

from gitorch.loop import events as ev
from gitorch.loop import resume_run, start_run
from gitorch.loop.lock import RunLock
from gitorch.loop.session import load_session
from gitorch.process.testrun import run_command

RUNNER = Path(__file__).parent / "run_loop.py"


def start(root: Path, signal_file: Path, mode: str = "start") -> subprocess.Popen:
    env = {**os.environ, "GITORCH_TEST_SIGNAL": str(signal_file)}
    return subprocess.Popen(
        [sys.executable, str(RUNNER), str(root), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"runner ended early: {proc.stdout.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the attempt never started")
        time.sleep(0.05)


def test_sigkill_mid_attempt_leaves_the_checkout_untouched_and_a_resumable_run(
    project, fake_plugins, tmp_path, cli
):
    root = project([("P1", "good"), ("P1", "slow")])
    dirty_up(root)
    before = fingerprint(root)
    flag = tmp_path / "mid-attempt"
    proc = start(root, flag)
    wait_for(flag, proc)
    proc.kill()
    proc.wait()
    assert fingerprint(root) == before
    state, _ = load_session(root)
    assert state.status == "running"
    assert RunLock(root).read().alive() is False
    assert git(state.worktree, "status", "--porcelain").strip()  # the half-done attempt is still there
    status = json.loads(cli("status", "--repo", str(root), "--json").stdout)
    assert status["runs"][0]["state"] == "dead (resumable)" and status["lock"]["session"] == state.id
    resumed = resume_run(root, loop_config(root), fake_plugins)
    assert resumed.id == state.id
    assert resumed.stop_reason == "target"
    commits = branch_commits(root, resumed)
    assert len(commits) == 2
    for commit in commits:
        assert passes_tests_at(root, commit, tmp_path)
    _, ledger = load_session(root, state.id)
    (resume,) = ledger.events(ev.Resume)
    assert "took over the stale lock" in resume.lock_note
    kept = [e for e in ledger.events(ev.RollbackAttempt) if e.reason == "interrupted"]
    assert kept and "# gitorch-test: P1 slow" in Path(kept[0].patch).read_text()
    assert RunLock(root).read() is None
    assert fingerprint(root) == before


def test_ctrl_c_stops_at_once_keeps_every_commit_and_releases_the_lock(project, tmp_path):
    root = project([("P1", "good"), ("P1", "slow")])
    dirty_up(root)
    before = fingerprint(root)
    flag = tmp_path / "mid-attempt"
    proc = start(root, flag)
    wait_for(flag, proc)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert time.monotonic() - started < 15
    state, _ = load_session(root)
    assert state.status == "interrupted" and state.stop_reason == "interrupted"
    assert len(branch_commits(root, state)) == 1
    assert git(state.worktree, "status", "--porcelain", "--ignored") == ""
    assert RunLock(root).read() is None
    assert fingerprint(root) == before


def test_a_test_command_that_times_out_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = f"sleep 30 & echo $! > {pidfile}; sleep 30"
    started = time.monotonic()
    outcome = run_command(["sh", "-c", script], tmp_path, timeout_s=1)
    assert outcome.timed_out and not outcome.passed
    assert time.monotonic() - started < 10
    child = int(pidfile.read_text())
    time.sleep(0.2)
    try:
        os.kill(child, 0)
        alive = Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive


def test_on_a_terminal_a_confirmation_is_a_prompt_and_the_answer_is_recorded(project, tmp_path):
    import pty

    root = project([("P1", "bigdelete")])
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), str(root), "start-tty"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 90
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(leader, 4096)
        except OSError:
            break
    assert b"deleted-lines: 61 lines deleted" in seen
    os.write(leader, b"y\n")
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            os.read(leader, 4096)
        except OSError:
            break
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    state, ledger = load_session(root)
    (asked,) = ledger.events(ev.Confirmation)
    assert asked.how == "prompt" and asked.answer is True
    assert len(branch_commits(root, state)) == 1


def test_resume_after_a_kill_between_commit_and_ledger_keeps_the_commit_and_clears_git_locks(
    project, fake_plugins
):
    root = project([("P1", "costly"), ("P1", "good")])
    config = loop_config(root)
    state = start_run(root, config, fake_plugins, options(config, budget_usd=0.3))
    (commit,) = branch_commits(root, state)
    admin = killed_after_the_commit(root, state)
    resumed = resume_run(root, config, fake_plugins, budget_usd=5.0)
    assert resumed.stop_reason == "target", resumed.stop_detail
    commits = branch_commits(root, resumed)
    assert commits[0] == commit and len(commits) == 2
    _, ledger = load_session(root, state.id)
    assert [e.green for e in ledger.events(ev.Reconciled)] == [commit]
    assert list(ledger.events(ev.StaleGitLocksRemoved))
    assert not (admin / "index.lock").exists()
