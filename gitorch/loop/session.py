"""A run's identity and state (``session.json``), and where it lives."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitorch.errors import ExitCode, LedgerError, UsageError
from gitorch.loop.ledger import Ledger, now_iso
from gitorch.vcs.git import Git, git_common_dir, gitorch_dir, run_branch

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
    jobs: int = Field(1, ge=1, description="agent calls at once (--jobs)")


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
    test_gate: str | None = Field(
        default=None, description="how strong the test gate is: tests, no-tests, failing, no-environment"
    )
    test_gate_detail: str = ""
    environment_test_command: bool = Field(
        default=False, description="the test command is the project environment's (the user set none)"
    )
    score_formula: int | None = Field(
        default=None, description="the score formula of the recorded scores (None: a ledger from before "
        "it was recorded; the report infers it from the audits)"
    )
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


def read_state(ledger: Ledger) -> SessionState:
    """The session's state; :class:`~gitorch.errors.LedgerError` (one line naming the file and what is
    wrong) when ``session.json`` is damaged or is not a gitorch session."""
    raw = ledger.load_raw()
    try:
        state = SessionState.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ())) or "value"
        raise LedgerError(f"{ledger.session_file}: not a gitorch session ({where}: {error['msg']})") from None
    if state.id != ledger.dir.name:
        raise LedgerError(f"{ledger.session_file}: holds session {state.id!r}, not {ledger.dir.name!r}")
    return state


def session_ids(root: Path) -> list[str]:
    """The sessions of the repository (folders with a ``session.json``), oldest first: an id starts with
    its UTC start time."""
    base = sessions_dir(root)
    return sorted(p.name for p in base.iterdir() if (p / "session.json").is_file()) if base.is_dir() else []


def load_session(root: Path, session_id: str | None = None) -> tuple[SessionState, Ledger]:
    """A session by id (a unique prefix works), or the most recent one. A damaged ``session.json`` is a
    :class:`~gitorch.errors.LedgerError`."""
    base = sessions_dir(root)
    ids = session_ids(root)
    if not ids:
        raise UsageError("no gitorch runs in this repository yet (start one with `gitorch fix`)")
    if session_id is None:
        chosen = ids[-1]
    else:
        matching = [i for i in ids if i == session_id] or [i for i in ids if i.startswith(session_id)]
        if len(matching) != 1:
            known = ", ".join(ids[-5:])
            what = "no session" if not matching else "more than one session"
            raise UsageError(f"{what} matches {session_id!r} (recent: {known})")
        chosen = matching[0]
    ledger = Ledger(base / chosen)
    return read_state(ledger), ledger


def scan_sessions(root: Path) -> tuple[list[SessionState], list[LedgerError]]:
    """Every session that reads (by start time), and the error of each one that does not."""
    found, damaged = [], []
    for session_id in session_ids(root):
        try:
            found.append(read_state(Ledger(sessions_dir(root) / session_id)))
        except LedgerError as exc:
            damaged.append(exc)
    return sorted(found, key=lambda s: s.started_at), damaged


def list_sessions(root: Path) -> list[SessionState]:
    """The sessions that read (a damaged one is left out: :func:`scan_sessions` names it)."""
    return scan_sessions(root)[0]


def verify_resumable(root: Path, state: SessionState, ledger: Ledger) -> None:
    """Refuse (:class:`~gitorch.errors.LedgerError`) to resume a session whose state cannot be trusted:
    resuming resets a worktree and moves a branch, so both must be the session's own, and its commits
    must exist and be on its branch."""
    where = ledger.session_file

    def refuse(why: str) -> None:
        raise LedgerError(f"{where}: cannot resume session {state.id}: {why}")

    if state.branch != run_branch(state.id):
        refuse(f"its branch {state.branch!r} is not the run branch {run_branch(state.id)!r}")
    expected = {worktree_path(root, state.id, in_cache).resolve() for in_cache in (False, True)}
    if Path(state.worktree).resolve() not in expected:
        refuse(f"its worktree {state.worktree} is not where gitorch puts the run's worktree")
    git = Git(root)
    for name, commit in (("base", state.base_commit), ("green", state.green_commit)):
        if git.rev(commit) is None:
            refuse(f"its {name} commit {commit} is not in the repository")
    tip = git.rev(f"refs/heads/{state.branch}")
    if tip is not None and not git.ok("merge-base", "--is-ancestor", state.green_commit, tip):
        refuse(f"its green commit {state.green_commit[:12]} is not on {state.branch}")


class StopRun(Exception):
    """Raised anywhere in the loop to end the run: why (a :data:`StopReason`) and a sentence for the user."""

    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
