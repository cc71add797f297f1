"""How long the console of `gitorch fix` stays still on a terminal (issue 12: "never silent for more
than about 2 s"), on a real application.

Run: python benchmarks/console_gaps.py [--app python-insecure-app] [--no-progress]

Unpacks the application from ../shared/corpus/repos into a temporary git repository, runs
`gitorch fix --dim security --dim backend --yes` under a pseudo-terminal (120×40), and records when the
terminal received output. Prints the run's duration, its exit code, the number of screen writes, the
longest gap between two writes and the 99th percentile of the gaps. python-insecure-app's own tests need
fastapi, which is not installed here, so the test command is `python -m compileall -q app` (the fixes
must still compile); `--test-cmd` overrides it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "repos"
sys.path.insert(0, str(HERE.parent))

from gitorch.testing.terminal import run_in_terminal  # noqa: E402


def unpack(app: str, where: Path) -> Path:
    with tarfile.open(CORPUS / f"{app}.tar.gz") as archive:
        archive.extractall(where, filter="data")
    root = next(p for p in where.iterdir() if p.is_dir())
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", app]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="python-insecure-app")
    parser.add_argument("--test-cmd", default=f"{sys.executable} -m compileall -q app")
    parser.add_argument("--no-progress", action="store_true", help="measure the plain output instead")
    args = parser.parse_args()
    gitorch = str(Path(sys.executable).parent / "gitorch")
    with tempfile.TemporaryDirectory(prefix="gitorch-console-") as tmp:
        root = unpack(args.app, Path(tmp))
        argv = [gitorch, "fix", "--dim", "security", "--dim", "backend", "--yes", "--test-cmd", args.test_cmd]
        if args.no_progress:
            argv.append("--no-progress")
        run = run_in_terminal(argv, cwd=root, timeout=1800)
    gaps = sorted(run.gaps())
    p99 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))] if gaps else 0.0
    print(f"app: {args.app}; {'plain' if args.no_progress else 'live'} console")
    print(f"run: {run.duration_s:.1f} s, exit {run.exit_code}, {len(run.chunks)} screen writes")
    print(f"longest gap between writes: {run.longest_gap():.2f} s; p99 {p99:.2f} s; "
          f"median {statistics.median(gaps) if gaps else 0:.2f} s")


if __name__ == "__main__":
    main()
