"""The fix loop end to end on real repositories, real git and a real pytest suite, with stand-in agents."""

from __future__ import annotations

import json
from pathlib import Path

import loopfakes
import pytest
from loophelpers import (
    TEST_CMD,
    branch_commits,
    dirty_up,
    fingerprint,
    git,
    loop_config,
    options,
    passes_tests_at,
)

from gitorch.errors import UsageError
from gitorch.loop import LoopUI, resume_run, start_run
from gitorch.loop import events as ev
from gitorch.loop.lock import RunLock
from gitorch.loop.session import EXIT_CODES, load_session


def run(root, plugins, ui=None, config_overrides=None, **kw):
    config = loop_config(root, **(config_overrides or {}))
    return start_run(root, config, plugins, options(config, **kw), ui or LoopUI())


def events(root, state, kind=ev.Event):
    _, ledger = load_session(root, state.id)
    return list(ledger.events(kind))


def trailers(root, commit):
    out = git(root, "log", "-1", "--format=%(trailers:only,unfold)", commit)
    return dict(line.split(": ", 1) for line in out.strip().splitlines())


def test_good_fixes_become_commits_and_the_checkout_stays_byte_for_byte(project, fake_plugins, tmp_path):
    root = project([("P1", "good"), ("P2", "good2")])
    dirty_up(root)
    before = fingerprint(root)
    state = run(root, fake_plugins)
    assert fingerprint(root) == before
    assert state.stop_reason == "target" and state.exit_code == 0
    # P1 + P2: 60 + 19·100/107 (score formula 2)
    assert state.scores == {"backend": 100.0} and state.initial_scores == {"backend": 77.76}
    commits = branch_commits(root, state)
    assert len(commits) == 2
    t = trailers(root, commits[0])
    assert t["Gitorch-Session"] == state.id
    assert t["Gitorch-Iteration"] == "1"
    assert t["Gitorch-Dimension"] == "backend"
    assert t["Gitorch-Agent"] == "fixer"
    assert t["Gitorch-Cost-USD"] == "0.0000"
    assert len(t["Gitorch-Finding"]) == 16
    for commit in commits:
        assert passes_tests_at(root, commit, tmp_path)
    assert git(root, "rev-parse", f"refs/gitorch/{state.id}/iter-0").strip() == state.base_commit
    assert git(root, "rev-parse", f"refs/gitorch/{state.id}/iter-1").strip() == commits[0]
    assert git(root, "rev-parse", f"refs/gitorch/{state.id}/iter-2").strip() == commits[1]
    assert git(root, "rev-parse", "HEAD").strip() == state.base_commit
    # the run branch holds only the fixes: nothing the tests or analyzers left behind
    assert git(root, "diff", "--name-only", state.base_commit, commits[-1]).split() == ["app/calc.py"]
    phases = {e.name for e in events(root, state, ev.Phase)}
    assert {"discovery", "audit", "test", "close_gaps", "enhance", "re_audit"} <= phases


def test_a_fix_that_breaks_a_test_is_rolled_back_retried_with_the_failure_and_kept_as_a_patch(
    project, fake_plugins, tmp_path
):
    root = project([("P1", "break")])
    dirty_up(root)
    before = fingerprint(root)
    state = run(root, fake_plugins)
    assert fingerprint(root) == before
    assert loopfakes.Fixer.calls == [("break", 1), ("break", 2)]  # retries = 1
    assert branch_commits(root, state) == []
    rollbacks = events(root, state, ev.RollbackAttempt)
    assert [e.reason for e in rollbacks] == ["tests failed", "tests failed"]
    for e in rollbacks:
        patch = Path(e.patch).read_text()
        assert "-    return a + b" in patch and "+    return a - b" in patch
    assert state.stop_reason == "stalled" and state.exit_code == EXIT_CODES["stalled"]
    wt = state.worktree
    assert git(wt, "status", "--porcelain", "--ignored") == ""


def test_a_retry_receives_the_failure_output_and_can_succeed(project, fake_plugins, tmp_path):
    root = project([("P1", "flaky")])
    state = run(root, fake_plugins)
    assert loopfakes.Fixer.calls == [("flaky", 1), ("flaky", 2)]
    assert len(branch_commits(root, state)) == 1
    assert state.stop_reason == "target"
    failed = [e for e in events(root, state, ev.AttemptTests) if not e.passed]
    assert failed and "assert 2 == 3" in failed[0].output


def test_p0_beyond_every_agent_moves_on_to_p2(project, fake_plugins):
    root = project([("P0", "cannot"), ("P2", "good2")])
    state = run(root, fake_plugins)
    starts = events(root, state, ev.IterationStart)
    assert starts[0].phase == "close_gaps" and starts[0].candidates == 1
    assert starts[1].phase == "enhance" and "beyond every available agent" in starts[1].why
    assert len(branch_commits(root, state)) == 1
    assert state.stop_reason == "stalled"
    assert state.counts["P0"] == 1 and state.counts["P2"] == 0


def test_three_iterations_without_improvement_stall_after_changing_strategy(project, fake_plugins):
    root = project([("P1", "persist")])
    state = run(root, fake_plugins)
    assert state.stop_reason == "stalled" and state.exit_code == 7
    assert state.iterations_done == 3
    assert [e.strategy for e in events(root, state, ev.StrategyChange)] == [1, 2, 3]
    assert "without improvement" in state.stop_detail


def test_iteration_cap(project, fake_plugins):
    root = project([("P1", "good"), ("P2", "good2")])
    state = run(root, fake_plugins, max_iterations=1)
    assert state.stop_reason == "iterations" and state.exit_code == EXIT_CODES["iterations"]
    assert state.iterations_done == 1 and len(branch_commits(root, state)) == 1


def test_budget_cap_stops_and_resume_with_a_new_budget_continues(project, fake_plugins):
    root = project([("P1", "costly"), ("P1", "good")])
    state = run(root, fake_plugins, budget_usd=0.3)
    assert state.stop_reason == "budget" and state.exit_code == EXIT_CODES["budget"]
    assert state.cost_usd == pytest.approx(0.4)
    assert trailers(root, branch_commits(root, state)[0])["Gitorch-Cost-USD"] == "0.4000"
    config = loop_config(root)
    resumed = resume_run(root, config, fake_plugins, state.id, budget_usd=5.0)
    assert resumed.stop_reason == "target"
    assert resumed.cost_usd == pytest.approx(0.4)
    assert len(branch_commits(root, resumed)) == 2


def test_budget_exceeded_inside_an_agent_stops_cleanly(project, fake_plugins):
    root = project([("P1", "overbudget")])
    state = run(root, fake_plugins, budget_usd=1.0)
    assert state.stop_reason == "budget"
    assert "budget" in state.stop_detail
    assert git(state.worktree, "status", "--porcelain") == ""


def test_confirmation_without_terminal_declines_and_needs_a_human(project, fake_plugins):
    root = project([("P1", "bigdelete")])
    dirty_up(root)
    before = fingerprint(root)
    state = run(root, fake_plugins)
    assert fingerprint(root) == before
    assert state.stop_reason == "needs_human" and state.exit_code == EXIT_CODES["needs_human"]
    (asked,) = events(root, state, ev.Confirmation)
    assert asked.answer is False and "no terminal" in asked.how
    assert asked.reasons[0].gate == "deleted-lines"
    assert branch_commits(root, state) == []


def test_yes_approves_a_confirmation(project, fake_plugins):
    root = project([("P1", "bigdelete")])
    state = run(root, fake_plugins, yes=True)
    (asked,) = events(root, state, ev.Confirmation)
    assert asked.answer is True and asked.how == "--yes"
    assert state.stop_reason == "target" and len(branch_commits(root, state)) == 1


def test_an_interactive_answer_is_recorded(project, fake_plugins):
    root = project([("P1", "manyfiles")])
    questions = []
    state = run(root, fake_plugins, ui=LoopUI(ask=lambda q: questions.append(q) or False))
    assert "files: 7 files touched" in questions[0]
    (asked,) = events(root, state, ev.Confirmation)
    assert asked.how == "prompt" and asked.answer is False


@pytest.mark.parametrize(
    ("rule", "gate", "decision"),
    [
        ("deltest", "test-deleted", "reject"),
        ("weaken", "test-weakened", "reject"),
        ("skip", "test-weakened", "reject"),
        ("fewer", "test-weakened", "reject"),
        ("ciconfig", "test-config", "reject"),
        ("symlink", "outside-repository", "reject"),
        ("hook", "git-dir", "reject"),
        ("selfcommit", "git-dir", "reject"),
        ("manyfiles", "files", "confirm"),
        ("coreinit", "core-file", "confirm"),
        ("newmodule", "new-module", "confirm"),
        ("migration", "migration", "confirm"),
        ("delfile", "file-deleted", "confirm"),
        ("bigdelete", "deleted-lines", "confirm"),
    ],
)
def test_each_gate_fires_on_a_diff_built_to_trigger_it(project, fake_plugins, rule, gate, decision):
    root = project([("P1", rule)])
    before = fingerprint(root)
    state = run(root, fake_plugins, max_iterations=1)
    gates = [e for e in events(root, state, ev.Gate) if e.decision != "pass"]
    assert gates, f"no gate fired for {rule}"
    assert gates[0].decision == decision
    assert gate in {h.gate for h in gates[0].hits}
    assert branch_commits(root, state) == []
    (rolled,) = events(root, state, ev.RollbackAttempt)
    assert rolled.reason == ("rejected" if decision == "reject" else "declined")
    assert git(state.worktree, "status", "--porcelain", "--ignored") == ""
    if rule == "hook":  # planted in the workspace's own git directory, which gitorch put back as it was
        assert not (root / ".git" / "hooks" / "post-commit").exists()
        assert not list((root / ".git" / "gitorch" / "gitdirs").glob("*/hooks/*"))
    assert fingerprint(root) == before


def test_adding_a_test_is_allowed_and_raises_the_collected_baseline(project, fake_plugins):
    root = project([("P1", "addtest")])
    state = run(root, fake_plugins)
    assert state.stop_reason == "target"
    assert state.tests_collected == 3


def test_include_dirty_snapshots_uncommitted_work_as_the_first_commit_without_touching_it(
    project, fake_plugins
):
    root = project([("P1", "good")])
    dirty_up(root)
    before = fingerprint(root)
    state = run(root, fake_plugins, include_dirty=True)
    assert fingerprint(root) == before
    commits = branch_commits(root, state)
    assert len(commits) == 2 and commits[0] == state.snapshot_commit
    assert git(root, "show", f"{commits[0]}:README.md") == "# project\nunstaged edit\n"
    assert git(root, "show", f"{commits[0]}:app/old.py") == "OLD = 2\n"
    assert trailers(root, commits[0])["Gitorch-Session"] == state.id


def test_feature_is_developed_only_with_a_confirmation(project, fake_plugins):
    root = project([("P2", "good2")])
    state = run(root, fake_plugins, feature="answer 42")
    (asked,) = events(root, state, ev.Confirmation)
    assert asked.answer is False
    assert not git(
        root, "ls-tree", "-r", "--name-only", f"refs/heads/{state.branch}", "app/feature.py"
    ).strip()
    root2 = project([("P2", "good2")], name="repo2")
    state2 = run(root2, fake_plugins, feature="answer 42", yes=True)
    assert git(root2, "ls-tree", "-r", "--name-only", f"refs/heads/{state2.branch}", "app/feature.py").strip()
    assert any(e.name == "develop" for e in events(root2, state2, ev.Phase))


def test_failing_base_tests_need_a_human_before_anything_changes(project, fake_plugins):
    root = project([("P1", "good")])
    (root / "tests" / "test_calc.py").write_text("def test_fail():\n    assert False\n")
    git(root, "commit", "-qam", "break tests")
    state = run(root, fake_plugins)
    assert state.stop_reason == "needs_human" and "fails before any change" in state.stop_detail
    assert branch_commits(root, state) == []


def test_one_run_per_repository_and_a_stale_lock_is_explained_not_stolen(project, fake_plugins):
    import subprocess

    root = project([("P1", "good")])
    lock = RunLock(root)
    lock.acquire("live-session")
    with pytest.raises(UsageError, match="another gitorch run holds the lock"):
        run(root, fake_plugins)
    lock.release("live-session")
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.path.write_text(
        json.dumps(
            {
                "session": "dead-session",
                "pid": dead.pid,
                "host": __import__("socket").gethostname(),
                "started_at": "2026-01-01T00:00:00",
            }
        )
    )
    with pytest.raises(UsageError, match=r"stale lock .*gitorch resume dead-session"):
        run(root, fake_plugins)
    assert json.loads(lock.path.read_text())["session"] == "dead-session"


def test_dry_run_changes_nothing(project, fake_plugins):
    root = project([("P1", "good")])
    before = fingerprint(root)
    lines = []
    state = run(root, fake_plugins, dry_run=True, ui=LoopUI(progress=lines.append))
    assert state is None
    assert fingerprint(root) == before
    assert not git(root, "for-each-ref", "refs/heads/gitorch/", "refs/gitorch/").strip()
    assert any("would fix P1" in line for line in lines)


def test_agents_get_the_session_services_and_replay_reads_another_sessions_calls(project, fake_plugins):
    root = project([("P1", "good")])
    first = run(root, fake_plugins)
    context = loopfakes.Fixer.contexts[-1]
    _, ledger = load_session(root, first.id)
    assert context.recorder.mode == "record" and context.recorder.directory == ledger.calls_dir
    assert context.budget.cap_usd == 5.0 and context.redactor is not None and context.templates is not None
    second = run(root, fake_plugins, replay=first.id[:15])
    replaying = loopfakes.Fixer.contexts[-1].recorder
    assert replaying.mode == "replay" and replaying.directory == ledger.calls_dir
    assert second.options.replay == first.id


def test_a_crashed_agent_call_is_retried_from_the_green_tree(project, fake_plugins):
    root = project([("P1", "crashonce")])
    state = run(root, fake_plugins)
    assert loopfakes.Fixer.calls == [("crashonce", 1), ("crashonce", 1)]
    (tried,) = events(root, state, ev.AgentTry)
    assert "crashed" in tried.error
    (commit,) = branch_commits(root, state)
    assert "app/half.py" not in git(root, "show", "--name-only", "--format=", commit)
    assert state.stop_reason == "target"


def test_a_lock_whose_pid_was_reused_by_another_process_is_stale(project):
    import os
    import socket

    from gitorch.loop.lock import LockInfo, process_start

    me = LockInfo(
        session="s",
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at="t",
        process_start=process_start(os.getpid()),
    )
    assert me.alive() is True
    reused = me.model_copy(update={"process_start": "1"})
    assert reused.alive() is False
    elsewhere = me.model_copy(update={"host": "another-host"})
    assert elsewhere.alive() is None


def test_a_dimension_nobody_can_audit_is_refused_before_anything_is_created(project, fake_plugins):
    root = project([("P1", "good")])
    config = loop_config(root, **{"routing.audit": ["fixer"]})
    with pytest.raises(UsageError, match="no agent in the audit chain"):
        start_run(root, config, fake_plugins, options(config))
    assert not git(root, "for-each-ref", "refs/heads/gitorch/", "refs/gitorch/").strip()


def test_a_dimension_nobody_can_fix_is_noted_and_the_run_ends_honestly(project, fake_plugins):
    root = project([("P1", "good")])
    lines = []
    state = run(
        root, fake_plugins, ui=LoopUI(progress=lines.append), config_overrides={"routing.fix": ["marker"]}
    )
    assert any("no available agent can fix backend" in line for line in lines)
    assert state.stop_reason == "stalled" and branch_commits(root, state) == []


def test_path_limits_the_run_to_a_subdirectory(project, fake_plugins):
    root = project([("P1", "good")])
    state = run(root, fake_plugins, path="app/")
    assert state.options.path == "app"
    (audit, *_) = events(root, state, ev.Audit)
    assert all(f.location.startswith("app/") for f in audit.findings)
    assert state.discovery["module_path"] == "app" and state.stop_reason == "target"


def test_a_project_without_tests_can_be_fixed_and_the_report_says_nothing_was_tested(project, fake_plugins):
    root = project([("P1", "good")])
    git(root, "rm", "-q", "tests/test_calc.py")
    git(root, "commit", "-qm", "no tests")
    state = run(root, fake_plugins, test_command=TEST_CMD.removesuffix(" tests"))
    assert state.stop_reason == "target"
    assert state.last_tests == "0 collected"


def test_a_feature_is_developed_even_when_the_score_is_already_at_the_target(project, fake_plugins):
    root = project([])
    state = run(root, fake_plugins, feature="answer 42", yes=True)
    assert state.initial_scores == {"backend": 100.0}
    assert state.stop_reason == "target" and state.feature_done
    assert git(root, "ls-tree", "-r", "--name-only", f"refs/heads/{state.branch}", "app/feature.py").strip()


def test_what_the_tests_change_or_leave_behind_never_reaches_a_commit(project, fake_plugins):
    root = project([("P1", "dirtytests"), ("P1", "good")])  # one iteration: no re-audit between them
    state = run(root, fake_plugins)
    commits = branch_commits(root, state)
    assert len(commits) == 2
    for commit in commits:
        files = git(root, "show", "--name-only", "--format=", commit).split()
        assert "app/big.py" not in files and "scratch.txt" not in files
    assert git(state.worktree, "status", "--porcelain", "--ignored") == ""


def test_worktree_is_in_the_git_dir_unless_an_agent_cannot_edit_there(
    project, fake_plugins, tmp_path, monkeypatch
):
    root = project([("P1", "good")])
    state = run(root, fake_plugins)
    assert Path(state.worktree).parent == root / ".git" / "gitorch" / "worktrees"

    # An agent like Claude Code (acceptEdits refuses edits under any .git path) moves the worktree out.
    monkeypatch.setattr(loopfakes.Fixer, "edits_under_git_dir", False)
    root2 = project([("P1", "good")], name="repo2")
    before = fingerprint(root2)
    state2 = run(root2, fake_plugins)
    worktree = Path(state2.worktree)
    assert worktree.parent == Path(__import__("os").environ["XDG_CACHE_HOME"]) / "gitorch" / "worktrees"
    assert worktree.name.startswith("repo2-") and worktree.name.endswith(state2.id)
    assert state2.stop_reason == "target" and len(branch_commits(root2, state2)) == 1
    assert fingerprint(root2) == before

    # The configuration decides when it says so.
    root3 = project([("P1", "good")], name="repo3")
    state3 = run(root3, fake_plugins, config_overrides={"worktree_location": "git-dir"})
    assert Path(state3.worktree).parent == root3 / ".git" / "gitorch" / "worktrees"
