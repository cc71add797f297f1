"""Per-attempt overhead of gitorch's fix loop, against a plain ``git add -A && git commit``.

Builds a repository with tens of thousands of files, then times:

- **plain**: edit one file in the checkout, ``git add -A && git commit -q -m …`` (two git processes,
  as a shell runs them), in the same repository (its own checkout);
- **gitorch, committed attempt**: the loop's attempt pipeline (``gitorch.loop.FixAttempt``, on a session
  made by ``gitorch.loop.create_session``) with an agent that edits one file and a test command that does
  nothing (``true``): sentinels, staging, the diff against the last green commit, unidiff analysis,
  gates, the commit with trailers, the post-commit cleanup of the worktree and the ledger writes. The
  attempt measures the time spent waiting on the agent and the tests itself and reports the rest as
  ``overhead_s``; that is what is compared;
- **gitorch, rolled-back attempt**: the same with an agent whose change a gate rejects (patch kept,
  worktree put back on the green commit and cleaned).

    python benchmarks/attempt_overhead.py [--files 30000] [--rounds 25]

The three are interleaved round by round, so that each sees the same machine load. Prints a table
and the ratio (target: committed-attempt overhead ≤ 1.5 × plain commit).
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


def build_repo(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.name", "bench")
    sh(root, "git", "config", "user.email", "bench@example.com")
    per_dir = 100
    for i in range(files):
        d = root / "src" / f"pkg{i // per_dir // per_dir:02d}" / f"mod{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:06d}.py").write_text(f"VALUE_{i} = {i}\n\n\ndef f_{i}():\n    return VALUE_{i}\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (root / "app.py").write_text("X = 0\n")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "initial")


def plain_commit(root: Path, n: int) -> float:
    (root / "app.py").write_text(f"X = {n + 1}  # {time.time_ns()}\n")
    start = time.perf_counter()
    subprocess.run("git add -A && git commit -q -m edit", shell=True, cwd=root, check=True)
    return time.perf_counter() - start


def interleaved(root: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Per round: a plain commit, a committed gitorch attempt, a rolled-back one, so that every series
    sees the same machine load (the development machine is shared)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dataclasses import replace

    from gitorch import hookimpl
    from gitorch.config import load_config
    from gitorch.loop import FixAttempt, create_session
    from gitorch.loop import events as ev
    from gitorch.loop.lock import RunLock
    from gitorch.loop.session import FixOptions
    from gitorch.models import Agent, Finding, FixResult
    from gitorch.plugin.manager import get_plugins

    class Edit(Agent):
        name = "bench-edit"
        audits = frozenset({"backend"})
        fixes = None

        def fix(self, request):
            target = request.root / "app.py"
            if request.finding.rule_id == "reject":  # a CI file: the test-config gate rejects it
                (request.root / "tox.ini").write_text("[tox]\n")
            else:
                target.write_text(target.read_text() + f"Y_{time.time_ns()} = 1\n")
            return FixResult(status="changed", summary="edit")

    class Plugin:
        @hookimpl
        def gitorch_agents(self):
            return [Edit]

    plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "bench": Plugin()})
    config = load_config(
        root, {"tests.command": "true", "routing.fix": ["bench-edit"], "routing.audit": ["bench-edit"]}
    )
    options = FixOptions(
        dimensions=["backend"], target_score=100, max_iterations=10, budget_usd=5, test_command="true"
    )
    loop = create_session(root, config, plugins, options)
    context, workspace = loop.attempt_context(), loop.workspace()

    def attempt(n: int, rule: str) -> None:
        nonlocal workspace
        f = Finding(
            dimension="backend", severity="P2", description=f"edit {n} {rule}", rule_id=rule, file="app.py"
        )
        outcome = FixAttempt(context, workspace, f, "bench-edit", "enhance").run()
        assert outcome.kind == ("committed" if rule == "good" else "rejected"), outcome
        if outcome.commit:
            workspace = replace(workspace, green=outcome.commit)

    base_times: list[float] = []
    try:
        for rule in ("good", "reject"):  # warm-up: first-time imports and caches
            attempt(-1, rule)
        plain_commit(root, -1)
        for n in range(rounds):
            base_times.append(plain_commit(root, n))
            attempt(n, "good")
            attempt(n, "reject")
    finally:
        RunLock(root).release(loop.state.id)
    ends = list(loop.ledger.events(ev.AttemptEnd))[2:]
    committed = [e.overhead_s for e in ends if e.outcome == "committed"]
    rejected = [e.overhead_s for e in ends if e.outcome == "rejected"]
    return base_times, committed, rejected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitorch-bench-") as tmp:
        os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
        os.environ["GIT_CONFIG_GLOBAL"] = str(Path(tmp) / "gitconfig")
        root = Path(tmp) / "repo"
        t = time.perf_counter()
        build_repo(root, args.files)
        print(f"repository: {args.files} files + 3, built in {time.perf_counter() - t:.1f}s")
        base, committed, rejected = interleaved(root, args.rounds)
    med = statistics.median
    print(f"{'':36} {'median':>9} {'min':>9} {'max':>9}")
    for label, values in (
        ("plain git add -A && git commit", base),
        ("gitorch committed attempt overhead", committed),
        ("gitorch rolled-back attempt overhead", rejected),
    ):
        print(
            f"{label:36} {med(values) * 1000:8.1f}ms {min(values) * 1000:8.1f}ms {max(values) * 1000:8.1f}ms"
        )
    print(f"ratio committed/plain (median): {med(committed) / med(base):.2f}x (target <= 1.5x)")
    print(f"ratio rolled-back/plain (median): {med(rejected) / med(base):.2f}x")


if __name__ == "__main__":
    main()
