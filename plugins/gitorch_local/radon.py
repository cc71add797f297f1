"""Architecture dimension: radon's cyclomatic complexity and maintainability index, as findings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gitorch.models import Finding, Severity
from gitorch_local.tools import SourceLines, is_excluded, python_files, relative

CC_RANKS = "ABCDEF"
MI_RANKS = "ABC"  # A: 20-100, B: 10-19, C: 0-9


def ignore_arg(excludes: list[str]) -> str:
    """radon ``-i``: directory names it does not descend into (``.*`` keeps its default)."""
    names = [".*", *(e.strip("/").rsplit("/", 1)[-1] for e in excludes)]
    return ",".join(dict.fromkeys(names))


def cc_command(exe: str, path: str, excludes: list[str], min_rank: str) -> list[str]:
    return [exe, "cc", "-j", "-n", min_rank, "-i", ignore_arg(excludes), path]


def mi_command(exe: str, path: str, excludes: list[str], skip: list[str] | None = None) -> list[str]:
    argv = [exe, "mi", "-j", "-i", ignore_arg(excludes)]
    if skip:
        # radon matches normalised paths: "pkg/x.py" from ".", "sub/pkg/x.py" from "sub".
        argv += ["-e", ",".join(p for file in skip for p in (file, f"*/{file}"))]
    return [*argv, path]


# A line of a data table: starts with a literal or bracket, ends with a comma.
_DATA_LINE = re.compile(rb"^[ \t]*[\"'(\[{0-9-].*,[ \t]*$", re.M)


def data_files(
    root: Path, path: str, excludes: list[str], min_ratio: float, min_lines: int = 100
) -> list[str]:
    """Files that are data tables (most lines are literals ending in a comma, e.g. an emoji table).

    NOTE: radon's Halstead metrics (inside ``mi``) blow up on them: rich's emoji table alone took
    100 s and its 23 unicode tables 5 s each, out of a 388 s ``radon mi`` on rich + pytest + bandit;
    a table has no maintainability to measure anyway. The check reads bytes once (0.05 s there).
    """
    heavy = []
    for file in python_files(root, path, excludes):
        try:
            data = (root / file).read_bytes()
        except OSError:
            continue
        lines = data.count(b"\n") + 1
        if lines >= min_lines and len(_DATA_LINE.findall(data)) >= min_ratio * lines:
            heavy.append(file)
    return heavy


def _blocks(items: list[dict[str, Any]]):  # noqa: ANN202
    for block in items:
        # A class's rank averages its methods, which radon lists on their own: skip it.
        if block.get("type") != "class":
            yield block
        yield from _blocks(block.get("closures") or [])


def cc_findings(
    report: dict[str, Any],
    root: Path,
    excludes: list[str],
    min_rank: str,
    severities: dict[str, Severity],
) -> tuple[list[Finding], list[str]]:
    lines = SourceLines(root)
    out: list[Finding] = []
    notes: list[str] = []
    for filename, blocks in sorted(report.items()):
        file = relative(root, filename)
        if is_excluded(file, excludes):
            continue
        if isinstance(blocks, dict):  # {"error": "..."}: radon could not parse the file
            notes.append(f"radon could not analyse {file}: {blocks.get('error', '')}")
            continue
        for block in _blocks(blocks):
            rank = block.get("rank", "A")
            if CC_RANKS.index(rank) < CC_RANKS.index(min_rank):
                continue
            name = block.get("name", "?")
            if block.get("classname"):
                name = f"{block['classname']}.{name}"
            complexity = block.get("complexity")
            out.append(
                Finding(
                    dimension="architecture",
                    severity=severities.get(rank, Severity.P3),
                    rule_id="radon:cc",
                    file=file,
                    line=block.get("lineno"),
                    end_line=block.get("endline"),
                    description=f"{block.get('type', 'function')} {name} has cyclomatic complexity "
                    f"{complexity} (rank {rank})",
                    recommendation="Split it into smaller functions; replace branching with lookup tables "
                    "or polymorphism; cover each branch with a test first.",
                    snippet=lines.line(file, block.get("lineno")),
                    source="radon",
                )
            )
    return out, notes


def mi_findings(
    report: dict[str, Any],
    root: Path,
    excludes: list[str],
    min_rank: str,
    severities: dict[str, Severity],
) -> tuple[list[Finding], list[str]]:
    out: list[Finding] = []
    notes: list[str] = []
    for filename, data in sorted(report.items()):
        file = relative(root, filename)
        if is_excluded(file, excludes):
            continue
        if "error" in data:
            notes.append(f"radon could not analyse {file}: {data['error']}")
            continue
        rank = data.get("rank", "A")
        if MI_RANKS.index(rank) < MI_RANKS.index(min_rank):
            continue
        out.append(
            Finding(
                dimension="architecture",
                severity=severities.get(rank, Severity.P3),
                rule_id="radon:mi",
                file=file,
                description=f"module {file} has a low maintainability index "
                f"({data.get('mi', 0):.0f}, rank {rank})",
                recommendation="Split the module by responsibility and simplify its largest functions.",
                # NOTE: a module-level finding has no line; its file is its evidence (stable fingerprint).
                snippet=f"module {file}",
                source="radon",
            )
        )
    return out, notes
