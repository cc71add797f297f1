"""``gitorch fix --jobs N``: several agent calls at once, each in its own worktree, landed one by one."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

from loophelpers import branch_commits, git, loop_config, options, passes_tests_at

from gitorch import hookimpl
from gitorch.loop import events as ev
from gitorch.loop import start_run
from gitorch.loop.session import load_session
from gitorch.models import Agent, FixResult, Usage
from gitorch.testing.kit import GitRepo
from gitorch.vcs.workspace import workspace_git_dir


class Slow(Agent):
    """Removes the marker line of its finding after a pause; with rule ``shared`` it also adds a line to
    app/shared.py (at the same place every time, so two such patches conflict). Records every call."""

    name = "slow"
    audits = frozenset()
    fixes = None
    calls: list[tuple[str, float, float, str]] = []
    user_root: Path | None = None
    lock = threading.Lock()

    def fix(self, request):
        root, f = request.root, request.finding
        started = time.monotonic()
        time.sleep(0.6)
        target = root / f.file
        target.write_text(
            "".join(line for line in target.read_text().splitlines(True) if line.rstrip() != f.snippet)
        )
        if f.rule_id == "hook":  # plants a hook in its workspace's git directory
            git_dir = Path((root / ".git").read_text().removeprefix("gitdir: ").strip())
            (git_dir / "hooks" / "post-checkout").write_text("#!/bin/sh\ntouch /tmp/owned\n")
        if f.rule_id == "reach":  # changes the user's repository from its job
            subprocess.run(["git", "config", "core.fsmonitor", "/bin/false"], cwd=Slow.user_root, check=True)
        if f.rule_id == "shared":
            shared = root / "app" / "shared.py"
            lines = shared.read_text().splitlines(True)
            shared.write_text("".join([lines[0], f"FIXED_{Path(f.file).stem.upper()} = True\n", *lines[1:]]))
        with Slow.lock:
            Slow.calls.append((f.file, started, time.monotonic(), str(root)))
        usage = Usage(calls=1, cost_usd=0.5) if f.rule_id == "costly" else Usage()
        return FixResult(status="changed", summary=f"fixed {f.rule_id} in {f.file}", usage=usage)


class SlowPlugin:
    @hookimpl
    def gitorch_agents(self):
        return [Slow]


def _project(path: Path, markers: dict[str, list[str]]) -> Path:
    files = {
        "app/__init__.py": "",
        "app/calc.py": "def add(a, b):\n    return a + b\n",
        "app/shared.py": "COUNT = 0\nEND = 1\n",
        "tests/test_calc.py": "from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    }
    for name, rules in markers.items():
        files[f"app/{name}.py"] = f"VALUE = '{name}'\n" + "".join(
            f"# gitorch-test: P1 {r} {name}\n" for r in rules
        )
    return GitRepo.create(path, files).path


def _plugins():
    import loopfakes

    from gitorch.plugin.manager import get_plugins

    Slow.calls = []
    plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes})
    plugins.pm.register(SlowPlugin(), name="slow-plugin")
    return plugins


def _run(root: Path, jobs: int, ui=None, **kw):
    config = loop_config(root, **{"routing.fix": ["slow"], "jobs": jobs})
    return start_run(root, config, _plugins(), options(config, jobs=jobs, **kw), ui)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def test_jobs_run_calls_at_once_on_different_files_and_land_a_linear_green_branch(tmp_path):
    from gitorch.loop.human import LoopUI

    root = _project(tmp_path / "repo", {f"m{i}": ["good"] for i in range(1, 6)} | {"m6": ["good", "again"]})
    shown: list[list[str]] = []
    state = _run(root, jobs=3, ui=LoopUI(running=shown.append))
    assert state.stop_reason == "target", state.stop_detail
    commits = branch_commits(root, state)
    assert len(commits) == 7
    # linear: every commit has one parent, the previous one
    assert (
        git(root, "rev-list", "--first-parent", f"{state.base_commit}..{state.branch}").split()
        == commits[::-1]
    )
    assert all(len(git(root, "rev-list", "--parents", "-n1", c).split()) == 2 for c in commits)
    findings = [
        git(root, "log", "-1", "--format=%(trailers:key=Gitorch-Finding,valueonly)", c).strip()
        for c in commits
    ]
    assert len(set(findings)) == 7 and all(findings)  # one commit per finding, with its trailers
    _, ledger = load_session(root, state.id)
    assert [e.sha for e in ledger.events(ev.Commit)] == commits  # the ledger in landing order
    for commit in commits:
        assert passes_tests_at(root, commit, tmp_path)
    calls = Slow.calls
    assert len(calls) == 7
    # several at once, never more than --jobs, never two on one file, each in a worktree of its own
    peak = max(sum(1 for other in calls if other[1] <= call[1] < other[2]) for call in calls)  # at a start
    assert 2 <= peak <= 3
    m6 = [c for c in calls if c[0] == "app/m6.py"]
    assert not _overlap(m6[0], m6[1])
    assert {c[3] for c in calls} != {state.worktree} and all(".job" in c[3] for c in calls)
    # the console's live view: one line per running attempt, named by its job slot, cleared at the end
    assert max(len(lines) for lines in shown) in (2, 3) and shown[-1] == []
    pattern = re.compile(r"\[job [123]\] P1 app/m\d\.py:\d+: slow attempt \d, \d+s")
    assert all(pattern.fullmatch(line) for lines in shown for line in lines), shown[:3]
    # nothing left behind: no job workspace, no job git directory, no job branch, no linked worktree
    assert _job_leftovers(root, state) == []
    assert len(git(root, "worktree", "list", "--porcelain").split("worktree ")) == 2
    assert [b for b in git(root, "branch", "--format=%(refname:short)").split() if "-job" in b] == []
    assert git(state.worktree, "status", "--porcelain", "--ignored") == ""


def test_a_patch_that_no_longer_applies_is_made_again_on_the_new_tip(tmp_path):
    root = _project(tmp_path / "repo", {"a": ["shared"], "b": ["shared"]})
    state = _run(root, jobs=2)
    assert state.stop_reason == "target", state.stop_detail
    assert len(branch_commits(root, state)) == 2
    shared = git(root, "show", f"{state.branch}:app/shared.py")
    assert "FIXED_A = True" in shared and "FIXED_B = True" in shared
    assert len(Slow.calls) == 3  # the second patch conflicted with the first and was made again
    _, ledger = load_session(root, state.id)
    assert sum(1 for e in ledger.events(ev.Attempt)) == 3


def test_jobs_1_and_jobs_4_fix_the_same_findings_into_the_same_tree(tmp_path):
    markers = {f"m{i}": ["good"] for i in range(1, 5)}
    one = _run(_project(tmp_path / "one", markers), jobs=1)
    four = _run(_project(tmp_path / "four", markers), jobs=4)
    assert one.stop_reason == four.stop_reason == "target"
    tree = "{}^{{tree}}"
    assert git(tmp_path / "one", "rev-parse", tree.format(one.branch)) == git(
        tmp_path / "four", "rev-parse", tree.format(four.branch)
    )


def test_the_live_console_gives_each_running_attempt_a_line_until_it_lands(tmp_path):
    from gitorch.cli.console import RunConsole

    root = _project(tmp_path / "repo", {f"m{i}": ["good"] for i in range(1, 5)})
    console = RunConsole(live=False, quiet=False, interactive=False)
    seen: list[set[str]] = []
    take = console._take

    def watching(note):
        take(note)
        seen.append({slot.what for slot in console.slots.values()})

    console._take = watching
    state = _run(root, jobs=2, ui=console.ui())
    assert state.stop_reason == "target", state.stop_detail
    jobs = [{what for what in lines if what.startswith("[job ")} for lines in seen]
    assert max(len(lines) for lines in jobs) == 2  # two agent calls at once, a line each
    assert max(len(lines) for lines in seen) <= 3  # and the attempt landing meanwhile (its gates, tests)
    assert any(what.startswith("[job 2] P1 app/m") for lines in seen for what in lines)
    assert console.slots == {}  # every line gone once its attempt landed


def test_when_the_money_is_spent_the_running_calls_land_and_no_new_one_starts(tmp_path):
    root = _project(tmp_path / "repo", {f"m{i}": ["costly"] for i in range(1, 5)})
    # NOTE: one call spends the whole budget, whichever of the two running ends first (an agent without a
    # pre-call estimate reserves nothing: a call may start while spent < cap, so the cost is one call's)
    state = _run(root, jobs=2, budget_usd=0.5)
    assert state.stop_reason == "budget", state.stop_detail
    assert len(Slow.calls) == 2 and len(branch_commits(root, state)) == 2  # both paid calls landed
    assert state.cost_usd == 1.0
    assert _job_leftovers(root, state) == []


def test_a_job_that_changes_its_workspaces_git_dir_is_put_back_and_rejected(tmp_path):
    root = _project(tmp_path / "repo", {"m1": ["good"], "m2": ["hook"]})
    state = _run(root, jobs=2)
    _, ledger = load_session(root, state.id)
    changed = [e for e in ledger.events(ev.GitDirChanged)]
    assert [e.changed for e in changed] == [["hooks/post-checkout"]]
    subjects = git(root, "log", "--format=%s", f"{state.base_commit}..{state.branch}")
    assert "app/m1.py" in subjects and "app/m2.py" not in subjects  # the hostile fix never landed
    assert _job_leftovers(root, state) == []


def test_a_job_that_reaches_the_users_repository_stops_the_run_with_it_put_back(tmp_path):
    root = _project(tmp_path / "repo", {"m1": ["good"], "m2": ["reach"]})
    config = (root / ".git" / "config").read_text()
    Slow.user_root = root
    state = _run(root, jobs=2)
    assert state.stop_reason == "needs_human", state.stop_detail
    assert ".git/config" in state.stop_detail
    assert (root / ".git" / "config").read_text() == config
    _, ledger = load_session(root, state.id)
    assert [e.changed for e in ledger.events(ev.RepositoryChanged)] == [[".git/config"]]
    assert _job_leftovers(root, state) == []


def _job_leftovers(root: Path, state) -> list[Path]:
    """The job workspaces and their git directories still on disk."""
    wt = Path(state.worktree)
    gitdirs = workspace_git_dir(root, state.id).parent
    return [*wt.parent.glob(f"{wt.name}.job*"), *gitdirs.glob(f"{state.id}.job*")]
