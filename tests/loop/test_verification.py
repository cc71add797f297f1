"""The loop's own check of every attempt, the same for every agent (gitorch.loop.verification): the cheap
gate (compile, import), the re-audit of the touched files (finding gone, nothing as severe new), the
dependency confirmation, the test gate said before the first attempt, and no empty branch left behind.
Real repositories, real git, real pytest; stand-in agents for the plugin side."""

from __future__ import annotations

import json
import sys

import pytest
from loophelpers import branch_commits, fingerprint, git, loop_config, options

from gitorch.loop import events as ev
from gitorch.loop import start_run
from gitorch.loop.session import load_session
from gitorch.report.build import build_report, render_markdown


def run(project, fake_plugins, rules, *, auditor="marker-recheck", **overrides):
    root = project(rules)
    config = loop_config(root, **{"routing.audit": [auditor], "max_iterations": 2, **overrides})
    before = fingerprint(root)
    state = start_run(root, config, fake_plugins, options(config, max_iterations=2))
    assert fingerprint(root) == before  # the user's checkout is byte-identical
    _, ledger = load_session(root, state.id)
    return root, state, ledger


def rollbacks(ledger) -> list[ev.RollbackAttempt]:
    return list(ledger.events(ev.RollbackAttempt))


def no_run_left(root, state) -> bool:
    return (
        git(root, "rev-parse", "--verify", "-q", f"refs/heads/{state.branch}", check=False).strip() == ""
        and not (root / ".git" / "worktrees" / state.id).exists()
        and git(root, "for-each-ref", f"refs/gitorch/{state.id}/").strip() == ""
    )


def test_an_attempt_that_fixes_nothing_is_rolled_back_with_its_reason(project, fake_plugins):
    root, state, ledger = run(project, fake_plugins, [("P1", "persist")])
    assert state.commits == 0 and state.stop_reason == "stalled"
    reasons = {r.reason for r in rollbacks(ledger)}
    assert reasons == {"no effect"}
    check = next(ledger.events(ev.Verification))
    assert check.decision == "no-effect" and check.rechecked == ["backend"]
    assert "still reports persist" in " ".join(check.notes)
    assert branch_commits(root, state) == []
    report = render_markdown(build_report(root, state, ledger))
    assert "1 fixed nothing" in report or "fixed nothing" in report


def test_a_confirmed_fix_names_what_it_closes(project, fake_plugins):
    root, state, ledger = run(project, fake_plugins, [("P1", "good")])
    [commit] = branch_commits(root, state)
    message = git(root, "log", "-1", "--format=%B", commit)
    assert "no longer reports:\n- P1 good at app/calc.py" in message
    [event] = ledger.events(ev.Commit)
    assert event.closes and event.closes[0] == event.finding.fingerprint
    report = build_report(root, state, ledger)
    assert report.verified_commits == 1


def test_a_change_that_no_longer_parses_is_rejected_before_the_tests(project, fake_plugins):
    root, state, ledger = run(project, fake_plugins, [("P2", "syntax")])
    assert state.commits == 0
    [check] = [e for e in ledger.events(ev.Verification)][:1]
    assert check.decision == "reject"
    assert any("app/calc.py no longer compiles" in p for p in check.problems)
    assert not list(ledger.events(ev.AttemptTests))  # rejected before the tests ran


def test_a_change_that_breaks_an_import_is_rejected(project):
    # the import half of the cheap gate comes from the project environment the local agent lends
    import loopfakes

    from gitorch.plugin.manager import get_plugins

    plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes,
                                       "local": "gitorch_local"})
    _, state, ledger = run(project, plugins, [("P2", "noimport")])
    assert state.commits == 0
    check = next(ledger.events(ev.Verification))
    assert check.decision == "reject"
    assert any("app/big.py no longer imports" in p and "gitorch_no_such_module_xyz" in p
               for p in check.problems)


def test_a_new_finding_as_severe_on_the_touched_lines_rejects_the_attempt(project, fake_plugins):
    _, state, ledger = run(project, fake_plugins, [("P1", "moremarkers")])
    assert state.commits == 0
    check = next(ledger.events(ev.Verification))
    assert check.decision == "reject" and [f.rule_id for f in check.new] == ["fresh"]


def test_without_a_recheck_the_gates_and_tests_decide(project, fake_plugins):
    # the plain marker auditor cannot re-audit a few files: the old behaviour, the tests decide
    root, state, ledger = run(project, fake_plugins, [("P1", "persist")], auditor="marker")
    assert state.commits >= 1
    assert all(e.rechecked == [] for e in ledger.events(ev.Verification))


def test_a_new_dependency_needs_a_confirmation_naming_the_package(project, fake_plugins):
    root, state, ledger = run(project, fake_plugins, [("P1", "dependency")])
    assert state.commits == 0 and state.stop_reason == "needs_human"
    gate = next(e for e in ledger.events(ev.Gate) if e.decision == "confirm")
    assert any(h.gate == "dependency" and "defusedxml>=0.7" in h.detail for h in gate.hits)
    assert {r.reason for r in rollbacks(ledger)} == {"declined"}


def test_with_yes_the_dependency_lands_in_the_commit(project, fake_plugins):
    root = project([("P1", "dependency")])
    config = loop_config(root, **{"routing.audit": ["marker-recheck"], "max_iterations": 1})
    state = start_run(root, config, fake_plugins, options(config, max_iterations=1, yes=True))
    [commit] = branch_commits(root, state)
    message = git(root, "log", "-1", "--format=%B", commit)
    assert "Dependencies: adds the dependency defusedxml>=0.7 (requirements.txt)" in message


def test_no_tests_is_not_a_pass_the_run_says_so_and_a_cheap_gate_protects_the_commits(project, fake_plugins):
    root = project([("P1", "good"), ("P2", "syntax")])
    git(root, "rm", "-q", "-r", "tests")
    git(root, "commit", "-qm", "no tests")
    command = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
    config = loop_config(root, **{"routing.audit": ["marker-recheck"], "max_iterations": 2,
                                  "tests.command": command})
    state = start_run(root, config, fake_plugins, options(config, max_iterations=2))
    _, ledger = load_session(root, state.id)
    [gate] = ledger.events(ev.TestGate)
    assert gate.kind == "no-tests" and "behaviour is not checked" in gate.description
    assert state.test_gate == "no-tests"
    # the good fix landed; the one that broke parsing did not, though no test would have noticed
    commits = branch_commits(root, state)
    assert len(commits) == 1
    for commit in commits:
        for path in git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", commit).split():
            if path.endswith(".py"):
                compile(git(root, "show", f"{commit}:{path}"), path, "exec")
    report = render_markdown(build_report(root, state, ledger))
    assert "the project has no tests" in report
    assert "compiled, and its touched modules imported" in report


def test_tests_that_cannot_run_anywhere_stop_the_run_and_leave_no_branch(project, fake_plugins):
    root = project([("P1", "good")])
    test = "import gitorch_missing_dependency_xyz\n\n\ndef test_a():\n    pass\n"
    (root / "tests" / "test_calc.py").write_text(test)
    git(root, "commit", "-qam", "needs a dependency")
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    config = loop_config(root, **{"routing.audit": ["marker-recheck"], "tests.command": command})
    before = fingerprint(root)
    state = start_run(root, config, fake_plugins, options(config))
    assert fingerprint(root) == before
    assert state.stop_reason == "needs_human" and state.test_gate in ("no-environment", "failing")
    assert "ModuleNotFoundError: No module named 'gitorch_missing_dependency_xyz'" in state.stop_detail
    # stopped before its first attempt: no branch, no worktree, no refs; the ledger says why
    assert no_run_left(root, state) and state.cleaned
    _, ledger = load_session(root, state.id)
    assert any(isinstance(e, ev.EmptyRunRemoved) for e in ledger.events())
    report = render_markdown(build_report(root, state, ledger))
    assert "No commit: the run's branch" in report and "the tests cannot run" in report
    from gitorch.errors import UsageError
    from gitorch.loop import resume_run

    with pytest.raises(UsageError, match="ended before its first commit"):
        resume_run(root, config, fake_plugins, state.id)


def test_a_ledger_without_its_score_formula_reports_and_an_old_formula_is_recomputed(project, fake_plugins):
    root, state, ledger = run(project, fake_plugins, [("P1", "good"), ("P2", "alsogood")])
    assert state.score_formula == 2
    session = ledger.dir / "session.json"
    data = json.loads(session.read_text())
    data.pop("score_formula")
    session.write_text(json.dumps(data))
    old, ledger = load_session(root, state.id)
    report = build_report(root, old, ledger)
    assert report.score_formula == 2 and report.current_formula_scores == {}  # inferred from the audits
    old.score_formula = 1
    report = build_report(root, old, ledger)
    assert set(report.current_formula_scores) == {"backend"}
    assert "Recorded with score formula 1" in render_markdown(report)
