"""bandit and radon in-process (their Python APIs) against a subprocess, in a process that has gitorch
loaded, as the local agent would run them (issue 14: "measure both ways, write down the choice").

Each way runs in a fresh interpreter that first imports gitorch and its plugins (what `gitorch audit` has
loaded when the agent starts), then times only the analyzer: the subprocess (a second Python start-up,
the analyzer's imports, the scan) or the in-process call (the analyzer's imports, the scan). Alternating,
medians.

Run: python benchmarks/analyzers_in_process.py [--runs N]   (on vulpy, from the shared corpus)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_vs_bandit import make_vulpy  # noqa: E402

PRELUDE = """
import sys, time
from gitorch.plugin.manager import get_plugins
get_plugins().agents()
start = time.perf_counter()
"""
WAYS = {
    "bandit subprocess": """
import subprocess
subprocess.run([sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q"], capture_output=True)
""",
    "bandit in-process": """
import io, logging
logging.getLogger("bandit").addHandler(logging.NullHandler())
logging.getLogger("bandit").propagate = False
from bandit.core import config, manager, extension_loader
from bandit.formatters import json as bandit_json
conf = config.BanditConfig()
profile = {"include": set(), "exclude": set()}
extension_loader.MANAGER.validate_profile(profile)
mgr = manager.BanditManager(conf, "file", False, profile=profile, quiet=True)
mgr.discover_files(["."], True, "")
mgr.run_tests()
out = io.StringIO()
out.name = "<memory>"
bandit_json.report(mgr, out, "LOW", "LOW", -1)
""",
    "radon cc subprocess": """
import subprocess
subprocess.run([sys.executable, "-m", "radon", "cc", "-j", "."], capture_output=True)
""",
    "radon cc in-process": """
from radon.cli.harvest import CCHarvester
from radon.cli import Config
from radon.complexity import SCORE
cfg = Config(exclude=None, ignore=None, order=SCORE, no_assert=False, show_closures=False, min="A",
             max="F", show_complexity=False, average=False, total_average=False, include_ipynb=False,
             ipynb_cells=False)
CCHarvester(["."], cfg).as_json()
""",
}
EPILOGUE = """
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_vulpy(Path(tmp))
        samples: dict[str, list[float]] = {way: [] for way in WAYS}
        for _ in range(args.runs):
            for way, code in WAYS.items():
                done = subprocess.run([sys.executable, "-c", PRELUDE + code + EPILOGUE], cwd=root,
                                      capture_output=True, text=True, check=True)
                samples[way].append(float(done.stdout.strip().splitlines()[-1]))
    for way, values in samples.items():
        print(f"{way:22} {statistics.median(values) * 1000:7.0f} ms  (median of {args.runs})")


if __name__ == "__main__":
    main()
