"""Time added by the run's containment to one agent call and one test run.

Builds a repository (``--files`` tracked files, plus ``--ignored`` ignored ones, as a virtualenv or a
build folder would be) and a run workspace of it, then times, through ``gitorch.process.runner.run_process``:

- **agent call**: a stand-in CLI that edits one file of the workspace (``sh -c 'echo … > app.py'``);
- **test run**: ``python -m pytest -q`` on a one-test suite in the workspace;

each started four ways: on the host as before (**host**); in the **sandbox** (bubblewrap: the root
read-only, a private PID namespace and temporary folder); through the run's launch policy with the
sandbox (**sandbox + watch**: the workspace's git directory, the user's git directory and git
configuration compared before and after); and with bubblewrap unavailable (**fallback + watch**: the
supervisor, and the checkout walked, ignored files included, its untracked/ignored/modified files
copied the first time and again only when they change).

    python benchmarks/sandbox_overhead.py [--files 3000] [--ignored 2000] [--rounds 15]

The four are interleaved round by round, so that each sees the same machine load. Prints the median,
minimum and maximum of each and the added time of each against the host.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sh(cwd: Path, *args: str) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def build_repo(root: Path, files: int, ignored: int) -> None:
    root.mkdir(parents=True)
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.name", "bench")
    sh(root, "git", "config", "user.email", "bench@example.com")
    for i in range(files):
        d = root / "src" / f"mod{i // 100:04d}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:06d}.py").write_text(f"VALUE_{i} = {i}\n")
    for i in range(ignored):
        d = root / ".venv" / f"lib{i // 100:04d}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"dep{i:06d}.py").write_text(f"DEP_{i} = {i}\n" * 20)
    (root / ".gitignore").write_text(".venv/\n__pycache__/\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (root / "app.py").write_text("X = 0\n")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "initial")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--ignored", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from gitorch.process.runner import run_process
    from gitorch.process.sandbox import Bubblewrap, bubblewrap_problem, bwrap_executable
    from gitorch.vcs.containment import Containment
    from gitorch.vcs.workspace import Worktree, workspace_git_dir

    bwrap = bwrap_executable()
    problem = bubblewrap_problem(bwrap)
    if problem:
        print(f"bubblewrap cannot start here: {problem}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="gitorch-sandbox-bench-") as tmp:
        root = Path(tmp) / "repo"
        build_repo(root, args.files, args.ignored)
        gitorch = root / ".git" / "gitorch"
        path, git_dir = gitorch / "worktrees" / "bench", workspace_git_dir(root, "bench")
        tree = Worktree.create(root, path, git_dir, "HEAD", branch="gitorch/bench")
        sandboxed = Containment.prepare("auto", root, Path(tmp) / "store-sandbox")
        sandboxed.use_workspace(tree)
        os.environ["GITORCH_BWRAP"] = str(Path(tmp) / "no" / "bwrap")
        fallback = Containment.prepare("auto", root, Path(tmp) / "store-fallback")
        del os.environ["GITORCH_BWRAP"]
        fallback.use_workspace(tree)
        fallback.prime()
        sandboxed.prime()
        ways = {
            "host": None,
            "sandbox": Bubblewrap(bwrap, read_only=(tree.path / ".git",)),
            "sandbox + watch": sandboxed.policy(),
            "fallback + watch": fallback.policy(),
        }
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        jobs = {
            "agent call": (["sh", "-c", "echo \"X = $$\" > app.py"], "agent"),
            "test run": ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], "tests"),
        }
        times: dict[tuple[str, str], list[float]] = {(j, w): [] for j in jobs for w in ways}
        for _ in range(args.rounds):
            for job, (argv, purpose) in jobs.items():
                for way, policy in ways.items():
                    start = time.perf_counter()
                    done = run_process(
                        argv, cwd=tree.path, env=env, purpose=purpose, policy=policy, timeout=120
                    )
                    times[(job, way)].append(time.perf_counter() - start)
                    assert done.ok, (job, way, done.stdout, done.stderr)
                    tree.restore(tree.head())
        print(f"{args.files:,} tracked files, {args.ignored:,} ignored files, {args.rounds} rounds; "
              f"load average {os.getloadavg()[0]:.1f}")
        print()
        print("| | way | median | min | max | added (median) |")
        print("| --- | --- | --- | --- | --- | --- |")
        for job in jobs:
            host = statistics.median(times[(job, "host")])
            for way in ways:
                series = times[(job, way)]
                med = statistics.median(series)
                added = "—" if way == "host" else f"{(med - host) * 1000:+.0f} ms"
                print(f"| {job} | {way} | {med * 1000:.0f} ms | {min(series) * 1000:.0f} ms | "
                      f"{max(series) * 1000:.0f} ms | {added} |")
        sandboxed.close()
        fallback.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
