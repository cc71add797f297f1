"""How ``gitorch parse`` scales with the size of the report: time and peak memory per size.

Usage::

    python benchmarks/parser_scale.py [--sizes 1,5,20,50] [--cli] [--json]

Each report is built from the layouts of our own test reports (``tests/data/reports/*.md``: tables,
severity headings, fields, bullets, bold lead-ins, ten languages), repeated until it reaches the
size, each copy with its own file names and IDs so that no two copies restate each other. Each size
is parsed in a fresh Python process, which reports the parse time, the peak resident memory
(``ru_maxrss``) and the peak over its own baseline (the process after imports, a warm-up parse and
reading the report). The engine is measured without the parser's size limit. With ``--cli`` the
whole ``gitorch parse REPORT --json`` command is timed instead: a report over the size limit
(4 MiB by default) shows the refusal (exit code 5, time, nothing on stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ROOT / "tests" / "data" / "reports"
MB = 1_000_000

_CHILD = r"""
import json, resource, sys, time
from gitorch_markdown.parser import MarkdownParser
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
MarkdownParser().parse("# warm-up\n\n## High\n\n- [P1] a (a.py:1)\n")
text = open(sys.argv[1], encoding="utf-8").read()
base = rss()
parser = MarkdownParser()
parser.max_bytes = None  # measure the engine itself, past the size limit too
start = time.perf_counter()
result = parser.parse(text)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak": rss(), "base": base, "findings": len(result.findings),
                  "warnings": result.warnings}))
"""


def build_report(size: int) -> str:
    """A report of about ``size`` bytes (UTF-8) made of the test layouts, each copy made unique."""
    layouts = [p.read_text(encoding="utf-8") for p in sorted(LAYOUTS.glob("*.md"))]
    parts: list[str] = ["# Consolidated audit\n\n**Score:** 70/100\n\n"]
    total = len(parts[0].encode())
    copy = 0
    while total < size:
        for layout in layouts:
            copy += 1
            text = re.sub(r"(\w+)\.(py|ts|tsx|js|go|java|xml)\b", rf"\1_{copy}.\2", layout)
            text = re.sub(r"\b(?!P[0-4]\b)([A-Z]{1,4}-?\d{1,3})\b", rf"\1x{copy}", text)
            # every copy's own title becomes a section of the consolidated report
            text = re.sub(r"^# ", "## ", text, flags=re.MULTILINE, count=1)
            parts.append(text + "\n\n")
            total += len(parts[-1].encode())
            if total >= size:
                break
    return "".join(parts)


def measure(path: Path, cli: bool) -> dict:
    if cli:
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "gitorch", "parse", str(path), "--json"],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "exit_code": out.returncode,
            "stderr": out.stderr.strip().splitlines()[:1],
            "stdout_bytes": len(out.stdout),
        }
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20,50", help="report sizes in MB (10^6 bytes)")
    parser.add_argument("--cli", action="store_true", help="time `gitorch parse REPORT --json`")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size_mb in (float(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"report-{size_mb:g}MB.md"
            path.write_text(build_report(int(size_mb * MB)), encoding="utf-8")
            size = path.stat().st_size
            row = {"size_mb": round(size / MB, 2), **measure(path, args.cli)}
            rows.append(row)
            if not args.json:
                print(_line(row, size), flush=True)
            os.unlink(path)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


def _line(row: dict, size: int) -> str:
    if "error" in row:
        return f"{row['size_mb']:>7.2f} MB  error: {row['error']}"
    if "exit_code" in row:
        return (
            f"{row['size_mb']:>7.2f} MB  {row['seconds']:7.2f} s  exit {row['exit_code']}  "
            f"{row['stdout_bytes']} bytes out  {' '.join(row['stderr'])}"
        )
    over = row["peak"] - row["base"]
    return (
        f"{row['size_mb']:>7.2f} MB  {row['seconds']:7.2f} s  {row['seconds'] / (size / MB):5.2f} s/MB  "
        f"peak {row['peak'] / MB:7.1f} MB  over baseline {over / MB:7.1f} MB ({over / size:4.1f}x size)  "
        f"{row['findings']} findings"
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
