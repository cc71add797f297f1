"""``gitorch log``: what a run did, one line per step, from its ledger's events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from gitorch.loop import events as ev
from gitorch.loop.session import SessionState
from gitorch.process.testrun import first_failure


def _scores(scores: dict[str, float | None]) -> str:
    return ", ".join(f"{d} {'-' if s is None else f'{s:g}'}" for d, s in scores.items())


def _failure(e: ev.BaselineTests | ev.AttemptTests, indent: str) -> str:
    """The first failure of a failed test run, on a line of its own."""
    failure = None if e.passed or not e.output else first_failure(e.output)
    return f"\n{indent}first failure: {failure}" if failure else ""


def log_lines(state: SessionState, events: Iterable[ev.Event]) -> Iterator[str]:
    """Iterations with scores before and after, attempts, gates, confirmations, tests, commits, cost."""
    yield (
        f"session {state.id} on {state.branch} (base {state.base_commit[:10]}) — "
        f"{state.stop_reason or state.status}"
    )
    for e in events:
        line = _line(e)
        if line is not None:
            yield line


def _line(e: ev.Event) -> str | None:
    match e:
        case ev.Audit(kind="initial"):
            return f"audit {e.dimension}: score {e.score} ({sum(e.counts.values())} findings)"
        case ev.BaselineTests():
            return f"baseline tests: {'pass' if e.passed else 'FAIL'} ({e.brief})" + _failure(e, "  ")
        case ev.IterationStart():
            return f"\niteration {e.iteration}: {e.phase} — {e.candidates} finding(s); {e.why}"
        case ev.Attempt():
            f = e.finding
            return (
                f"  {f.severity} {f.location} [{f.fingerprint[:10]}] {e.agent} #{e.attempt}: "
                f"{e.status} (${e.cost_usd:.4f})"
            )
        case ev.Gate() if e.decision != "pass":
            return f"    gate {e.decision}: " + "; ".join(f"{h.gate}: {h.detail}" for h in e.hits)
        case ev.Confirmation():
            return f"    asked: {e.question} → {'yes' if e.answer else 'no'} ({e.how})"
        case ev.AttemptTests():
            return f"    tests: {'pass' if e.passed else 'FAIL'} ({e.brief})" + _failure(e, "      ")
        case ev.RollbackAttempt():
            return f"    rolled back: {e.reason} — patch {Path(e.patch).name}"
        case ev.Commit():
            return f"    commit {e.sha[:10]} {e.subject} (+{e.added} -{e.removed})"
        case ev.IterationEnd():
            return (
                f"  end of iteration {e.iteration}: {_scores(e.scores_before)} → {_scores(e.scores_after)}, "
                f"{e.commits} commit(s), spent ${e.cost_usd:.4f}"
            )
        case ev.StrategyChange():
            return f"  no improvement: strategy {e.strategy} (order {e.order}, next agent in the chain)"
        case ev.Rollback() | ev.RollbackUndo():
            what = e.type.replace("_", " ")
            return f"{what}: {e.previous_tip[:10]} → {e.target[:10]} (old tip saved as {e.attic})"
        case ev.Resume():
            return f"\nresumed (was {e.previous.status}, {e.previous.stop_reason})"
        case ev.Stop():
            return f"\nstopped: {e.reason} — {e.detail} (exit {e.exit_code})"
    return None
