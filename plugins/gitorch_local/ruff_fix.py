"""Backend fixes: ruff's safe fix for one diagnostic, applied from ruff's own JSON edits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitorch.models import Finding, Severity
from gitorch_local import ruff
from gitorch_local.tools import is_excluded, relative

# NOTE: trivial, behaviour-free style fixes: a reviewer wants one commit per rule, not one per file.
GROUPED_RULES = ("I001", "F401", "F541")
GROUP_SOURCE = "ruff --fix"

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Outcome:
    status: str  # changed | cannot_fix | unchanged
    summary: str


def _norm(text: str | None) -> str:
    return _SPACE.sub(" ", (text or "").strip())


def pick(diagnostics: list[dict[str, Any]], finding: Finding, source: str) -> dict[str, Any] | None:
    """The diagnostic that is this finding: same rule, same source line text (lines may have moved),
    nearest to the finding's line; without a snippet, the diagnostic on the finding's line."""
    code = (finding.rule_id or "").removeprefix("ruff:")
    lines = source.splitlines()
    same_rule = [d for d in diagnostics if (d.get("code") or "syntax-error") == code]

    def text_at(d: dict[str, Any]) -> str:
        row = (d.get("location") or {}).get("row") or 0
        return _norm(lines[row - 1]) if 0 < row <= len(lines) else ""

    def distance(d: dict[str, Any]) -> int:
        return abs(((d.get("location") or {}).get("row") or 0) - (finding.line or 0))

    if finding.snippet:
        candidates = [d for d in same_rule if text_at(d) == _norm(finding.snippet)]
    else:
        candidates = [d for d in same_rule if (d.get("location") or {}).get("row") == finding.line]
    return min(candidates, key=distance) if candidates else None


def _offsets(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _position(starts: list[int], location: dict[str, int]) -> int:
    row, column = location["row"], location["column"]
    if row - 1 >= len(starts):
        return starts[-1]
    return min(starts[row - 1] + column - 1, starts[-1])


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply ruff's edits (1-based rows and character columns) to ``text``, last edit first."""
    starts = _offsets(text)
    spans = sorted(
        ((_position(starts, e["location"]), _position(starts, e["end_location"]), e.get("content") or "")
         for e in edits),
        reverse=True,
    )
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def fix_one(
    root: Path, finding: Finding, diagnostics: list[dict[str, Any]], *, unsafe: bool = False
) -> Outcome:
    """Apply the fix of the diagnostic matching ``finding`` in ``diagnostics`` (one file's): a safe fix,
    or with ``unsafe`` also one ruff marks unsafe (the caller checks the result and undoes it if needed);
    never a display-only one."""
    path = root / (finding.file or "")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            source = handle.read()
    except OSError as exc:
        return Outcome("cannot_fix", f"cannot read {finding.file}: {exc.strerror}")
    diagnostic = pick(diagnostics, finding, source)
    if diagnostic is None:
        return Outcome("unchanged", f"ruff no longer reports {finding.rule_id} at {finding.location}")
    if diagnostic.get("cell") is not None:
        return Outcome("cannot_fix", "notebook cells are left for an AI agent")
    fix = diagnostic.get("fix") or {}
    row = (diagnostic.get("location") or {}).get("row")
    where = f"{finding.file}:{row}"
    if not fix:
        return Outcome("cannot_fix", f"ruff has no automatic fix for {finding.rule_id} at {where}; "
                                     "left for an AI agent")
    applicability = fix.get("applicability")
    if applicability != "safe" and not (unsafe and applicability == "unsafe"):
        return Outcome("cannot_fix", f"ruff's fix for {finding.rule_id} at {where} is "
                                     f"{applicability}, not safe; left for an AI agent")
    fixed = apply_edits(source, fix.get("edits") or [])
    if fixed == source:
        return Outcome("unchanged", f"ruff's fix for {finding.rule_id} at {where} changes nothing")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(fixed)
    kind = "safe fix" if applicability == "safe" else "unsafe fix, checked"
    return Outcome("changed", f"ruff: {fix.get('message') or kind} ({finding.rule_id} at {where}; {kind})")


def _safe(diagnostic: dict[str, Any]) -> bool:
    return (diagnostic.get("fix") or {}).get("applicability") == "safe"


def fixable_files(diagnostics: list[dict[str, Any]], root: Path, code: str) -> list[str]:
    """The files with a safe fix of rule ``code`` among ``diagnostics`` (POSIX, relative to ``root``)."""
    return sorted({relative(root, d["filename"]) for d in diagnostics
                   if d.get("code") == code and _safe(d) and d.get("cell") is None})


def group_findings(diagnostics: list[dict[str, Any]], root: Path, excludes: list[str], *,
                   info_codes: set[str | None]) -> list[Finding]:
    """One finding per trivial rule that has safe fixes (``GROUPED_RULES``, and ``info_codes``, the extra
    rules offered beyond the audit, at P4): the loop fixes each group in one attempt and one commit."""
    by_code: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for item in diagnostics:
        code = item.get("code") or ""
        if not _safe(item) or item.get("cell") is not None:
            continue
        if code not in GROUPED_RULES and code not in info_codes:
            continue
        file = relative(root, item["filename"])
        if is_excluded(file, excludes):
            continue
        by_code.setdefault(code, set()).add(file)
        counts[code] = counts.get(code, 0) + 1
        names[code] = item.get("name") or code
    out = []
    for code, files in sorted(by_code.items()):
        listed = ", ".join(sorted(files)[:8]) + (" …" if len(files) > 8 else "")
        out.append(Finding(
            dimension="backend",
            severity=Severity.P4 if code in info_codes else ruff.severity_of(code),
            rule_id=f"ruff:{code}",
            description=f"{counts[code]} safe {code} ({names[code]}) fix(es) in {len(files)} file(s): "
                        f"{listed}",
            recommendation=f"Apply ruff's safe {code} fixes in one commit (deterministic, offline).",
            snippet=f"{code} in {len(files)} file(s)",
            source=GROUP_SOURCE,
        ))
    return out


def is_group(finding: Finding) -> bool:
    """A finding that stands for every safe fix of one rule (see :func:`group_findings`)."""
    return finding.source == GROUP_SOURCE and finding.file is None


def group_members(group: Finding, findings: list[Finding]) -> list[Finding]:
    """The audit findings a rule group closes (same dimension and rule): for the commit that names them."""
    return [f for f in findings if f.dimension == group.dimension and f.rule_id == group.rule_id
            and not is_group(f)]
