"""Fault probes on the ledger and the lock: a real run's session folder damaged the ways the trial found
(issue 9), then every command run for real. Each command answers with one line naming the file and what
is wrong, exit 65, no traceback; a bad line of ``events.jsonl`` is skipped with a warning; ``resume``
refuses a session it cannot trust; an empty lock file is named for what it is and ``clean`` removes it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from .gatehelpers import Probe, git, make_probe

GOOD_FIX = 'edit("app/calc.py", \'"""Arithmetic."""\', \'"""Arithmetic on integers."""\')\n'
DAMAGED = 65


@pytest.fixture
def ran(tmp_path) -> Probe:
    """A repository with one finished run (one commit on its branch)."""
    probe = make_probe(tmp_path, GOOD_FIX)
    done = probe.fix()
    assert done.returncode == 5, done.stderr
    assert len(probe.run_commits()) == 1
    return probe


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


SESSION_DAMAGE = {
    "garbage": (b"{not json at all", "not JSON"),
    "empty": (b"", "empty"),
    "truncated": (None, "not JSON"),
    "a JSON list": (b"[1, 2, 3]", "not an object"),
    "fields missing": (b'{"status": "running"}', "not a gitorch session"),
    "invalid UTF-8": (b'{"id": "\xff\xfe"}', "not UTF-8"),
}


@pytest.mark.parametrize("damage", sorted(SESSION_DAMAGE))
def test_a_damaged_session_json_gets_one_line_from_every_command(ran, damage):
    session = ran.session()
    state_file = session / "session.json"
    data, why = SESSION_DAMAGE[damage]
    state_file.write_bytes(state_file.read_bytes()[:200] if data is None else data)
    before = {p: p.read_bytes() for p in session.rglob("*") if p.is_file()}
    for command in (["log"], ["report"], ["resume"], ["rollback", "0"], ["report", session.name]):
        done = ran.gitorch(*command)
        line = one_line(done.stderr)
        assert done.returncode == DAMAGED, (command, done.returncode, done.stderr)
        assert str(state_file) in line and why in line, (command, line)
    status = ran.gitorch("status")
    assert status.returncode == DAMAGED
    assert str(state_file) in one_line(status.stderr)
    assert "no readable gitorch runs" in status.stdout  # not "no gitorch runs": the damage is named
    clean = ran.gitorch("clean")
    assert clean.returncode == 0 and "skipped a damaged session" in clean.stderr
    after = {p: p.read_bytes() for p in session.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, the evidence kept


def test_bad_event_lines_are_skipped_with_a_warning_naming_file_and_line(ran):
    events = ran.session() / "events.jsonl"
    lines = events.read_bytes().splitlines(keepends=True)
    bad = [b"\xff\xfe not utf-8 \xc3\x28\n", b"[1, 2]\n", b"{}\n", b'{"type": "commit"}\n', b'"text"\n']
    events.write_bytes(b"".join(lines[:3] + bad + lines[3:]))
    for command in ("log", "report"):
        done = ran.gitorch(command)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        warnings = done.stderr.splitlines()
        assert len(warnings) == len(bad), done.stderr
        for number, why in zip(range(4, 9), ["not UTF-8", "not a JSON object", "no event type",
                                             "not a valid commit event", "not a JSON object"], strict=True):
            assert any(f"{events} line {number} skipped: {why}" in w for w in warnings), (why, done.stderr)
    assert "commit " in ran.gitorch("log").stdout  # the good lines still tell the run
    assert json.loads(ran.gitorch("report", "--format", "json").stdout)["commits"] == 1


def test_resume_refuses_a_session_pointing_at_something_else_than_its_own_worktree_and_branch(ran):
    state_file = ran.session() / "session.json"
    original = json.loads(state_file.read_text())
    user_head = git(ran.root, "rev-parse", "HEAD")
    cases = {
        "worktree": (dict(original, worktree=str(ran.root), status="interrupted"), "worktree"),
        "branch": (dict(original, branch="main", status="interrupted"), "branch"),
        "green": (dict(original, green_commit="0" * 40, status="interrupted"), "green commit"),
    }
    for name, (state, why) in cases.items():
        state_file.write_text(json.dumps(state))
        done = ran.gitorch("resume")
        line = one_line(done.stderr)
        assert done.returncode == DAMAGED and "cannot resume" in line and why in line, (name, line)
    assert git(ran.root, "rev-parse", "HEAD") == user_head
    assert git(ran.root, "status", "--porcelain") == ""


def test_an_empty_lock_file_is_named_and_clean_removes_it(ran):
    lock = ran.root / ".git" / "gitorch" / "lock"
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    status = ran.gitorch("status")
    assert "empty" in status.stderr and "gitorch clean" in status.stderr
    assert "another host" not in status.stderr
    refused = ran.fix()
    line = one_line(refused.stderr)
    assert refused.returncode == 2 and str(lock) in line and "empty" in line
    clean = ran.gitorch("clean")
    assert clean.returncode == 0 and "removed a stale lock" in clean.stdout
    assert not lock.exists()
    assert ran.fix().returncode == 5  # a new run takes the lock


def test_a_lock_being_written_right_now_is_not_removed(ran):
    lock = ran.root / ".git" / "gitorch" / "lock"
    lock.write_text("")  # just created: a run may be writing it this very moment
    clean = ran.gitorch("clean")
    assert clean.returncode == 0
    assert lock.exists()
    Path(lock).unlink()
