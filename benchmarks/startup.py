"""`gitorch --help` against the import time of its own dependencies (issue 2: lazy plugins/analyzers), and
against a peer: `llm --help` (llm 0.36, also a pluggy + click CLI), side by side (issue 14: ≤ 0.25×).

Run: python benchmarks/startup.py [--runs N] [--llm-venv DIR]
Prints the median wall time of each command over N runs, and the ratios. ``--llm-venv`` is a throwaway
virtual environment for llm (created, and llm==0.36 installed from PyPI, when it does not exist yet).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEPENDENCIES = "import typer, pluggy, pydantic, rich"
# `import pydantic` is lazy: the model machinery loads with the first BaseModel. gitorch defines models.
DEPENDENCIES_LOADED = "import typer, pluggy, rich; from pydantic import BaseModel, ConfigDict, Field"
# The same dependencies plus typer rendering the help of an app with as many commands as gitorch's:
# what any typer CLI pays for `--help`, before a line of gitorch runs.
BARE_TYPER_HELP = """
import sys, typer, pluggy, pydantic, rich
app = typer.Typer()
for i in range(18):
    app.command(f"command{i}", help=f"Command number {i}, with a one-line description.")(lambda: None)
sys.argv = ["bare", "--help"]
app()
"""


def median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def llm_executable(venv: Path) -> str:
    exe = venv / "bin" / "llm"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "llm==0.36"], check=True)
    return str(exe)


def side_by_side(argvs: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command, the commands alternating run by run."""
    samples: dict[str, list[float]] = {name: [] for name in argvs}
    for argv in argvs.values():  # warm-up: bytecode and file caches
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(runs):
        for name, argv in argvs.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def imported_modules(argv: list[str]) -> tuple[int, float]:
    """(modules imported, their cumulative import time in ms) by ``python -X importtime``."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True)
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
    rows = [row for row in rows if row[1].strip().isdigit()]  # not the header line
    total = sum(int(row[1]) for row in rows if not row[2].startswith("  "))  # top-level: cumulative
    return len(rows), total / 1000


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--llm-venv", type=Path, default=Path(tempfile.gettempdir()) / "gitorch-bench-llm")
    parser.add_argument("--peer-only", action="store_true", help="only the gitorch/llm rows")
    args = parser.parse_args()
    gitorch_exe = shutil.which("gitorch") or sys.exit("gitorch is not on PATH")
    peer = side_by_side(
        {"gitorch --help": [gitorch_exe, "--help"], "llm --help": [llm_executable(args.llm_venv), "--help"],
         "gitorch --version": [gitorch_exe, "--version"]},
        args.runs,
    )
    count, ms = imported_modules(["-m", "gitorch", "--help"])
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} alternating runs, medians")
    for name, seconds in peer.items():
        print(f"{name:30} {seconds * 1000:7.1f} ms")
    ratio = peer["gitorch --help"] / peer["llm --help"]
    print(f"gitorch --help / llm --help    {ratio:.3f}x (target <= 0.25x)")
    print(f"python -X importtime -m gitorch --help: {count} modules, {ms:.0f} ms of imports")
    if args.peer_only:
        return
    gitorch = shutil.which("gitorch") or sys.exit("gitorch is not on PATH")
    python = [sys.executable]
    baseline = median_seconds([*python, "-c", "pass"], args.runs)
    deps = median_seconds([*python, "-c", DEPENDENCIES], args.runs)
    loaded = median_seconds([*python, "-c", DEPENDENCIES_LOADED], args.runs)
    cli = median_seconds([*python, "-c", "import gitorch.cli"], args.runs)
    bare = median_seconds([*python, "-c", BARE_TYPER_HELP], args.runs)
    helps = median_seconds([gitorch, "--help"], args.runs)
    print(f"python -c pass                 {baseline * 1000:7.1f} ms")
    print(f"import dependencies            {deps * 1000:7.1f} ms   ({DEPENDENCIES})")
    print(f"  … with pydantic's BaseModel  {loaded * 1000:7.1f} ms")
    print(f"import gitorch.cli             {cli * 1000:7.1f} ms   (gitorch's modules and models, no plugin)")
    print(f"bare typer app --help          {bare * 1000:7.1f} ms   (same imports, 18 commands)")
    print(f"gitorch --help                 {helps * 1000:7.1f} ms")
    extra = (helps - bare) * 1000
    print(f"gitorch --help − bare typer    {extra:7.1f} ms   (plugins, models, gitorch's modules)")


if __name__ == "__main__":
    main()
