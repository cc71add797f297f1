"""The audit cache: a result is kept under the git directory, keyed by everything that decides it.

The key (:func:`audit_key`) is a hash of: the tree's state (:mod:`gitorch.vcs.state`: git's tree of the
audited path plus its uncommitted changes), the dimension and path, each agent of the audit (the auditor
and its contributors: name, class, options and :meth:`~gitorch.plugin.agent.Agent.cache_identity` —
analyzer versions, prompt templates, CLI version), the whole configuration, and the name and version of
every loaded plugin (``gitorch_process_findings`` plugins change results too) and of gitorch. An agent whose
identity is None is never cached.

An entry holds the final result exactly as it was serialised (a hit renders byte for byte what the cold run
rendered) and each agent's own result before merging and scoring, with the tree state: after a commit the
next audit of the same *lineage* (same key without the tree) finds that entry, asks each agent to
:meth:`~gitorch.plugin.agent.Agent.reaudit` only the changed files, and scores again.

NOTE: the cache lives in ``<git-common-dir>/gitorch/cache/audits`` (shared by the fix loop's worktrees, never
in the working tree), one JSON file per entry written atomically; it keeps at most :data:`MAX_ENTRIES`
entries and :data:`MAX_BYTES`, least recently used first out. An entry that cannot be read is ignored and
replaced; nothing here raises into an audit (a cache that fails is a slower audit, never a failed one).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitorch.models import AuditResult
from gitorch.services.atomic import atomic_write
from gitorch.vcs.git import GitError, git_common_dir
from gitorch.vcs.state import TreeState, tree_state

if TYPE_CHECKING:
    from gitorch.config import Config
    from gitorch.models import Agent, AuditRequest
    from gitorch.plugin.manager import Plugins

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
MAX_ENTRIES = 256
MAX_BYTES = 64 * 1024 * 1024
#: ``GITORCH_NO_CACHE=1`` turns the cache off for every command (``--no-cache`` for one).
DISABLE_ENV = "GITORCH_NO_CACHE"


@dataclass(frozen=True)
class AuditKey:
    """``key``: the entry's name; ``lineage``: the same without the tree (the entries a re-audit may start
    from); ``state``: the tree state it was computed for."""

    key: str
    lineage: str
    state: TreeState


@dataclass
class Entry:
    key: str
    state: TreeState
    result: str  # the final AuditResult, as serialised
    raw: dict[str, AuditResult] = field(default_factory=dict)

    def final(self) -> AuditResult:
        return AuditResult.model_validate_json(self.result).model_copy(update={"cached": True})


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def agent_identity(name: str, instance: Agent, request: AuditRequest) -> dict[str, Any] | None:
    """What of agent ``name`` decides its audit, or None when its audit must not be reused."""
    try:
        own = instance.cache_identity(request)
        if own is None:
            return None
        cls = type(instance)
        return {
            "name": name,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "options": instance.options.model_dump(mode="json"),
            "identity": json.loads(json.dumps(own, sort_keys=True, default=str)),
        }
    except Exception as exc:  # cache_identity must never raise; one that does is not cached
        log.warning("agent %r: cache_identity failed (%s: %s): not cached", name, type(exc).__name__, exc)
        return None


def audit_key(
    root: Path,
    request: AuditRequest,
    config: Config,
    plugins: Plugins,
    agents: list[tuple[str, Agent]],
) -> AuditKey | None:
    """The key of an audit of ``request`` by ``agents`` (auditor first); None: it must not be cached."""
    from gitorch import __version__

    identities = []
    for name, instance in agents:
        identity = agent_identity(name, instance, request)
        if identity is None:
            return None
        identities.append(identity)
    material = {
        "format": CACHE_FORMAT,
        "gitorch": __version__,
        "dimension": request.dimension.name,
        "path": request.path,
        "agents": identities,
        "config": config.model_dump(mode="json"),
        "plugins": sorted([p.name, p.distribution, p.version] for p in plugins.loaded),
    }
    try:
        state = tree_state(root, request.path)
    except GitError as exc:
        log.warning("audit cache off for this audit: %s", exc)
        return None
    lineage = _digest(material)
    return AuditKey(key=_digest([lineage, state.digest]), lineage=lineage, state=state)


class AuditCache:
    """The entries of one repository (all its worktrees share them)."""

    def __init__(
        self, directory: Path, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.directory = Path(directory)
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    @classmethod
    def for_repository(cls, root: Path) -> AuditCache | None:
        """The cache of ``root``'s repository, or None when turned off (:data:`DISABLE_ENV`) or unknown."""
        if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
            return None
        try:
            return cls(git_common_dir(root) / "gitorch" / "cache" / "audits")
        except GitError:
            return None

    def _entry_path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def _lineage_path(self, lineage: str) -> Path:
        return self.directory / "lineage" / lineage

    def load(self, key: str) -> Entry | None:
        """The entry ``key``, or None (absent, or unreadable: then it is removed, to be written again)."""
        path = self._entry_path(key)
        try:
            data = json.loads(path.read_bytes())
            if data.get("format") != CACHE_FORMAT or data.get("key") != key:
                raise ValueError("not an entry of this key and format")
            entry = Entry(
                key=key,
                state=TreeState.from_dict(data["state"]),
                result=data["result"],
                raw={name: AuditResult.model_validate_json(text) for name, text in data["raw"].items()},
            )
            entry.final()  # validates what a hit would return
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged entry: a slower audit, never a failed one
            log.warning("audit cache: ignoring damaged entry %s (%s)", path.name, type(exc).__name__)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used is pruned first
        return entry

    def latest(self, lineage: str) -> Entry | None:
        """The last entry stored for ``lineage`` (the same audit of an earlier tree), or None."""
        try:
            key = self._lineage_path(lineage).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return self.load(key) if key else None

    def store(self, key: AuditKey, result: AuditResult, raw: dict[str, AuditResult]) -> None:
        """Keep ``result`` (final) and ``raw`` (each agent's own) under ``key``; then prune."""
        data = {
            "format": CACHE_FORMAT,
            "key": key.key,
            "lineage": key.lineage,
            "state": key.state.as_dict(),
            "result": result.model_dump_json(),
            "raw": {name: r.model_dump_json() for name, r in raw.items()},
        }
        try:
            atomic_write(self._entry_path(key.key), json.dumps(data, ensure_ascii=False))
            atomic_write(self._lineage_path(key.lineage), key.key)
            self.prune()
        except OSError as exc:
            log.warning("audit cache: cannot write %s (%s)", self.directory, exc)

    def prune(self) -> int:
        """Drop the least recently used entries beyond the bounds; returns how many went."""
        entries = []
        for path in self.directory.glob("*.json"):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        entries.sort(reverse=True)  # newest first
        kept_bytes, removed = 0, 0
        for n, (_, size, path) in enumerate(entries):
            kept_bytes += size
            if n >= self.max_entries or kept_bytes > self.max_bytes:
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            self._prune_lineage()
        return removed

    def _prune_lineage(self) -> None:
        for path in (self.directory / "lineage").glob("*"):
            try:
                if not self._entry_path(path.read_text(encoding="ascii").strip()).exists():
                    path.unlink(missing_ok=True)
            except (OSError, UnicodeDecodeError):
                path.unlink(missing_ok=True)

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        count = 0
        for path in self.directory.glob("*.json"):
            path.unlink(missing_ok=True)
            count += 1
        for path in (self.directory / "lineage").glob("*"):
            path.unlink(missing_ok=True)
        return count
