"""What the gitorch-version check of third-party plugins costs at start-up (issue 13).

Run: python benchmarks/plugin_version_check.py [--runs N]

Each run is a fresh interpreter (as every `gitorch` command is) that has already imported gitorch's
CLI, and times (1) the check alone for every installed plugin — reading each distribution's
requirements and, for those declaring gitorch, importing ``packaging`` and comparing the range with the
running version — and (2) the whole plugin loading (``get_plugins()``: discovery, the check, the import
of every plugin module). Prints the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, time
import gitorch.cli  # what every command has loaded before plugins
from importlib.metadata import entry_points
from gitorch.plugin.manager import _incompatibility, _is_first_party, get_plugins, gitorch_requirement

third = [ep for ep in entry_points(group="gitorch") if not _is_first_party(ep)]
t0 = time.perf_counter()
declared = [gitorch_requirement(ep) for ep in third]
refused = [_incompatibility(r) for r in declared]
t1 = time.perf_counter()
plugins = get_plugins()
t2 = time.perf_counter()
print(json.dumps({"check_ms": (t1 - t0) * 1000, "load_ms": (t2 - t1) * 1000,
                  "third_party": [ep.name for ep in third], "declared": declared}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples = []
    for _ in range(args.runs):
        done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        samples.append(json.loads(done.stdout))
    first = samples[0]
    print(f"third-party plugins: {', '.join(first['third_party']) or 'none'} (declared: {first['declared']})")
    check = statistics.median(s["check_ms"] for s in samples)
    load = statistics.median(s["load_ms"] for s in samples)
    print(f"version check, all plugins (packaging imported) {check:7.1f} ms  (median of {args.runs})")
    print(f"get_plugins() after it (modules imported)        {load:7.1f} ms")


if __name__ == "__main__":
    main()
