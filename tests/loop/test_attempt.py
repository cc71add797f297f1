"""The attempt pipeline on its own: a FixAttempt on a workspace it is given, returning an outcome and
leaving the run's state alone (real repository, real git, real pytest suite, stand-in agents)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import loopfakes
import pytest
from loophelpers import git, loop_config, options

from gitorch.errors import GitorchError
from gitorch.loop import FixAttempt, create_session
from gitorch.loop import events as ev
from gitorch.loop.lock import RunLock
from gitorch.models import AuditRequest


@pytest.fixture
def session(project, fake_plugins):
    """A session made but not run: its loop, and the finding of each marker rule of the project."""
    made = []

    def make(rules):
        root = project(rules)
        config = loop_config(root)
        loop = create_session(root, config, fake_plugins, options(config))
        made.append(loop)
        request = AuditRequest(root=root, dimension=fake_plugins.dimension("backend"), config=config)
        findings = {f.rule_id: f for f in loopfakes.MarkerAuditor().audit(request).findings}
        return loop, findings

    yield make
    for loop in made:
        RunLock(loop.root).release(loop.state.id)


def tip(loop) -> str:
    return git(loop.root, "rev-parse", f"refs/heads/{loop.state.branch}").strip()


def test_a_committed_attempt_moves_the_branch_and_returns_the_commit_without_touching_the_run_state(session):
    loop, findings = session([("P1", "good")])
    green = loop.state.green_commit
    outcome = FixAttempt(
        loop.attempt_context(), loop.workspace(), findings["good"], "fixer", "close_gaps"
    ).run()
    assert outcome.kind == "committed" and outcome.tests == "2 passed"
    assert outcome.commit == tip(loop) and git(loop.root, "rev-parse", f"{outcome.commit}^").strip() == green
    assert loop.state.green_commit == green and loop.state.commits == 0  # the caller decides what to take
    assert git(loop.wt.path, "status", "--porcelain", "--ignored") == ""
    kinds = [type(e) for e in loop.ledger.events() if not isinstance(e, ev.SessionStart | ev.Sandbox)]
    assert kinds == [ev.Attempt, ev.Gate, ev.Verification, ev.AttemptTests, ev.Commit, ev.AttemptEnd]
    (end,) = loop.ledger.events(ev.AttemptEnd)
    assert end.outcome == "committed" and end.overhead_s > 0
    assert loop.state.phase_durations["test"] > 0  # the clock it was lent


def test_a_finding_without_a_file_is_committed_under_the_file_its_fix_changed(session):
    loop, findings = session([("P1", "feature")])  # the stand-in fixer writes app/feature.py for it
    group = findings["feature"].model_copy(update={"file": None, "line": None})  # e.g. one rule, many files
    outcome = FixAttempt(loop.attempt_context(), loop.workspace(), group, "fixer", "close_gaps").run()
    assert outcome.kind == "committed"
    subject = git(loop.root, "log", "-1", "--format=%s", outcome.commit).strip()
    changed = git(loop.root, "show", "--name-only", "--format=", outcome.commit).split()
    where = changed[0] if len(changed) == 1 else f"{len(changed)} files"
    assert changed and subject.endswith(f" in {where}") and " in -" not in subject


def test_the_next_attempt_works_on_the_workspace_it_is_given(session):
    loop, findings = session([("P1", "good"), ("P2", "good2")])
    context, workspace = loop.attempt_context(), loop.workspace()
    first = FixAttempt(context, workspace, findings["good"], "fixer", "close_gaps").run()
    second = FixAttempt(
        context, replace(workspace, green=first.commit), findings["good2"], "fixer", "enhance"
    ).run()
    assert second.kind == "committed"
    assert git(loop.root, "rev-list", "--count", f"{loop.state.base_commit}..{second.commit}").strip() == "2"
    # an attempt given a stale green commit refuses before the agent runs: it could only undo commits
    calls = len(loopfakes.Fixer.calls)
    stale = FixAttempt(context, workspace, findings["good2"], "fixer", "enhance")
    with pytest.raises(GitorchError, match="refusing to work on a stale workspace"):
        stale.run()
    assert tip(loop) == second.commit and len(loopfakes.Fixer.calls) == calls


@pytest.mark.parametrize(
    ("rule", "kind", "reason", "rolled_back"),
    [
        ("deltest", "rejected", "test-deleted", "rejected"),
        ("bigdelete", "declined", "needs a human decision", "declined"),
        ("break", "failed_tests", "2 failed", "tests failed"),
        ("cannot", "cannot_fix", "beyond me", None),
    ],
)
def test_an_attempt_that_does_not_commit_says_why_and_leaves_the_branch_and_worktree_green(
    session, rule, kind, reason, rolled_back
):
    loop, findings = session([("P1", rule)])
    green = loop.state.green_commit
    outcome = FixAttempt(
        loop.attempt_context(), loop.workspace(), findings[rule], "fixer", "close_gaps"
    ).run()
    assert outcome.kind == kind and reason in outcome.reason
    assert outcome.commit is None and tip(loop) == green
    assert git(loop.wt.path, "status", "--porcelain", "--ignored") == ""
    if kind == "failed_tests":
        assert "assert" in outcome.failure and outcome.tests == "2 failed"
    rolled = list(loop.ledger.events(ev.RollbackAttempt))
    assert [e.reason for e in rolled] == ([rolled_back] if rolled_back else [])
    assert all(Path(e.patch).is_file() for e in rolled)
