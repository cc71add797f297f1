"""`gitorch audit --dim security` against running bandit directly, side by side in one run (issues 2, 14).

The project audited is a real one: vulpy (``--vulpy``, from ``../shared/corpus/repos/vulpy.tar.gz``) or the
source of an installed package (``--package rich``, ~100 files), in a throwaway git repository. Runs
alternate between the commands so that machine noise hits all alike; medians are printed.

Rows (issue 14):

- cold: ``gitorch audit --dim security --format json --no-cache`` / ``bandit -r . -f json`` (≤ 1.10× on
  vulpy, ≤ 1.05× on rich);
- cached: the same command without ``--no-cache`` on the unchanged tree / the cold gitorch run (≤ 0.05×),
  as a whole command and in-process (``run_audit``, what the fix loop's re-audit pays);
- ``--all``: ``gitorch audit --all --no-cache`` / the sum of each dimension's own cold run (≈ the slowest).

Run: python benchmarks/audit_vs_bandit.py [--vulpy | --package NAME] [--runs N] [--no-all]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VULPY = HERE.parent.parent / "shared" / "corpus" / "repos" / "vulpy.tar.gz"
DIMENSIONS = ("architecture", "backend", "security", "tests")  # what --all audits with the local agent
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _commit(target: Path) -> Path:
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "import"]):
        subprocess.run(argv, cwd=target, check=True, env=GIT_ENV)
    return target


def make_project(package: str, target: Path) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {package!r} is not installed")
    source = Path(list(spec.submodule_search_locations)[0])
    shutil.copytree(source, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    return _commit(target)


def make_vulpy(target: Path, archive: Path = VULPY) -> Path:
    if not archive.is_file():
        sys.exit(f"{archive} not found")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    [root] = [p for p in target.iterdir() if p.is_dir()]
    return _commit(root)


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed ({done.returncode}): {done.stderr[:300]}")
    return elapsed


def in_process_hit(root: Path, runs: int) -> tuple[float, float]:
    """(cold, cached) medians of ``run_audit`` in one process: what the loop's re-audit pays."""
    sys.path.insert(0, str(HERE.parent))
    from gitorch.audit.run import audit_context, run_audit
    from gitorch.config import load_config
    from gitorch.plugin.manager import get_plugins

    plugins, config = get_plugins(), load_config(root)
    context = audit_context(root, config, plugins)
    run_audit(root, "security", config, plugins, agent="local", context=context)  # the tree as it is now
    cold, hot = [], []
    for _ in range(runs):
        start = time.perf_counter()
        run_audit(root, "security", config, plugins, agent="local", context=context, cache=False)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert run_audit(root, "security", config, plugins, agent="local", context=context).cached
        hot.append(time.perf_counter() - start)
    return statistics.median(cold), statistics.median(hot)


def measure(root: Path, runs: int, with_all: bool) -> dict[str, float]:
    bindir = Path(sys.executable).parent
    bandit = [str(bindir / "bandit"), "-r", ".", "-f", "json", "-q"]
    gitorch = [str(bindir / "gitorch"), "audit", "--agent", "local", "--format", "json"]
    cold = [*gitorch, "--dim", "security", "--no-cache"]
    cached = [*gitorch, "--dim", "security"]
    dims = list(DIMENSIONS)
    timed(bandit, root)  # warm the file cache for all
    timed(cached, root)  # and fill the audit cache
    series: dict[str, list[float]] = {k: [] for k in ("bandit", "cold", "cached", "all", *dims)}
    for _ in range(runs):
        series["bandit"].append(timed(bandit, root))
        series["cold"].append(timed(cold, root))
        series["cached"].append(timed(cached, root))
        if with_all:
            series["all"].append(timed([*gitorch, "--all", "--no-cache"], root))
            for dim in dims:
                series[dim].append(timed([*gitorch, "--dim", dim, "--no-cache"], root))
    return {k: statistics.median(v) for k, v in series.items() if v}


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--package", default="rich")
    parser.add_argument("--vulpy", action="store_true", help="audit vulpy (the shared corpus) instead")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-all", action="store_true", help="skip the audit --all row")
    args = parser.parse_args()
    os.environ.pop("GITORCH_NO_CACHE", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_vulpy(Path(tmp)) if args.vulpy else make_project(args.package, Path(tmp))
        name = "vulpy" if args.vulpy else args.package
        files = sum(1 for _ in root.rglob("*.py"))
        m = measure(root, args.runs, not args.no_all)
        cold_in, hot_in = in_process_hit(root, args.runs)
    print(f"project: {name} ({files} Python files), {args.runs} alternating runs, medians, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"bandit -r . -f json                         {m['bandit']:7.2f} s")
    print(f"gitorch audit --dim security --no-cache     {m['cold']:7.2f} s   "
          f"{m['cold'] / m['bandit']:.3f}x bandit")
    print(f"gitorch audit --dim security (cached)       {m['cached']:7.2f} s   "
          f"{m['cached'] / m['cold']:.3f}x cold")
    print(f"run_audit in-process: cold {cold_in * 1000:.0f} ms, cached {hot_in * 1000:.1f} ms   "
          f"{hot_in / cold_in:.3f}x cold")
    if "all" in m:
        parts = {d: m[d] for d in DIMENSIONS}
        total = sum(parts.values())
        listed = ", ".join(f"{d} {t:.2f} s" for d, t in parts.items())
        print(f"gitorch audit --all --no-cache               {m['all']:7.2f} s   ({listed}; "
              f"sum {total:.2f} s)")
        print(f"  --all / sum {m['all'] / total:.2f}x, --all / slowest {m['all'] / max(parts.values()):.2f}x")


if __name__ == "__main__":
    main()
