"""Re-auditing an attempt's touched files: does the change still parse, did it add a finding in the
lines it touched, is the finding it was meant to fix gone?

The fix loop calls :func:`recheck_attempt` after an agent's edit and before the commit (any agent: the
check runs the local analyzers on the touched files only, a second or so). A file that no longer
parses, or a new finding at the same or a higher severity than the one being fixed in the touched lines,
rejects the attempt; the attempt counts as the fix of its finding only when that finding is gone.

``touched_lines`` (from a patch) and ``in_lines`` are the core's (:mod:`gitorch.vcs.diff`,
:mod:`gitorch.plugin.checks`), re-exported here.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitorch.models import AuditResult, Finding, Severity
from gitorch.plugin.checks import base_fingerprint, in_lines, new_findings
from gitorch.vcs.diff import touched_lines
from gitorch.vcs.git import Git, GitError
from gitorch_local import bandit, ruff
from gitorch_local.tools import find_tool, parse_json, run, tool_env

RECHECKED_DIMENSIONS = ("security", "backend")


def parse_failure(root: Path, file: str, source: bytes | None = None) -> str | None:
    """Why ``file`` (or ``source``) does not parse as Python (``"line N: message"``), or None."""
    if source is None:
        try:
            source = (root / file).read_bytes()
        except OSError as exc:
            return f"cannot read it: {exc.strerror}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not a failure
            ast.parse(source, filename=file)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return str(exc)
    return None


def parse_failures(root: Path, files: Collection[str], base: str | None = "HEAD") -> dict[str, str]:
    """``{file: reason}`` for the Python files among ``files`` that exist and no longer parse.

    With ``base`` (a commit of ``root``'s repository), a file that did not parse there either (Python
    2, or syntax newer than the Python gitorch runs on) is not counted: the change did not break it.
    """
    out: dict[str, str] = {}
    for file in sorted(files):
        if file.endswith(".py") and (root / file).is_file():
            reason = parse_failure(root, file)
            if reason and not (base and _failed_at(root, base, file)):
                out[file] = reason
    return out


def _failed_at(root: Path, base: str, file: str) -> bool:
    try:
        old = Git(root).run("show", f"{base}:{file}", text=False)
    except GitError:
        return False  # a new file, or not a repository: judge the file on its own
    return parse_failure(root, file, old) is not None


def reaudit(
    root: Path,
    files: Collection[str],
    *,
    dimensions: Collection[str] = RECHECKED_DIMENSIONS,
    ruff_select: Sequence[str] = tuple(ruff.CURATED_SELECT),
    ruff_ignore: Sequence[str] = tuple(ruff.CURATED_IGNORE),
    timeout: float = 300,
) -> list[Finding]:
    """The security (bandit) and backend (ruff) findings of ``files`` only, as the audit reports them
    (same configuration, same severities, same fingerprints). One process per analyzer."""
    targets = sorted(f for f in files if f.endswith(".py") and (root / f).is_file())
    if not targets:
        return []
    found: list[Finding] = []
    if "security" in dimensions:
        argv = [find_tool("bandit"), "-f", "json", "-q", *bandit.config_args(root), *targets]
        done = run(argv, root, timeout=timeout, env=tool_env())
        found += bandit.findings(parse_json(done, "bandit"), root, [])[0]
    if "backend" in dimensions:
        rules = ruff.rule_args(root, list(ruff_select), list(ruff_ignore))
        done = run(ruff.command(find_tool("ruff"), root, targets, [], rules), root, timeout=timeout,
                   env=tool_env())
        found += ruff.findings(parse_json(done, "ruff"), root, [])
    by_dimension: dict[str, list[Finding]] = {}
    for finding in found:
        by_dimension.setdefault(finding.dimension, []).append(finding)
    # NOTE: through AuditResult, so repeated findings get the audit's "-2" fingerprints too.
    return [f for dim, items in sorted(by_dimension.items())
            for f in AuditResult(dimension=dim, agent="local", findings=items).findings]


def changed_lines(before: str, after: str) -> set[int]:
    """Line numbers of ``after`` that a change from ``before`` added or rewrote; where lines were only
    deleted, the lines on either side of the gap."""
    old, new = before.splitlines(), after.splitlines()
    touched: set[int] = set()
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            touched.update(range(j1 + 1, j2 + 1))
        elif tag == "delete":
            touched.update(n for n in (j1, j1 + 1) if 1 <= n <= len(new))
    return touched


@dataclass(frozen=True)
class Recheck:
    """What the re-audit of an attempt's touched files says."""

    findings: list[Finding]  # every finding of the touched files after the change
    unparsable: dict[str, str]  # touched file -> why it no longer parses
    new: list[Finding]  # findings on touched lines that were not there before, at or above the bar
    target_gone: bool | None  # the finding being fixed is no longer reported (None: no target)
    notes: list[str] = field(default_factory=list)

    @property
    def rejection(self) -> str | None:
        """Why the attempt must not be committed, or None."""
        if self.unparsable:
            return "; ".join(f"{file} no longer parses ({why})" for file, why in self.unparsable.items())
        if self.new:
            listed = ", ".join(f"{f.severity} {f.rule_id} at {f.location}" for f in self.new[:5])
            return f"the change adds {len(self.new)} finding(s) on the lines it touched: {listed}"
        return None

    @property
    def fixes_target(self) -> bool:
        """Commit it as the fix of its finding only when this is True."""
        return self.rejection is None and bool(self.target_gone)


def recheck_attempt(
    root: Path,
    touched: Mapping[str, Collection[int]],
    before: Sequence[Finding],
    target: Finding | None = None,
    *,
    base: str | None = "HEAD",
    dimensions: Collection[str] = RECHECKED_DIMENSIONS,
    ruff_select: Sequence[str] = tuple(ruff.CURATED_SELECT),
    ruff_ignore: Sequence[str] = tuple(ruff.CURATED_IGNORE),
    timeout: float = 300,
) -> Recheck:
    """Re-audit the files an attempt touched and judge it.

    ``touched`` maps each changed file (POSIX, relative to ``root``) to its added or changed line
    numbers in the new file (unidiff's target lines); a deleted file has no entry. ``before`` holds the
    findings of the last green audit (every finding of the touched files, at least). ``target`` is the
    finding the attempt is meant to fix. A finding on a touched line is new when there are more of its
    fingerprint after than before (repeats' ``-2`` suffixes ignored) and its severity is at least the
    target's (with no target: any P0–P3). ``base`` is the
    commit the attempt started from (the worktree's HEAD while the attempt is uncommitted).
    """
    unparsable = parse_failures(root, touched.keys(), base)
    after = reaudit(root, [f for f in touched if f not in unparsable], dimensions=dimensions,
                    ruff_select=ruff_select, ruff_ignore=ruff_ignore, timeout=timeout)
    # NOTE: the judgement is the fix loop's own (gitorch.plugin.checks), so the embedded agent's
    # self-check and the loop's check of every attempt agree.
    bar = target.severity if target is not None else Severity.P3
    new = new_findings(before, after, touched, bar)
    gone: bool | None = None
    if target is not None:
        if target.file in unparsable or target.file not in touched:
            gone = False  # NOTE: an untouched file still holds its finding
        else:
            was, now = Counter(map(base_fingerprint, before)), Counter(map(base_fingerprint, after))
            gone = now[base_fingerprint(target)] < was[base_fingerprint(target)] and not any(
                f.rule_id == target.rule_id and f.file == target.file for f in new
            )
    return Recheck(findings=after, unparsable=unparsable, new=new, target_gone=gone)


__all__ = ["Recheck", "changed_lines", "in_lines", "parse_failure", "parse_failures", "reaudit",
           "recheck_attempt", "touched_lines"]
