"""Gates: what an attempt's diff may do on its own, what needs a human's yes, what is rejected outright.

Two kinds of gate, from :class:`gitorch.config.Confirmations` and :class:`gitorch.config.Protected`:

- **confirm**: more deleted lines or touched files than the thresholds, a deleted file, a new module,
  a migration, a core file. The loop asks (terminal prompt), ``--yes`` approves, and with neither the
  attempt is declined and recorded as needing a human.
- **reject**: a test file deleted, a test weakened (compared by syntax tree, :mod:`gitorch.loop.weakened`),
  test or CI configuration changed (whole files, or the test sections of ``pyproject.toml`` and
  ``setup.cfg``), a path inside ``.git`` or outside the repository (a symlink leading out, a change to
  the workspace's git directory found by :mod:`gitorch.vcs.containment`), and, after the test run, a
  test that passed before and does not pass now (:func:`lost_tests`). Rejected whatever the agent says,
  never asked.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from gitorch.config import Config
from gitorch.loop.weakened import weakenings
from gitorch.vcs.diff import DiffStats, FileChange

Decision = Literal["pass", "confirm", "reject"]
# path → (text at the green commit, text after the attempt); None where the file does not exist
Sources = Mapping[str, tuple[str | None, str | None]]


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


def needs_source(path: str, config: Config) -> bool:
    """Whether :func:`evaluate` reads ``path`` before and after the attempt (a Python test file, or a file
    of which only some sections are test configuration)."""
    return (path.endswith(".py") and is_test_file(path, config)) or _sections_of(path, config) is not None


def evaluate(
    stats: DiffStats,
    config: Config,
    *,
    sentinel_changes: list[str] | None = None,
    root: Path | None = None,
    sources: Sources | None = None,
) -> Verdict:
    """The gates that fire on ``stats``.

    ``sentinel_changes`` lists git-directory state the attempt changed (put back by the containment);
    ``root`` is the worktree, to resolve symlink targets; ``sources`` holds the texts before and after of
    the files :func:`needs_source` names (a file missing there is judged from the diff alone).
    """
    hits: list[GateHit] = []
    hits += _reject_gates(stats, config, sentinel_changes or [], root, sources or {})
    hits += _confirm_gates(stats, config)
    return Verdict(tuple(hits))


def lost_tests(before: frozenset[str] | None, after: Mapping[str, str] | None) -> GateHit | None:
    """The ``tests-lost`` rejection: a test that passed at the green commit (``before``, ids) does not pass
    after the attempt (``after``: id → outcome from the JUnit report; None when the run wrote none)."""
    if not before:
        return None
    if after is None:
        return GateHit("tests-lost", "reject", "the test run wrote no JUnit report (collection changed?)")
    lost = sorted((test, after.get(test, "missing")) for test in before if after.get(test) != "passed")
    if not lost:
        return None
    shown = ", ".join(f"{test} ({outcome})" for test, outcome in lost[:5])
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    detail = f"{len(lost)} test(s) that passed before do not pass now: {shown}{more}"
    return GateHit("tests-lost", "reject", detail)


def _reject_gates(
    stats: DiffStats, config: Config, sentinel_changes: list[str], root: Path | None, sources: Sources
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
        config_paths += [p for p in f.paths if _sections_changed(p, config, sources, f)]
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
        hits += _weakened(f, sources)
    return hits


def _weakened(f: FileChange, sources: Sources) -> list[GateHit]:
    """Tests weakened in a Python test file, from the syntax trees of its two versions."""
    if f.is_new or not f.path.endswith(".py"):
        return []
    before, _ = sources.get(f.old_path or f.path, (None, None))
    _, after = sources.get(f.path, (None, None))
    if before is None or after is None:
        return []
    return [GateHit("test-weakened", "reject", why) for why in weakenings(f.path, before, after)]


def _sections_of(path: str, config: Config) -> list[str] | None:
    return config.protected.test_config_sections.get(PurePosixPath(path).name)


def _sections_changed(path: str, config: Config, sources: Sources, f: FileChange) -> bool:
    """Whether the test sections of ``path`` (pyproject.toml's ``[tool.pytest…]`` …) differ across the
    attempt. A file of that name added or deleted, or that no longer parses, counts as changed."""
    sections = _sections_of(path, config)
    if sections is None:
        return False
    if path not in sources:
        return True  # no texts to compare: the safe side
    before, after = sources[path]
    if before is None and after is None:
        return False
    old, new = _config_sections(path, before, sections), _config_sections(path, after, sections)
    return old is None or new is None or old != new


def _config_sections(path: str, text: str | None, sections: list[str]) -> dict[str, Any] | None:
    """The named sections of a TOML or INI file (dotted TOML keys; INI section names); None if unreadable."""
    if text is None:
        return {}
    if path.endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        found = {}
        for dotted in sections:
            node: Any = data
            for key in dotted.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            found[dotted] = node
        return found
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {name: dict(parser[name]) if parser.has_section(name) else None for name in sections}


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
