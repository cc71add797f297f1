"""A ``gitorch fix --jobs 4`` run killed with SIGKILL mid-way resumes to the result of an uninterrupted run.

The real command line in subprocesses: the embedded agent audits (ruff: an unused import in each of
eight modules), a stand-in AI CLI driven by the ``command`` agent fixes, several calls at once. One of
them hangs; gitorch is SIGKILLed while it and others run. The hanging agent process outlives gitorch
(it leads its own process group); ``gitorch resume`` must kill it, remove the job worktrees, pick up
the queue and end where an uninterrupted run ends.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loophelpers import branch_commits, fingerprint, git

from gitorch.loop.session import load_session
from gitorch.testing.kit import GitRepo
from gitorch.vcs.workspace import workspace_git_dir

MODULES = 8
TEST_CMD = f"{sys.executable} -c 'import app'"


def line_agent() -> Path:
    return Path(__file__).resolve().parents[2] / "gitorch" / "testing" / "fakes" / "line_agent.py"


def make_repo(path: Path, writable: Path | None = None) -> Path:
    files = {"README.md": "# project\n", ".gitignore": "*.log\n", "app/__init__.py": ""}
    for i in range(1, MODULES + 1):
        files[f"app/m{i}.py"] = f"import os\n\n\ndef f{i}():\n    return {i}\n"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(line_agent()))} {{prompt_file}} {{workdir}}"
    files[".gitorch.toml"] = (
        f'default_dimensions = ["backend"]\njobs = 4\n\n[tests]\ncommand = "{TEST_CMD}"\n\n'
        f"[agents.command]\ncommand = '{command}'\ncost_per_call_usd = 0.01\n"
    )
    if writable is not None:  # where the agent tells the test it started (writable in the sandbox)
        files[".gitorch.toml"] += f"writable = ['{writable}/']\n"
    return GitRepo.create(path, files).path


def gitorch(root: Path, *args: str, env: dict | None = None, wait: bool = True):
    argv = [sys.executable, "-m", "gitorch", *args, "--repo", str(root)]
    full = {**os.environ, **(env or {})}
    if not wait:
        return subprocess.Popen(
            argv, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
    return subprocess.run(argv, env=full, capture_output=True, text=True, timeout=600)


FIX = ("fix", "--agent", "command", "--yes", "--budget", "1", "--max-iterations", "3")


def agents_of(root: Path) -> list[int]:
    """The host pids of the fake agents working for the run in ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(b"line_agent.py") for a in argv) and str(root).encode() in b" ".join(argv):
                found.append(int(entry.name))
    return [pid for pid in found if alive(pid)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_sigkill_mid_way_with_jobs_4_resumes_to_the_uninterrupted_result(tmp_path):
    signals = tmp_path / "signals"
    signals.mkdir()
    calm = make_repo(tmp_path / "calm", writable=signals)  # the same configuration as the killed run's
    done = gitorch(calm, *FIX)
    assert done.returncode == 0, done.stdout + done.stderr
    calm_state, _ = load_session(calm)
    assert len(branch_commits(calm, calm_state)) == MODULES

    root = make_repo(tmp_path / "killed", writable=signals)
    dirty_up_safe(root)
    before = fingerprint(root)
    signal_file = signals / "hanging-agent.pid"
    env = {"LINE_AGENT_SLOW": "app/m3.py", "LINE_AGENT_SIGNAL": str(signal_file)}
    proc = gitorch(root, *FIX, env=env, wait=False)
    deadline = time.monotonic() + 300
    while not signal_file.exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the hanging call never started"
        time.sleep(0.05)
    time.sleep(1.5)  # the other calls run and land meanwhile
    os.killpg(proc.pid, signal.SIGKILL)  # gitorch only: the agents lead process groups of their own
    proc.wait()
    # NOTE: in bubblewrap the agent sees its own pid namespace (the pid it wrote is not the host's) and the
    # sandbox dies with gitorch (--die-with-parent); on the host (the fallback) it outlives gitorch
    hanging = agents_of(root)
    state, ledger = load_session(root)
    assert state.status == "running"  # as SIGKILL left it: resumable
    assert list((ledger.dir / "running").iterdir())  # the running calls' process groups, for resume to kill
    assert list(Path(state.worktree).parent.glob(f"{Path(state.worktree).name}.job*"))
    assert list(workspace_git_dir(root, state.id).parent.glob(f"{state.id}.job*.git"))  # their git dirs

    resumed = gitorch(root, "resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not [pid for pid in hanging if alive(pid)]  # resume killed what the dead run left running
    assert agents_of(root) == []
    state, ledger = load_session(root, state.id)
    assert state.stop_reason == "target"
    assert not list(Path(state.worktree).parent.glob(f"{Path(state.worktree).name}.job*"))
    assert not list(workspace_git_dir(root, state.id).parent.glob(f"{state.id}.job*"))
    assert "-job" not in git(root, "branch", "--list", "--format=%(refname)")
    commits = branch_commits(root, state)
    assert len(commits) == MODULES  # one commit per finding, none twice
    assert (
        git(root, "rev-list", "--first-parent", f"{state.base_commit}..{state.branch}").split()
        == commits[::-1]
    )
    tree = "{}^{{tree}}"
    assert git(root, "rev-parse", tree.format(state.branch)) == git(
        calm, "rev-parse", tree.format(calm_state.branch)
    )
    for commit in commits:  # every commit green
        where = tmp_path / f"check-{commit[:8]}"
        git(root, "worktree", "add", "-q", "--detach", str(where), commit)
        assert subprocess.run(shlex.split(TEST_CMD), cwd=where).returncode == 0
        git(root, "worktree", "remove", "--force", str(where))
    assert fingerprint(root) == before


def dirty_up_safe(root: Path) -> None:
    """The user's own uncommitted state (the test command imports app, untouched by it)."""
    dirty_up_files = {"notes.txt": "untracked\n", "debug.log": "ignored\n"}
    for rel, text in dirty_up_files.items():
        (root / rel).write_text(text)
    (root / "README.md").write_text("# project\nunstaged edit\n")
