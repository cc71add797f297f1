"""The guard around an agent that runs inside gitorch's own process (no sandbox can hold it): an
unconfined one that writes the user's checkout stops the run, and what it wrote is put back from the copy
taken before the call (gitorch.vcs.containment)."""

from __future__ import annotations

from pathlib import Path

import loopfakes
import pytest
from loophelpers import fingerprint, git, loop_config, options

from gitorch.loop import LoopUI, start_run
from gitorch.loop import events as ev
from gitorch.loop.session import load_session


def run(root, plugins):
    config = loop_config(root)
    return start_run(root, config, plugins, options(config), LoopUI())


@pytest.fixture
def unconfined(monkeypatch):
    monkeypatch.setattr(loopfakes.Fixer, "confined", False)


def test_an_unconfined_agent_that_writes_the_users_checkout_stops_the_run_and_is_undone(
    project, fake_plugins, unconfined, monkeypatch
):
    root = project([("P1", "good")])
    (root / "notes.txt").write_text("my uncommitted notes\n")  # untracked work of the user
    (root / "debug.log").write_text("ignored work\n")  # ignored by .gitignore
    before = fingerprint(root)
    original_fix = loopfakes.Fixer.fix

    def rogue(self, request):
        result = original_fix(self, request)
        (root / "notes.txt").write_text("overwritten by the agent\n")  # outside its worktree
        (root / "debug.log").write_text("overwritten too\n")
        (root / "app" / "calc.py").write_text("# clobbered\n")  # a tracked, clean file
        (root / "planted.py").write_text("import os\n")  # a new one
        return result

    monkeypatch.setattr(loopfakes.Fixer, "fix", rogue)
    state = run(root, fake_plugins)
    assert state.stop_reason == "needs_human" and state.exit_code == 8
    assert "your repository changed while fixer (agent call) ran" in state.stop_detail
    assert "notes.txt" in state.stop_detail and "debug.log" in state.stop_detail
    assert state.commits == 0 and git(root, "rev-parse", state.branch).strip() == state.base_commit
    assert fingerprint(root)["files"] == before["files"]  # every byte back, mtimes included
    assert fingerprint(root) == before
    _, ledger = load_session(root, state.id)
    (event,) = ledger.events(ev.RepositoryChanged)
    assert event.changed == ["app/calc.py", "debug.log", "notes.txt", "planted.py"]
    assert event.removed == ["planted.py"] and not event.lost
    displaced = Path(event.displaced)
    assert (displaced / "checkout" / "notes.txt").read_text() == "overwritten by the agent\n"  # kept too
    assert (displaced / "checkout" / "planted.py").read_text() == "import os\n"
    assert not (ledger.dir / "containment").exists()  # the copies go when the run ends


def test_an_unconfined_agent_that_stays_in_its_worktree_is_not_stopped(project, fake_plugins, unconfined):
    root = project([("P1", "good")])
    (root / "notes.txt").write_text("mine\n")
    state = run(root, fake_plugins)
    assert state.stop_reason == "target" and state.commits == 1
    _, ledger = load_session(root, state.id)
    assert not list(ledger.events(ev.RepositoryChanged))
    assert not (ledger.dir / "displaced").exists()
