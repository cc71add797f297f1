"""`gitorch --help` against the import time of its own dependencies (issue 2: lazy plugins/analyzers).

Run: python benchmarks/startup.py [--runs N]
Prints the median wall time of each command over N runs, and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
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
