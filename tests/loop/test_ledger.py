"""The ledger's events: typed on the way in and out, and ledgers written before they were typed still read.

``data/old-ledger/`` holds four real sessions written by the loop before its events were typed (see
``data/make_old_ledger.py``), with the report, log and status the commands printed for them then.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from gitorch.loop import events as ev
from gitorch.loop.ledger import Ledger

OLD = Path(__file__).parent / "data" / "old-ledger"
SESSIONS = sorted(p.name for p in (OLD / "sessions").iterdir())


@pytest.fixture
def old_repo(git_repo):
    """A repository whose git directory holds the old sessions (their branches are gone)."""
    root = Path(git_repo.working_tree_dir)
    shutil.copytree(OLD / "sessions", root / ".git" / "gitorch" / "sessions")
    return root


@pytest.mark.parametrize("session", SESSIONS)
def test_every_line_of_an_old_ledger_reads_as_its_event_and_writes_back_the_same(session, caplog):
    ledger = Ledger(OLD / "sessions" / session)
    lines = (ledger.events_file).read_text(encoding="utf-8").splitlines(keepends=True)
    with caplog.at_level(logging.WARNING):
        read = list(ledger.events())
    assert not caplog.records
    assert len(read) == len(lines)
    for event, line in zip(read, lines, strict=True):
        assert type(event) is not ev.Event
        assert ev.to_line(event, event.seq, event.ts) == line  # the same line, byte for byte


def kinds_of_event(cls=ev.Event):
    for sub in cls.__subclasses__():
        yield from kinds_of_event(sub)
        if "type" in sub.model_fields:
            yield sub


def test_the_old_ledgers_hold_most_kinds_of_event():
    kinds = {type(e) for s in SESSIONS for e in Ledger(OLD / "sessions" / s).events()}
    # every kind but one that no stand-in run could provoke (a bug in gitorch itself), and the kinds added
    # after these ledgers were written (issue 9: the run's containment; issue 10: the verification)
    added = {ev.Sandbox, ev.RepositoryChanged, ev.WorkspaceMigrated}  # issue 9
    added |= {ev.TestGate, ev.Verification, ev.EmptyRunRemoved}  # issue 10
    assert kinds == set(kinds_of_event()) - {ev.Error} - added
    assert len(kinds) == 29


@pytest.mark.parametrize("session", SESSIONS)
def test_report_and_log_of_an_old_ledger_are_what_the_old_code_printed(old_repo, cli, session):
    expected = OLD / "expected"
    report = cli("report", session, "--repo", str(old_repo), "--format", "json")
    assert report.exit_code == 0, report.output
    shown, printed = json.loads(report.stdout), json.loads((expected / f"{session}.report.json").read_text())
    assert {k: shown[k] for k in printed} == printed  # what came after is added, nothing changed
    # these sessions recorded formula-1 scores: the report says so and shows the current formula's too
    assert shown["score_formula"] == 1 and set(shown["current_formula_scores"]) == set(shown["dimensions"])
    markdown = cli("report", session, "--repo", str(old_repo)).stdout
    assert _as_printed_then(markdown) == (expected / f"{session}.report.md").read_text()
    log = cli("log", session, "--repo", str(old_repo)).stdout
    assert log == (expected / f"{session}.log.txt").read_text()


def _as_printed_then(markdown: str) -> str:
    """The report without what later work added: the recomputed scores, the attempts that fixed
    nothing and the commits the re-audit confirmed."""
    lines = [
        line for line in markdown.split("\n")
        if not line.startswith(("- Recorded with score formula", "  - "))
    ]
    text = "\n".join(lines)
    return re.sub(r", \d+ fixed nothing\); \d+ confirmed by the re-audit of their files", ")", text)


def test_status_of_old_runs_is_what_the_old_code_printed(old_repo, cli):
    expected = OLD / "expected"
    assert json.loads(cli("status", "--repo", str(old_repo), "--json").stdout) == json.loads(
        (expected / "status.json").read_text()
    )
    assert cli("status", "--repo", str(old_repo)).stdout == (expected / "status.txt").read_text()


def test_a_line_that_is_no_event_is_skipped_with_a_warning_and_a_cut_last_line_silently(tmp_path, caplog):
    ledger = Ledger(tmp_path / "s").create()
    ledger.append(ev.Develop(feature="x", approved=True))
    with open(ledger.events_file, "a", encoding="utf-8") as handle:
        handle.write('{"seq": 2, "ts": "t", "type": "from_the_future", "x": 1}\n')
        handle.write('{"seq": 3, "ts": "t", "type": "commit", "sha": 42}\n')
        handle.write("not json\n")
        handle.write('{"seq": 5, "ts": "t", "type": "clea')  # a crash in the middle of a write
    with caplog.at_level(logging.WARNING, logger="gitorch.loop.ledger"):
        read = list(ledger.events())
    assert [type(e) for e in read] == [ev.Develop]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 3
    assert "line 2 skipped: unknown event type 'from_the_future'" in warned[0]
    assert "line 3 skipped: not a valid commit event (iteration: Field required)" in warned[1]
    assert warned[2].endswith("line 4 skipped: not JSON")
    # the next event goes on a line of its own, after the cut one, and numbers on from the JSON lines
    written = ledger.__class__(ledger.dir).append(ev.Clean(force=False))
    assert written.seq == 4
    assert [type(e) for e in ledger.events()] == [ev.Develop, ev.Clean]
    assert [e.seq for e in ledger.events(ev.Clean)] == [4]


def test_an_event_written_and_read_back_is_the_same_event_with_only_the_fields_given(tmp_path):
    ledger = Ledger(tmp_path / "s").create()
    ledger.append(ev.RollbackAttempt(reason="interrupted", patch="p.patch"))
    ledger.append(ev.BaselineTests(passed=True, brief="2 passed"))
    raw = [json.loads(line) for line in ledger.events_file.read_text().splitlines()]
    assert raw[0] == {
        "seq": 1,
        "ts": raw[0]["ts"],
        "type": "rollback_attempt",
        "reason": "interrupted",
        "patch": "p.patch",
    }
    assert raw[1]["type"] == "tests" and raw[1]["kind"] == "baseline" and "collected" not in raw[1]
    rolled, tests = ledger.events()
    assert isinstance(rolled, ev.RollbackAttempt) and rolled.iteration is None and rolled.seq == 1
    assert isinstance(tests, ev.BaselineTests) and tests.passed and tests.brief == "2 passed"
    assert list(ledger.events(ev.AttemptTests)) == []
