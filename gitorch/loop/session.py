"""A run's identity and state (``session.json``), and where it lives."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gitorch.errors import ExitCode, UsageError
from gitorch.loop.ledger import Ledger, now_iso
from gitorch.vcs.git import git_common_dir, gitorch_dir

Status = Literal["running", "finished", "interrupted", "failed"]
StopReason = Literal["target", "iterations", "budget", "stalled", "needs_human", "error", "interrupted"]

# Exit codes of `gitorch fix` / `gitorch resume` by stop reason (all codes: gitorch.errors.ExitCode).
EXIT_CODES: dict[str, ExitCode] = {
    "target": ExitCode.OK,
    "error": ExitCode.ERROR,
    "iterations": ExitCode.ITERATIONS,
    "budget": ExitCode.BUDGET,
    "stalled": ExitCode.STALLED,
    "needs_human": ExitCode.NEEDS_HUMAN,
    "interrupted": ExitCode.INTERRUPTED,
}


def new_session_id() -> str:
    """``YYYYMMDD-HHMMSS-xxxx`` (UTC): sorts by start time, short enough for a branch name."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class FixOptions(BaseModel):
    """What the user asked for (flags), kept in the session so ``resume`` continues the same run."""

    model_config = ConfigDict(extra="forbid")

    dimensions: list[str]
    path: str = "."
    target_score: float
    max_iterations: int
    budget_usd: float
    agent: str | None = None
    yes: bool = False
    base: str = "HEAD"
    include_dirty: bool = False
    test_command: str
    feature: str | None = None
    dry_run: bool = False
    replay: str | None = None


class SessionState(BaseModel):
    """Everything needed to resume a run and to rebuild its report (with ``events.jsonl``)."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = 1
    id: str
    status: Status = "running"
    stop_reason: StopReason | None = None
    stop_detail: str = ""
    exit_code: int | None = None
    repo_root: str
    worktree: str
    branch: str
    base_commit: str
    green_commit: str
    snapshot_commit: str | None = None
    started_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    ended_at: str | None = None
    pid: int = Field(default_factory=os.getpid)
    host: str = Field(default_factory=socket.gethostname)
    options: FixOptions
    iteration: int = 0
    iterations_done: int = 0
    cost_usd: float = 0.0
    initial_scores: dict[str, float | None] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    initial_counts: dict[str, int] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    discovery: dict[str, Any] = Field(default_factory=dict)
    strategy: int = 0
    no_progress: int = 0
    failed_agents: dict[str, list[str]] = Field(
        default_factory=dict, description="finding → agents that failed it"
    )
    declined: list[str] = Field(default_factory=list, description="findings whose attempt needed a human")
    feature_done: bool = False
    tests_collected: int | None = None
    tests_passing: list[str] | None = Field(
        default=None, description="the tests (JUnit ids) passing at the green commit; each must keep passing"
    )
    last_tests: str | None = None
    phase_durations: dict[str, float] = Field(default_factory=dict)
    commits: int = 0
    attempts: int = 0
    rollbacks: list[str] = Field(default_factory=list, description="attic refs of rollbacks not undone")
    cleaned: bool = False

    @property
    def finished(self) -> bool:
        return self.status != "running"


def sessions_dir(root: Path) -> Path:
    return gitorch_dir(root) / "sessions"


def worktrees_dir(root: Path) -> Path:
    return gitorch_dir(root) / "worktrees"


def cache_worktrees_dir() -> Path:
    """``$XDG_CACHE_HOME/gitorch/worktrees`` (``~/.cache/gitorch/worktrees`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitorch" / "worktrees"


def worktree_path(root: Path, session_id: str, in_cache: bool) -> Path:
    """Where the run's worktree goes: ``<git-dir>/gitorch/worktrees/<id>``, or in the user cache directory
    under a name that says which repository it belongs to."""
    if not in_cache:
        return worktrees_dir(root) / session_id
    common = git_common_dir(root).resolve()
    key = hashlib.sha256(str(common).encode()).hexdigest()[:8]
    name = common.parent.name if common.name == ".git" else common.name
    return cache_worktrees_dir() / f"{name}-{key}-{session_id}"


def ledger_for(root: Path, session_id: str) -> Ledger:
    return Ledger(sessions_dir(root) / session_id)


def load_session(root: Path, session_id: str | None = None) -> tuple[SessionState, Ledger]:
    """A session by id (a unique prefix works), or the most recent one."""
    base = sessions_dir(root)
    ids = sorted(p.name for p in base.iterdir() if (p / "session.json").is_file()) if base.is_dir() else []
    if not ids:
        raise UsageError("no gitorch runs in this repository yet (start one with `gitorch fix`)")
    if session_id is None:
        chosen = max(ids, key=lambda i: Ledger(base / i).load_raw().get("started_at", ""))
    else:
        matching = [i for i in ids if i == session_id] or [i for i in ids if i.startswith(session_id)]
        if len(matching) != 1:
            known = ", ".join(ids[-5:])
            what = "no session" if not matching else "more than one session"
            raise UsageError(f"{what} matches {session_id!r} (recent: {known})")
        chosen = matching[0]
    ledger = Ledger(base / chosen)
    return SessionState.model_validate(ledger.load_raw()), ledger


def list_sessions(root: Path) -> list[SessionState]:
    base = sessions_dir(root)
    if not base.is_dir():
        return []
    found = []
    for p in sorted(base.iterdir()):
        ledger = Ledger(p)
        if ledger.exists():
            try:
                found.append(SessionState.model_validate(ledger.load_raw()))
            except (ValueError, OSError):
                continue
    return sorted(found, key=lambda s: s.started_at)


class StopRun(Exception):
    """Raised anywhere in the loop to end the run: why (a :data:`StopReason`) and a sentence for the user."""

    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
