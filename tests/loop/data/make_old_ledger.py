"""How ``tests/loop/data/old-ledger/`` was made: four real runs of the fix loop as it was at commit 2e124e0
(before the loop was split into collaborators and its events typed), with the stand-in agents.

    python tests/loop/data/make_old_ledger.py OUT_DIR

It writes ``OUT_DIR/sessions/<id>/{session.json,events.jsonl}`` (the calls and patches are left out: the
readers do not open them). Run against today's code it makes a ledger of today's format, which is not the
point: the committed fixture is the one made by the old code, and a test reads it with the new readers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import loopfakes  # noqa: E402
from loophelpers import killed_after_the_commit, loop_config, make_project, options  # noqa: E402

from gitorch import hookimpl  # noqa: E402
from gitorch.models import Agent, Availability  # noqa: E402
from gitorch.plugin.manager import get_plugins  # noqa: E402


class Ghost(Agent):
    """A fixer that is never available (an AI CLI that is not installed)."""

    name = "ghost"
    fixes = None

    @classmethod
    def availability(cls):
        return Availability(False, "ghost is not installed")


class GhostPlugin:
    @hookimpl
    def gitorch_agents(self):
        return [Ghost]


def main(out: Path) -> None:
    from gitorch.loop import LoopUI, resume_run, runs, start_run
    from gitorch.loop.session import sessions_dir

    tmp = Path(tempfile.mkdtemp(prefix="gitorch-old-ledger-"))
    os.environ.update(
        GIT_CONFIG_GLOBAL=str(tmp / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GITORCH_LOAD_PLUGINS="",
        XDG_CACHE_HOME=str(tmp / "cache"),
    )
    plugins = get_plugins(
        [], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes, "ghost": GhostPlugin()}
    )
    ui = LoopUI()

    # 1. good fixes, a fix that breaks the tests (retried), a declined confirmation, a rejected hook, an
    #    agent that commits by itself, a crashed call, a finding nobody can fix, a feature; then rollback,
    #    its undo and clean
    root = make_project(
        tmp / "repo",
        [
            ("P1", "good"),
            ("P1", "break"),
            ("P1", "bigdelete"),
            ("P1", "hook"),
            ("P1", "selfcommit"),
            ("P1", "crashonce"),
            ("P0", "cannot"),
            ("P2", "good2"),
        ],
    )
    config = loop_config(root)
    first = start_run(root, config, plugins, options(config, feature="answer 42"), ui)
    (root / ".git" / "hooks" / "post-commit").unlink(missing_ok=True)
    runs.rollback(root, 1, first.id)
    runs.undo_rollback(root, first.id)

    # 2. the budget stops a run; a kill between the branch update and the ledger, a git lock left behind;
    #    resume reconciles, clears the lock and finishes
    (root / "app" / "calc.py").write_text(
        (root / "app" / "calc.py").read_text() + "# gitorch-test: P1 costly\n# gitorch-test: P1 good3\n"
    )
    subprocess.run(["git", "commit", "-qam", "more"], cwd=root, check=True)
    second = start_run(root, config, plugins, options(config, budget_usd=0.3), ui)
    killed_after_the_commit(root, second)
    resume_run(root, config, plugins, budget_usd=5.0, ui=ui)

    # 3. an unavailable agent in the chain, a dimension nobody can fix, and an agent that is not confined
    #    writing into the user's checkout
    config3 = loop_config(
        root, **{"routing.fix": ["ghost", "fixer"], "routing.security": {"fix": ["marker"]}}
    )
    (root / "notes.txt").write_text("mine\n")
    original = loopfakes.Fixer.fix

    def rogue(self, request):
        result = original(self, request)
        (root / "notes.txt").write_text("overwritten\n")
        return result

    loopfakes.Fixer.confined = False
    loopfakes.Fixer.fix = rogue
    try:
        start_run(root, config3, plugins, options(config3, dimensions=["backend", "security"]), ui)
    finally:
        loopfakes.Fixer.fix = original
        loopfakes.Fixer.confined = True
    runs.clean(root)

    # 4. an agent whose commits fix nothing: the strategy changes after each iteration, then the run stalls
    root4 = make_project(tmp / "repo4", [("P1", "persist")])
    config4 = loop_config(root4)
    start_run(root4, config4, plugins, options(config4), ui)

    for session in [*sessions_dir(root).iterdir(), *sessions_dir(root4).iterdir()]:
        target = out / "sessions" / session.name
        target.mkdir(parents=True, exist_ok=True)
        for name in ("session.json", "events.jsonl"):
            shutil.copyfile(session / name, target / name)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
