"""The events of a run's ledger (``events.jsonl``): one pydantic model per ``type``.

The loop writes them through :meth:`gitorch.loop.ledger.Ledger.append`; the report, ``gitorch log`` and
the tests read them back as these models (:meth:`Ledger.events`), never as free-form dicts.

NOTE: the field names are the ledger's on-disk format. Ledgers written before the events were typed use
the same names, so they still read; rename a field only with a migration. A field a later gitorch adds
is ignored by this one, and a line that does not validate is skipped with a warning.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from gitorch.models import Finding, Severity


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FindingBrief(_Record):
    """A finding as the ledger keeps it (the description cut to 200 characters)."""

    fingerprint: str
    severity: Severity
    dimension: str
    rule_id: str | None = None
    location: str
    description: str

    @classmethod
    def of(cls, finding: Finding) -> FindingBrief:
        kept = finding.model_dump(include={"fingerprint", "severity", "dimension", "rule_id"})
        return cls(**kept, location=finding.location, description=finding.description[:200])


class HitRecord(_Record):
    """One gate that fired (:class:`gitorch.loop.gates.GateHit`)."""

    gate: str
    decision: str
    detail: str

    @classmethod
    def of(cls, hit: Any) -> HitRecord:
        return cls(gate=hit.gate, decision=hit.decision, detail=hit.detail)


class Event(_Record):
    """What every line has: its number in the file and when it was written (both set by the ledger)."""

    seq: int = 0
    ts: str = ""


class AttemptStep(Event):
    """An event of one attempt: its iteration, the fingerprint of its finding, its agent."""

    iteration: int
    finding: str
    agent: str


# The run ------------------------------------------------------------------------------------------


class SessionStart(Event):
    type: Literal["session_start"] = "session_start"
    options: dict[str, Any]
    base: str
    branch: str
    worktree: str
    snapshot: str | None = None


class Resume(Event):
    class Previous(_Record):
        status: str
        stop_reason: str | None = None
        pid: int | None = None

    type: Literal["resume"] = "resume"
    previous: Previous
    lock_note: str | None = None
    budget_usd: float


class StaleGitLocksRemoved(Event):
    type: Literal["stale_git_locks_removed"] = "stale_git_locks_removed"
    paths: list[str]


class Reconciled(Event):
    """The branch was ahead of the ledger (a kill between ``update-ref`` and the commit's event)."""

    type: Literal["reconciled"] = "reconciled"
    green: str
    previous: str


class Discovery(Event):
    type: Literal["discovery"] = "discovery"
    module_name: str
    module_path: str
    languages: dict[str, int] = Field(default_factory=dict)
    dependencies: list[str] = Field(default_factory=list)
    files: int = 0
    loc: int = 0


class AgentUnavailable(Event):
    type: Literal["agent_unavailable"] = "agent_unavailable"
    agent: str
    reason: str


class NoFixer(Event):
    type: Literal["no_fixer"] = "no_fixer"
    dimension: str
    chain: list[str]


class Phase(Event):
    """A phase ended; ``duration_s`` leaves out the test runs and gitorch's overhead timed inside it."""

    type: Literal["phase"] = "phase"
    name: str
    duration_s: float
    iteration: int
    kind: str | None = None


class Audit(Event):
    type: Literal["audit"] = "audit"
    kind: str = Field(description="initial, resume or re-audit")
    iteration: int
    dimension: str
    agent: str
    score: float | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    findings: list[FindingBrief] = Field(default_factory=list)
    duration_s: float = 0.0
    cost_usd: float = 0.0
    cached: bool = Field(False, description="served from the audit cache: nothing was run or paid for")

    def scored_findings(self) -> list[Finding]:
        """The findings as much as a score needs (dimension, severity, fingerprint): to score an audit of
        the ledger again with another formula."""
        return [
            Finding(**f.model_dump(include={"dimension", "severity", "description", "fingerprint"}))
            for f in self.findings
        ]


class BaselineTests(Event):
    """The test command on the start commit, before any change."""

    type: Literal["tests"] = "tests"
    kind: Literal["baseline"] = "baseline"
    passed: bool
    brief: str
    counts: dict[str, int] | None = None
    collected: int | None = None
    duration_s: float = 0.0
    output: str | None = Field(default=None, description="the end of the output, when the tests failed")


class TestGate(Event):
    """How strong the test gate is, said before the first attempt (:class:`gitorch.plugin.checks.TestGate`):
    ``kind`` is tests, no-tests, failing or no-environment; ``file_coverage`` maps each file with an open
    finding to [statements the tests run, statements], when coverage was measured."""

    __test__ = False  # not a pytest class

    type: Literal["test_gate"] = "test_gate"
    kind: str
    command: str
    description: str
    environment: str = ""
    collected: int | None = None
    coverage: float | None = None
    files: int = 0
    detail: str = ""
    file_coverage: dict[str, list[int]] = Field(default_factory=dict)


class AttemptTests(AttemptStep):
    """The test command on an attempt's change."""

    type: Literal["tests"] = "tests"
    kind: Literal["attempt"] = "attempt"
    passed: bool
    brief: str
    counts: dict[str, int] | None = None
    duration_s: float = 0.0
    output: str | None = None


class IterationStart(Event):
    type: Literal["iteration_start"] = "iteration_start"
    iteration: int
    phase: str
    why: str
    candidates: int
    strategy: int
    scores: dict[str, float | None]


class IterationSummary(_Record):
    """What an iteration did (a row of the report's iterations)."""

    iteration: int
    phase: str
    scores_before: dict[str, float | None]
    scores_after: dict[str, float | None]
    commits: int
    improved: bool


class IterationEnd(Event, IterationSummary):
    type: Literal["iteration_end"] = "iteration_end"
    green: str
    cost_usd: float


class StrategyChange(Event):
    type: Literal["strategy_change"] = "strategy_change"
    iteration: int
    strategy: int
    order: str


class Develop(Event):
    type: Literal["develop"] = "develop"
    feature: str
    approved: bool


class Error(Event):
    type: Literal["error"] = "error"
    error: str
    traceback: str | None = None


class Stop(Event):
    type: Literal["stop"] = "stop"
    reason: str
    detail: str
    exit_code: int
    scores: dict[str, float | None]
    cost_usd: float


# One attempt --------------------------------------------------------------------------------------


class Attempt(Event):
    """The agent's answer to one fix request."""

    type: Literal["attempt"] = "attempt"
    iteration: int
    phase: str
    finding: FindingBrief
    agent: str
    attempt: int
    status: str
    summary: str
    cost_usd: float
    call_id: str | None = None


class AgentTry(Event):
    """An agent call that crashed or timed out (it is tried again)."""

    type: Literal["agent_try"] = "agent_try"
    agent: str
    attempt: int
    error: str | None = None
    duration_s: float = 0.0


class AgentMovedHead(Event):
    type: Literal["agent_moved_head"] = "agent_moved_head"
    symbolic: str | None = None
    head: str | None = None
    branch_tip: str | None = None


class GitDirChanged(Event):
    type: Literal["git_dir_changed"] = "git_dir_changed"
    iteration: int
    agent: str
    changed: list[str]


class CheckoutChanged(Event):
    """The user's checkout changed while an agent gitorch cannot confine ran."""

    type: Literal["checkout_changed"] = "checkout_changed"
    agent: str
    changed: list[str]
    backup: str


class Sandbox(Event):
    """How the run's agents and tests are contained (``gitorch.vcs.containment``), said once per process."""

    type: Literal["sandbox"] = "sandbox"
    mode: str
    sandboxed: bool
    detail: str
    unprotected: list[str] = Field(default_factory=list)


class RepositoryChanged(Event):
    """An agent call or a test run changed the user's repository: what changed, what was put back, what was
    removed (it did not exist before), what could not be, and where the versions found were moved."""

    type: Literal["repository_changed"] = "repository_changed"
    during: str
    changed: list[str]
    restored: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    displaced: str | None = None


class WorkspaceMigrated(Event):
    """A session made with a linked worktree now works in a workspace with a git directory of its own."""

    type: Literal["workspace_migrated"] = "workspace_migrated"
    worktree: str
    git_dir: str


class Gate(AttemptStep):
    type: Literal["gate"] = "gate"
    decision: str
    hits: list[HitRecord]
    diff: dict[str, Any] | None = Field(default=None, description="DiffStats.summary() of the attempt")


class Confirmation(Event):
    type: Literal["confirmation"] = "confirmation"
    iteration: int
    question: str
    reasons: list[HitRecord]
    answer: bool
    how: str = Field(description="prompt, --yes, or declined: no terminal and no --yes")
    diff: dict[str, Any] | None = None


class RollbackAttempt(Event):
    """An attempt undone (rejected, declined, tests failed, interrupted); its patch is kept."""

    type: Literal["rollback_attempt"] = "rollback_attempt"
    iteration: int | None = None
    reason: str
    detail: str = ""
    patch: str


class Commit(Event):
    type: Literal["commit"] = "commit"
    iteration: int
    phase: str
    sha: str
    subject: str
    agent: str
    finding: FindingBrief
    cost_usd: float
    files: int
    added: int
    removed: int
    paths: list[str]
    closes: list[str] = Field(default_factory=list, description="fingerprints of the findings it closes")


class Verification(AttemptStep):
    """The checks of an attempt's change before the tests (:mod:`gitorch.loop.verification`): the cheap
    gate (touched modules still compile and import), the re-audit of the touched files, and whether the
    change closes its finding. ``decision``: pass, reject, or no-effect (it fixes nothing)."""

    type: Literal["verification"] = "verification"
    decision: str
    files: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    rechecked: list[str] = Field(default_factory=list, description="dimensions re-audited")
    new: list[FindingBrief] = Field(default_factory=list)
    closes: list[str] = Field(default_factory=list, description="fingerprints of the findings it closes")
    notes: list[str] = Field(default_factory=list)
    duration_s: float = 0.0


class EmptyRunRemoved(Event):
    """A run that ended before its first commit: its branch, worktree and refs were removed (the ledger
    stays)."""

    type: Literal["empty_run_removed"] = "empty_run_removed"
    branch: str
    worktree: str


class AttemptEnd(AttemptStep):
    """How an attempt ended, and where its time went (``overhead_s`` is gitorch's own)."""

    type: Literal["attempt_end"] = "attempt_end"
    attempt: int
    outcome: str
    overhead_s: float
    agent_s: float
    tests_s: float
    human_s: float


# After the loop (gitorch rollback, gitorch clean) --------------------------------------------------


class Rollback(Event):
    type: Literal["rollback"] = "rollback"
    previous_tip: str
    target: str
    attic: str
    iteration: int


class RollbackUndo(Event):
    type: Literal["rollback_undo"] = "rollback_undo"
    previous_tip: str
    target: str
    attic: str
    undoes: str


class Clean(Event):
    type: Literal["clean"] = "clean"
    force: bool


Tests = Annotated[BaselineTests | AttemptTests, Field(discriminator="kind")]

AnyEvent = Annotated[
    SessionStart
    | Resume
    | StaleGitLocksRemoved
    | Reconciled
    | Discovery
    | AgentUnavailable
    | NoFixer
    | Phase
    | Audit
    | Tests
    | TestGate
    | IterationStart
    | IterationEnd
    | StrategyChange
    | Develop
    | Error
    | Stop
    | Attempt
    | AgentTry
    | AgentMovedHead
    | GitDirChanged
    | CheckoutChanged
    | Sandbox
    | RepositoryChanged
    | WorkspaceMigrated
    | Gate
    | Confirmation
    | Verification
    | RollbackAttempt
    | Commit
    | AttemptEnd
    | Rollback
    | RollbackUndo
    | Clean
    | EmptyRunRemoved,
    Field(discriminator="type"),
]

EVENT = TypeAdapter(AnyEvent)


def parse_event(line: str | bytes) -> Event:
    """One line of ``events.jsonl`` as its event model (a pydantic ``ValidationError`` when it is not one)."""
    return EVENT.validate_json(line)


def to_line(event: Event, seq: int, ts: str) -> str:
    """The event as one JSON line: ``seq``, ``ts``, ``type``, then the fields given when it was built.

    A field left out when the event was built stays out of the line, as in the ledgers written before
    the events were typed (a rollback at recovery has no ``iteration``, for example).
    """
    tags = _tags(type(event))
    data = event.model_dump(mode="json", include=(event.model_fields_set | set(tags)) - {"seq", "ts"})
    line = {"seq": seq, "ts": ts, **{tag: data.pop(tag) for tag in tags}, **data}
    return json.dumps(line, ensure_ascii=False) + "\n"


@cache
def _tags(cls: type[Event]) -> tuple[str, ...]:
    """The fields that tell events apart (``type``, then ``kind`` of ``tests``): first on the line, and
    written even when left at their default."""
    return tuple(name for name, f in cls.model_fields.items() if get_origin(f.annotation) is Literal)
