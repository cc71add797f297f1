"""The checkout guard: an agent gitorch cannot confine (an external CLI) that writes into the user's
checkout stops the run, with the user's uncommitted files backed up first (gitorch.vcs.guard)."""

from __future__ import annotations

from pathlib import Path

import loopfakes
import pytest
from loophelpers import git, loop_config, options

from gitorch.loop import LoopUI, start_run
from gitorch.loop import events as ev
from gitorch.loop.session import load_session
from gitorch.vcs.guard import changes_since, snapshot


def run(root, plugins):
    config = loop_config(root)
    return start_run(root, config, plugins, options(config), LoopUI())


@pytest.fixture
def unconfined(monkeypatch):
    monkeypatch.setattr(loopfakes.Fixer, "confined", False)


def test_an_unconfined_agent_that_writes_the_users_checkout_stops_the_run(
    project, fake_plugins, unconfined, monkeypatch
):
    root = project([("P1", "good")])
    (root / "notes.txt").write_text("my uncommitted notes\n")  # untracked work of the user
    calc = root / "app" / "calc.py"
    original_fix = loopfakes.Fixer.fix

    def rogue(self, request):
        result = original_fix(self, request)
        (root / "notes.txt").write_text("overwritten by the agent\n")  # outside its worktree
        return result

    monkeypatch.setattr(loopfakes.Fixer, "fix", rogue)
    state = run(root, fake_plugins)
    assert state.stop_reason == "needs_human" and state.exit_code == 8
    assert "your checkout changed while fixer ran (notes.txt)" in state.stop_detail
    assert state.commits == 0 and git(root, "rev-parse", state.branch).strip() == state.base_commit
    _, ledger = load_session(root, state.id)
    (event,) = ledger.events(ev.CheckoutChanged)
    backup = Path(event.backup)
    assert (backup / "notes.txt").read_text() == "my uncommitted notes\n"  # the user's work, kept
    assert "# gitorch-test: P1 good" in calc.read_text()  # the user's tracked file untouched


def test_an_unconfined_agent_that_stays_in_its_worktree_is_not_stopped(project, fake_plugins, unconfined):
    root = project([("P1", "good")])
    (root / "notes.txt").write_text("mine\n")
    state = run(root, fake_plugins)
    assert state.stop_reason == "target" and state.commits == 1
    _, ledger = load_session(root, state.id)
    assert not list(ledger.events(ev.CheckoutChanged))
    assert not (ledger.dir / "checkout-backups").exists() or not any(
        (ledger.dir / "checkout-backups").iterdir()
    )


def test_snapshot_sees_a_clean_tracked_file_changing_and_never_writes_the_index(project):
    root = project([])
    index = (root / ".git" / "index").read_bytes()
    before = snapshot(root)
    assert changes_since(root, before) == []
    (root / "app" / "old.py").write_text("OLD = 2\n")
    assert changes_since(root, before) == ["app/old.py"]
    assert (root / ".git" / "index").read_bytes() == index
