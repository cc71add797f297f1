"""`gitorch audit --dim security` against running bandit directly, side by side in one run (issue 2).

The project audited is a real one: the source of an installed package (default: `rich`, ~100 files),
copied into a throwaway git repository. Runs alternate between the two commands so that machine
noise hits both alike. Target: gitorch costs at most 10 % more wall time than bandit.

Run: python benchmarks/audit_vs_bandit.py [--package NAME] [--runs N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_project(package: str, target: Path) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {package!r} is not installed")
    source = Path(list(spec.submodule_search_locations)[0])
    shutil.copytree(source, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "import"]):
        subprocess.run(argv, cwd=target, check=True, env=env)
    return target


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed ({done.returncode}): {done.stderr[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="rich")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    bandit = [str(bindir / "bandit"), "-r", ".", "-f", "json", "-q"]
    gitorch = [str(bindir / "gitorch"), "audit", "--dim", "security", "--agent", "local", "--format", "json"]
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(args.package, Path(tmp))
        files = sum(1 for _ in root.rglob("*.py"))
        timed(bandit, root)  # warm the file cache for both
        b_times, g_times = [], []
        for _ in range(args.runs):
            b_times.append(timed(bandit, root))
            g_times.append(timed(gitorch, root))
    b, g = statistics.median(b_times), statistics.median(g_times)
    print(f"project: {args.package} ({files} Python files), {args.runs} alternating runs, medians")
    print(f"bandit -r . -f json          {b:7.2f} s")
    print(f"gitorch audit --dim security {g:7.2f} s")
    print(f"overhead                     {100 * (g - b) / b:+6.1f} %")


if __name__ == "__main__":
    main()
