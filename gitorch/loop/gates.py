"""Gates: what an attempt's diff may do on its own, what needs a human's yes, what is rejected outright.

Two kinds of gate, from :class:`gitorch.config.Confirmations` and :class:`gitorch.config.Protected`:

- **confirm**: more deleted lines or touched files than the thresholds, a deleted file, a new module,
  a migration, a core file. The loop asks (terminal prompt), ``--yes`` approves, and with neither the
  attempt is declined and recorded as needing a human.
- **reject**: a test file deleted, a test weakened (assertions removed, skip/xfail markers added,
  trivial assertions added, fewer tests collected), test or CI configuration changed, a path inside
  ``.git`` or outside the repository (a symlink leading out, a change to the git directory seen by
  :func:`git_sentinels`). Rejected whatever the agent says, never asked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

from gitorch.config import Config
from gitorch.vcs.diff import DiffStats, FileChange

Decision = Literal["pass", "confirm", "reject"]

_ASSERTION = re.compile(
    r"^\s*(assert\b|self\.assert\w*\(|self\.fail\w*\(|pytest\.raises\(|with\s+pytest\.raises|"
    r"pytest\.warns\(|with\s+pytest\.warns|\w+\.assert_\w+\(|expect\()"
)
_SKIP = re.compile(
    r"(pytest\.mark\.(skip|skipif|xfail)\b|pytest\.(skip|xfail|importorskip)\(|unittest\.skip\w*|"
    r"@skip(If|Unless)?\b|\.skipTest\(|\bit\.skip\(|\bdescribe\.skip\(|\btest\.skip\(|\bxit\()"
)
_TRIVIAL_ASSERT = re.compile(r"^\s*assert\s+(True|1|not\s+False|None\s+is\s+None)\s*(#.*)?$")


@dataclass(frozen=True)
class GateHit:
    """One gate that fired: its name, the decision it asks for, and why."""

    gate: str
    decision: Decision
    detail: str


@dataclass(frozen=True)
class Verdict:
    hits: tuple[GateHit, ...] = field(default_factory=tuple)

    @property
    def decision(self) -> Decision:
        decisions = {h.decision for h in self.hits}
        return "reject" if "reject" in decisions else "confirm" if "confirm" in decisions else "pass"

    def of(self, decision: Decision) -> list[GateHit]:
        return [h for h in self.hits if h.decision == decision]

    def describe(self, decision: Decision | None = None) -> str:
        hits = self.hits if decision is None else self.of(decision)
        return "; ".join(f"{h.gate}: {h.detail}" for h in hits)


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: ``**/`` matches any number of directories (even none), ``*`` stays in one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append(r"(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(r".*")
            i += 2
        elif pattern[i] == "*":
            out.append(r"[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append(r"[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` (POSIX, relative) matches one of ``patterns``.

    A pattern without ``/`` matches the base name, wherever the file is."""
    for pattern in patterns:
        target = path if "/" in pattern else PurePosixPath(path).name
        if _glob_regex(pattern).match(target):
            return True
    return False


def is_test_file(path: str, config: Config) -> bool:
    return matches(path, config.protected.test_files)


def evaluate(
    stats: DiffStats,
    config: Config,
    *,
    sentinel_changes: list[str] | None = None,
    root: Path | None = None,
    collected: tuple[int, int] | None = None,
) -> Verdict:
    """The gates that fire on ``stats``.

    ``sentinel_changes`` lists git-directory state the attempt changed (from :func:`compare_sentinels`);
    ``root`` is the worktree, to resolve symlink targets; ``collected`` is (tests before, tests after)
    when they were counted.
    """
    hits: list[GateHit] = []
    hits += _reject_gates(stats, config, sentinel_changes or [], root)
    if collected is not None and (hit := fewer_tests(*collected)) is not None:
        hits.append(hit)
    hits += _confirm_gates(stats, config)
    return Verdict(tuple(hits))


def fewer_tests(before: int, after: int) -> GateHit | None:
    """The ``fewer-tests`` rejection, when an attempt leaves fewer tests collected than before."""
    if after >= before:
        return None
    return GateHit("fewer-tests", "reject", f"{before} tests collected before, {after} after")


def _reject_gates(
    stats: DiffStats, config: Config, sentinel_changes: list[str], root: Path | None
) -> list[GateHit]:
    hits: list[GateHit] = []
    for change in sentinel_changes:
        hits.append(GateHit("git-dir", "reject", f"{change} changed"))
    for f in stats.files:
        for path in f.paths:
            parts = PurePosixPath(path).parts
            if ".git" in parts or path.startswith("/") or ".." in parts:
                hits.append(
                    GateHit(
                        "outside-repository", "reject", f"{path} is inside .git or outside the repository"
                    )
                )
        if f.is_symlink and not f.is_deleted and f.added_lines and root is not None:
            target = f.added_lines[0]
            resolved = (root / PurePosixPath(f.path).parent / target).resolve()
            base = root.resolve()
            if target.startswith("/") or (resolved != base and base not in resolved.parents):
                hits.append(
                    GateHit("outside-repository", "reject", f"symlink {f.path} points outside: {target}")
                )
            elif ".git" in resolved.relative_to(base).parts:
                hits.append(GateHit("outside-repository", "reject", f"symlink {f.path} points into .git"))
        config_paths = [p for p in f.paths if matches(p, config.protected.test_config)]
        if config_paths:
            hits.append(GateHit("test-config", "reject", f"{config_paths[0]} is test or CI configuration"))
        test_paths = [p for p in f.paths if is_test_file(p, config)]
        if not test_paths:
            continue
        if f.is_deleted:
            hits.append(GateHit("test-deleted", "reject", f"{f.path} deleted"))
            continue
        if f.is_renamed and not is_test_file(f.path, config):
            hits.append(GateHit("test-deleted", "reject", f"{f.old_path} renamed to non-test {f.path}"))
        hits += _weakened(f)
    return hits


def _weakened(f: FileChange) -> list[GateHit]:
    hits = []
    removed = sum(1 for line in f.removed_lines if _ASSERTION.match(line))
    added = sum(1 for line in f.added_lines if _ASSERTION.match(line) and not _TRIVIAL_ASSERT.match(line))
    if removed > added:
        hits.append(GateHit("test-weakened", "reject", f"{f.path}: {removed - added} assertion(s) removed"))
    skips = [line.strip() for line in f.added_lines if _SKIP.search(line)]
    if len(skips) > sum(1 for line in f.removed_lines if _SKIP.search(line)):
        hits.append(GateHit("test-weakened", "reject", f"{f.path}: skip/xfail added ({skips[0][:60]})"))
    trivial = [line.strip() for line in f.added_lines if _TRIVIAL_ASSERT.match(line)]
    if trivial:
        hits.append(GateHit("test-weakened", "reject", f"{f.path}: trivial assertion added ({trivial[0]})"))
    return hits


def _confirm_gates(stats: DiffStats, config: Config) -> list[GateHit]:
    confirm = config.confirm
    hits: list[GateHit] = []
    if stats.removed > confirm.deleted_lines:
        hits.append(
            GateHit(
                "deleted-lines",
                "confirm",
                f"{stats.removed} lines deleted (threshold {confirm.deleted_lines})",
            )
        )
    if len(stats.files) > confirm.files:
        hits.append(
            GateHit("files", "confirm", f"{len(stats.files)} files touched (threshold {confirm.files})")
        )
    for f in stats.files:
        if confirm.deletions and f.is_deleted:
            hits.append(GateHit("file-deleted", "confirm", f"{f.path} deleted"))
        if (
            confirm.new_modules
            and f.is_new
            and PurePosixPath(f.path).name in ("__init__.py", "__manifest__.py")
        ):
            hits.append(
                GateHit("new-module", "confirm", f"new module {PurePosixPath(f.path).parent.as_posix()}")
            )
        if confirm.migrations and any(matches(p, confirm.migration_globs) for p in f.paths):
            hits.append(GateHit("migration", "confirm", f"{f.path} is a migration"))
        elif any(matches(p, confirm.core_files) for p in f.paths):
            hits.append(GateHit("core-file", "confirm", f"{f.path} is a core file"))
    return hits


# --------------------------------------------------------------------------------------------------
# Sentinels: cheap fingerprints of git-directory state an agent must not change.


def git_sentinels(common_dir: Path, worktree: Path) -> dict[str, str]:
    """Fingerprints of git-directory state no fix attempt has any business changing: the repository
    config, hooks, info files, the stash (ref and reflog) and the worktree's ``.git`` link file.

    NOTE: the user's own HEAD, index and branches are left out on purpose: the user may keep working
    (and committing) in their checkout while a run goes on.
    """
    found: dict[str, str] = {}
    for name in ("config", "info/exclude", "info/attributes", "refs/stash", "logs/refs/stash"):
        path = common_dir / name
        if path.is_file():
            found[name] = hashlib.sha1(path.read_bytes()).hexdigest()
    hooks = common_dir / "hooks"
    if hooks.is_dir():
        h = hashlib.sha1()
        for p in sorted(hooks.iterdir()):
            if p.is_file():
                h.update(p.name.encode() + b"\0" + p.read_bytes())
        found["hooks/"] = h.hexdigest()
    link = worktree / ".git"
    if link.exists():
        found["worktree .git"] = hashlib.sha1(link.read_bytes()).hexdigest() if link.is_file() else "dir"
    return found


def compare_sentinels(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Names of the sentinels that differ."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
