"""One fix attempt: agent call → staged diff → unidiff analysis → gates → tests → per-test comparison →
commit, or roll back.

:class:`FixAttempt` works on the :class:`Workspace` it is given, borrows the run's services through an
:class:`AttemptContext` and returns an :class:`Outcome`; it never changes the run's state. The caller
(the loop, a benchmark) moves its idea of the green commit forward when the outcome is a commit::

    outcome = FixAttempt(context, workspace, finding, agent_name, "close_gaps").run()
    if outcome.commit:
        workspace = replace(workspace, green=outcome.commit)

What it does write: the attempt's events and rejected patches to the ledger, the commit to the branch
(moved from ``workspace.green`` only), the time spent to the phase clock, the money to the budget.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from gitorch.agents.routing import Try, call_with_fallback
from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop import events
from gitorch.loop.dependencies import dependency_hits
from gitorch.loop.gates import GateHit, Sources, evaluate, lost_tests, needs_source
from gitorch.loop.human import Confirmer, Note
from gitorch.loop.ledger import Ledger
from gitorch.loop.phases import PhaseClock
from gitorch.loop.pool import AgentPool
from gitorch.loop.recovery import bring_back_head
from gitorch.loop.session import StopRun
from gitorch.loop.verification import Check, Verifier, describe_closes
from gitorch.models import Finding, FixRequest, FixResult
from gitorch.process.testrun import TestOutcome, run_tests
from gitorch.services.budget import Budget, BudgetExceeded
from gitorch.vcs.containment import Containment
from gitorch.vcs.diff import DiffStats, analyze
from gitorch.vcs.git import format_trailers
from gitorch.vcs.guard import ContainmentBreach
from gitorch.vcs.workspace import Worktree

AGENT_CALL_ATTEMPTS = 2  # tries of one agent call that raised AgentError (crash, timeout, bad output)

OutcomeKind = Literal[
    "committed",
    "rejected",
    "declined",
    "failed_tests",
    "unchanged",
    "cannot_fix",
    "failed",
    "no_effect",
    "conflict",
]


@dataclass(frozen=True)
class Workspace:
    """Where an attempt works: a checkout of ``branch`` at ``green`` (the last commit whose tests passed)."""

    tree: Worktree
    branch: str
    green: str


@dataclass
class AttemptContext:
    """What an attempt borrows from its run."""

    session: str
    iteration: int
    config: Config
    test_command: str
    agents: AgentPool
    budget: Budget
    ledger: Ledger
    confirm: Confirmer
    clock: PhaseClock
    path: str = "."  # the part of the repository the run works on (--path)
    identity: dict[str, str] = field(default_factory=dict)
    # where agents and tests run and what is watched around them (None: nothing watched, e.g. a benchmark)
    containment: Containment | None = None
    tests_passing: frozenset[str] | None = None  # the tests that pass at the green commit (JUnit ids)
    verifier: Verifier | None = None  # the cheap gate and the re-audit (gitorch.loop.verification)
    no_tests: bool = False  # the project has no tests: a run that collects none is not a failure
    progress: Callable[[str], None] = lambda message: None


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended. ``commit`` is the new green commit; ``failure`` the test output for a retry;
    ``tests`` the test run's summary; with a commit, ``tests_collected`` the new count of tests and
    ``tests_passing`` the tests that pass on it (when the run wrote a JUnit report)."""

    kind: OutcomeKind
    reason: str = ""
    commit: str | None = None
    failure: str | None = None
    tests: str | None = None
    tests_collected: int | None = None
    tests_passing: frozenset[str] | None = None
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Prepared:
    """An agent's work done in a workspace of its own (``gitorch fix --jobs``), to be landed here: its
    answer, the patch of what it changed against ``base``, what it changed (and gitorch put back) in its
    workspace's git directory and the HEAD move seen during the call (gate reasons), its cost and how long
    it took."""

    result: FixResult
    patch: str
    base: str
    workspace_changes: tuple[str, ...] = ()
    moved: str | None = None
    cost: float = 0.0
    agent_s: float = 0.0


class FixAttempt:
    """One attempt at ``finding`` with agent ``agent`` (``number`` > 1 is a retry given ``failure``)."""

    def __init__(
        self,
        context: AttemptContext,
        workspace: Workspace,
        finding: Finding,
        agent: str,
        phase: str,
        *,
        number: int = 1,
        failure: str | None = None,
        feature: str | None = None,
        prepared: Prepared | None = None,
    ) -> None:
        self.ctx = context
        self.ws = workspace
        self.tree = workspace.tree
        self.finding = finding
        self.agent = agent
        self.phase = phase
        self.number = number
        self.failure = failure
        self.feature = feature  # --feature development: the diff always needs a confirmation
        self.prepared = prepared  # the agent already ran elsewhere: apply its patch on the green commit
        self.label = f"iter{context.iteration}-{finding.fingerprint[:10]}-{agent}-{number}"
        self.waited = {"agent": 0.0, "tests": 0.0, "human": 0.0}
        self.cost = 0.0

    def run(self) -> Outcome:
        """The attempt, timed: the waits on the agent, the tests and a human apart from gitorch's own work."""
        started = time.monotonic()
        outcome = Outcome("failed")
        try:
            outcome = self._attempt()
            return outcome
        finally:
            self._account(time.monotonic() - started, outcome.kind)
            self._end(outcome)

    def _end(self, outcome: Outcome) -> None:
        """Close the attempt's line; say how it ended when no other line did (no change)."""
        quiet_end = outcome.kind in ("cannot_fix", "unchanged", "failed")
        reason = f": {outcome.reason.splitlines()[0][:120]}" if quiet_end and outcome.reason.strip() else ""
        self.ctx.progress(
            Note(f"    no commit ({outcome.kind.replace('_', ' ')}{reason})" if quiet_end else "",
                 slot=self.label, done=True, transient=not quiet_end)
        )

    def _stage(self, stage: str) -> None:
        """Say what the attempt is doing now (a live console shows it on the attempt's own line)."""
        f = self.finding
        self.ctx.progress(
            Note(f"  {f.severity} {f.location}: {stage}", slot=self.label, what=self._what(), stage=stage,
                 transient=True)
        )

    def _what(self) -> str:
        f = self.finding
        retry = f" (retry {self.number - 1})" if self.number > 1 else ""
        return f"{f.severity} {f.location} · {self.agent}{retry}"

    def _attempt(self) -> Outcome:
        self._check_workspace()
        f = self.finding
        if self.prepared is not None:
            return self._land(self.prepared)
        self.ctx.progress(
            Note(f"  {f.severity} {f.location}: {self.agent} attempt {self.number}", slot=self.label,
                 what=self._what(), stage=f"{self.agent} at work")
        )
        result, workspace_changes = self._guarded_call()
        self._stage("checking the diff")
        moved = bring_back_head(self.tree, self.ws.branch, self.ws.green, self.ctx.ledger)
        return self._finish(result, workspace_changes, moved)

    def prepare(self) -> Prepared:
        """The agent's call alone, in this attempt's workspace (one of its own, with its own git directory):
        what it changed, as a patch against the green commit, for an attempt given ``prepared=`` to land on
        the run's workspace. Nothing is written to the branch; the caller removes the workspace."""
        self._check_workspace()
        containment = self.ctx.containment
        watch = (
            containment.watching_job_workspace(self.tree, f"job-{self.label}")
            if containment is not None
            else contextlib.nullcontext([])
        )
        with watch as workspace_changes:  # put back before gitorch runs git there again
            result, _ = self._guarded_call(record=False)
        moved = bring_back_head(self.tree, self.ws.branch, self.ws.green, self.ctx.ledger)
        self.tree.stage_all()
        patch = self.tree.staged_patch(self.ws.green)
        return Prepared(
            result, patch, self.ws.green, tuple(workspace_changes), moved, self.cost, self.waited["agent"]
        )

    def _land(self, prepared: Prepared) -> Outcome:
        """The agent ran in a workspace of its own: its patch, applied on the green commit (which may have
        moved since the agent started), goes through the same gates and tests as an attempt made here."""
        from gitorch.vcs.git import GitError
        from gitorch.vcs.patch import apply_patch

        f = self.finding
        self.cost, self.waited["agent"] = prepared.cost, prepared.agent_s
        self._attempt_event(prepared.result)
        on = (
            ""
            if prepared.base == self.ws.green
            else f" on {self.ws.green[:10]}, made on {prepared.base[:10]}"
        )
        self.ctx.progress(f"  {f.severity} {f.location}: landing {self.agent}'s attempt {self.number}{on}")
        if prepared.patch.strip():
            try:
                apply_patch(self.tree.path, prepared.patch)
            except GitError as exc:
                self.tree.restore(self.ws.green)
                detail = f"the patch no longer applies on {self.ws.green[:10]}: {exc}"
                return Outcome("conflict", detail[:500], cost_usd=self.cost)
        if prepared.workspace_changes:
            self._workspace_changed_event(list(prepared.workspace_changes))
        return self._finish(prepared.result, list(prepared.workspace_changes), prepared.moved)

    def _finish(self, result: FixResult, workspace_changes: list[str], moved: str | None) -> Outcome:
        """The agent's changes in the worktree: staged, analysed, gated, tested, committed or rolled back."""
        self.tree.stage_all()
        patch = self.tree.staged_patch(self.ws.green)
        if not patch.strip():
            self.tree.restore(self.ws.green)
            kind = "cannot_fix" if result.status in ("cannot_fix", "unchanged") else "unchanged"
            return Outcome(kind, result.summary, cost_usd=self.cost)
        stats = analyze(patch)
        refused = self._gates(stats, patch, workspace_changes, moved)
        if refused is not None:
            return refused
        check = self._verify(stats, patch)
        if check is not None and check.decision != "pass":
            kind = "rejected" if check.decision == "reject" else "no_effect"
            reason = "rejected" if check.decision == "reject" else "no effect"
            self._roll_back("-" + kind.replace("_", "-"), patch, reason, check.reason(), stats)
            return Outcome(kind, check.reason(), cost_usd=self.cost)
        tests = self._run_tests()
        if not tests.passed and not (tests.no_tests and self.ctx.no_tests):
            self._roll_back("-tests-failed", patch, "tests failed", tests.brief(), stats, tests_ran=True)
            return Outcome(
                "failed_tests", tests.brief(), failure=tests.output, tests=tests.brief(), cost_usd=self.cost
            )
        refused = self._compare_tests(stats, patch, tests)
        if refused is not None:
            return refused
        sha = self._commit(stats, result, check)
        if check is not None and self.ctx.verifier is not None:
            self.ctx.verifier.committed(check)
        return Outcome(
            "committed",
            result.summary,
            commit=sha,
            tests=tests.brief(),
            tests_collected=None if tests.cases is None else len(tests.cases),
            tests_passing=tests.passing(),
            cost_usd=self.cost,
        )

    def _step(self) -> dict:
        """What every event of this attempt says about it (:class:`gitorch.loop.events.AttemptStep`)."""
        return {"iteration": self.ctx.iteration, "finding": self.finding.fingerprint, "agent": self.agent}

    def _check_workspace(self) -> None:
        """The branch must be at the green commit the attempt starts from: a commit would fail, and the
        HEAD repair after the agent call would move the branch back over commits this attempt never saw."""
        if self.tree.head_is(self.ws.branch, self.ws.green):
            return
        tip = self.tree.git.rev(f"refs/heads/{self.ws.branch}")
        if tip != self.ws.green:
            raise GitorchError(
                f"the run branch {self.ws.branch} is at {tip}, not at the attempt's green commit "
                f"{self.ws.green}: refusing to work on a stale workspace"
            )

    # the agent ------------------------------------------------------------------------------------

    def _guarded_call(self, *, record: bool = True) -> tuple[FixResult, list[str]]:
        """The agent call, contained; with what it changed (and gitorch put back) in the workspace's git
        directory. An external CLI runs in the run's sandbox, watched process by process
        (:class:`~gitorch.vcs.containment.Containment`); an agent that works inside gitorch's own process
        cannot be sandboxed, so the whole call is watched (the user's checkout too, unless it is confined).
        ``record`` False (a job's call, ``gitorch fix --jobs``): its ``attempt`` event is written when it
        lands, and its workspace's git directory is watched by :meth:`prepare` (the run's workspace is not
        this call's)."""
        containment = self.ctx.containment if record else None
        if containment is not None:
            containment.take_workspace_changes()
        spent_before = self.ctx.budget.thread_spent_usd
        t = time.monotonic()
        result = self._call_agent()
        self.waited["agent"] = time.monotonic() - t
        changes = containment.take_workspace_changes() if containment is not None else []
        self.cost = round(max(self.ctx.budget.thread_spent_usd - spent_before, 0.0), 6)
        if record:
            self._attempt_event(result)
            if changes:
                self._workspace_changed_event(changes)
        return result, changes

    def _attempt_event(self, result: FixResult) -> None:
        self.ctx.ledger.append(
            events.Attempt(
                iteration=self.ctx.iteration,
                phase=self.phase,
                finding=events.FindingBrief.of(self.finding),
                agent=self.agent,
                attempt=self.number,
                status=result.status,
                summary=result.summary[:500],
                cost_usd=self.cost,
                call_id=result.call_id,
            )
        )

    def _workspace_changed_event(self, changes: list[str]) -> None:
        self.ctx.ledger.append(
            events.GitDirChanged(iteration=self.ctx.iteration, agent=self.agent, changed=changes)
        )
        self.ctx.progress(
            f"    {self.agent} changed its workspace's git directory ({', '.join(changes[:5])}): "
            f"put back, and the attempt is rejected"
        )

    def _call_agent(self) -> FixResult:
        request = FixRequest(
            root=self.tree.path,
            finding=self.finding,
            config=self.ctx.config,
            path=self.ctx.path,
            attempt=self.number,
            failure=self.failure,
            budget_left_usd=round(self.ctx.budget.left_usd, 6),
            extra={"phase": self.phase, "session": self.ctx.session, "iteration": self.ctx.iteration},
        )
        spent_before = self.ctx.budget.thread_spent_usd
        calls = 0

        def call(agent) -> FixResult:
            nonlocal calls
            calls += 1
            if calls > 1:  # a retry starts from the green tree, not from the crashed call's half edit
                self.tree.restore(self.ws.green)
            with self._watch(agent):
                return agent.fix(request)

        try:
            # an AgentError (a crashed or timed-out call) is retried with a longer timeout; a fix the agent
            # reports as failed or that fails the tests is the loop's business, not a retry here
            result = call_with_fallback(
                [self.agent], self.ctx.agents.get, call, attempts=AGENT_CALL_ATTEMPTS, on_try=self._note_try
            )
        except (BudgetExceeded, KeyboardInterrupt, StopRun, ContainmentBreach):
            raise
        except GitorchError as exc:
            result = FixResult(status="failed", summary=str(exc))
        except Exception as exc:  # an agent's bug is that attempt's failure, not the run's
            result = FixResult(status="failed", summary=f"{type(exc).__name__}: {exc}")
        if self.ctx.budget.thread_spent_usd == spent_before and result.usage.cost_usd > 0:
            self.ctx.budget.charge(result.usage, f"{self.agent} fix")  # the agent did not charge its call
        return result

    def _watch(self, agent) -> contextlib.AbstractContextManager[None]:
        """Around one call of an agent that works inside gitorch's own process (no sandbox can hold it): the
        whole call watched, the user's checkout too unless the agent is confined. An external CLI's
        processes are watched one by one by the run's launch policy."""
        containment = self.ctx.containment
        if containment is None or getattr(agent, "runs_as_process", False):
            return contextlib.nullcontext()
        return containment.watching(
            f"{self.agent} (agent call)", checkout=not getattr(agent, "confined", True)
        )

    def _note_try(self, entry: Try) -> None:
        if not entry.ok:
            self.ctx.ledger.append(
                events.AgentTry(
                    agent=entry.agent, attempt=entry.attempt, error=entry.error, duration_s=entry.duration_s
                )
            )

    # the gates ------------------------------------------------------------------------------------

    def _gates(
        self, stats: DiffStats, patch: str, workspace_changes: list[str], moved: str | None
    ) -> Outcome | None:
        """Reject or confirm the diff; None when it may go on to the tests. ``workspace_changes``: what the
        agent changed in the workspace's git directory (put back already), which rejects it."""
        changed = list(workspace_changes)
        if moved:
            changed.append(moved)
        verdict = evaluate(
            stats,
            self.ctx.config,
            sentinel_changes=changed,
            root=self.tree.path,
            sources=self._sources(stats),
        )
        hits = list(verdict.hits) + dependency_hits(stats, self._texts)
        if self.feature is not None:
            hits.append(GateHit("feature", "confirm", f"new feature: {self.feature}"))
        confirm = [h for h in hits if h.decision == "confirm"]
        decision = "reject" if verdict.decision == "reject" else "confirm" if confirm else "pass"
        self._gate_event(decision, hits, stats.summary())
        if decision == "reject":
            detail = verdict.describe("reject")
            self._roll_back("-rejected", patch, "rejected", detail, stats)
            return Outcome("rejected", detail, cost_usd=self.cost)
        if decision == "confirm" and not self._approved(stats, confirm):
            self._roll_back("-declined", patch, "declined", "needs a human decision", stats)
            return Outcome("declined", "needs a human decision", cost_usd=self.cost)
        return None

    def _gate_event(self, decision: str, hits: list[GateHit], diff: dict | None = None) -> None:
        extra = {} if diff is None else {"diff": diff}
        self.ctx.ledger.append(
            events.Gate(
                **self._step(),
                decision=decision,
                hits=[events.HitRecord.of(h) for h in hits],
                **extra,
            )
        )

    def _approved(self, stats: DiffStats, hits: list[GateHit]) -> bool:
        f = self.finding
        question = (
            f"Accept {self.agent}'s fix of {f.severity} {f.location} "
            f"({len(stats.files)} files, +{stats.added} -{stats.removed})?"
        )
        self._stage("waiting for a human decision")
        t = time.monotonic()
        approved = self.ctx.confirm(question, hits, stats.summary(), self.ctx.iteration)
        self.waited["human"] = time.monotonic() - t
        return approved

    # the verification -----------------------------------------------------------------------------

    def _texts(self, path: str) -> tuple[str | None, str | None]:
        """``path`` at the green commit and in the worktree now (None: absent, binary or unreadable)."""
        done = self.tree.git.call("show", f"{self.ws.green}:{path}")
        before = done.stdout if done.ok else None
        target = self.tree.path / path
        after = None
        if target.is_file() and not target.is_symlink():
            try:
                after = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                after = None
        return before, after

    def _verify(self, stats: DiffStats, patch: str) -> Check | None:
        """The cheap gate and the re-audit of the touched files (None: the run has no verifier)."""
        verifier = self.ctx.verifier
        if verifier is None:
            return None
        self._stage("verifying the change (compile, import, re-audit of the touched files)")
        t = time.monotonic()
        check = verifier.verify(self.tree.path, self.ws.green, patch, stats, self.finding, self._texts)
        self.ctx.ledger.append(
            events.Verification(
                **self._step(),
                decision=check.decision,
                files=check.files,
                problems=check.problems,
                rechecked=check.rechecked,
                new=[events.FindingBrief.of(f) for f in check.new],
                closes=[f.fingerprint for f in check.closes],
                notes=check.notes,
                duration_s=round(time.monotonic() - t, 3),
            )
        )
        return check

    # the tests ------------------------------------------------------------------------------------

    def _sources(self, stats: DiffStats) -> Sources:
        """The texts before and after of the files the gates compare (test modules, pyproject.toml …)."""
        found: dict[str, tuple[str | None, str | None]] = {}
        for f in stats.files:
            for path in f.paths:
                if path in found or f.is_binary or not needs_source(path, self.ctx.config):
                    continue
                found[path] = self._texts(path)
        return found

    def _compare_tests(self, stats: DiffStats, patch: str, tests: TestOutcome) -> Outcome | None:
        """Every test that passed at the green commit must pass now: not fail, skip, xfail or vanish."""
        after = None if tests.cases is None else {c.id: c.outcome for c in tests.cases}
        hit = lost_tests(self.ctx.tests_passing, after)
        if hit is None:
            return None
        self._gate_event("reject", [hit])
        self._roll_back("-rejected", patch, "rejected", f"{hit.gate}: {hit.detail}", stats, tests_ran=True)
        return Outcome("rejected", f"{hit.gate}: {hit.detail}", tests=tests.brief(), cost_usd=self.cost)

    def _run_tests(self) -> TestOutcome:
        self._stage(f"running the tests ({self.ctx.test_command})")
        t = time.monotonic()
        tests = run_tests(
            self.tree.path, self.ctx.test_command, self.ctx.config.command_prefix, self._timeout()
        )
        self.waited["tests"] += time.monotonic() - t
        self.ctx.ledger.append(
            events.AttemptTests(
                **self._step(),
                passed=tests.passed,
                brief=tests.brief(),
                counts=tests.counts,
                duration_s=tests.duration_s,
                output=None if tests.passed else tests.output[-2000:],
            )
        )
        return tests

    def _timeout(self) -> float | None:
        return self.ctx.config.tests.timeout_s

    # the end --------------------------------------------------------------------------------------

    def _roll_back(
        self,
        suffix: str,
        patch: str,
        reason: str,
        detail: str,
        stats: DiffStats | None = None,
        *,
        tests_ran=False,
    ) -> None:
        """Put the worktree back on the green commit; the patch is kept in the ledger."""
        saved = self.ctx.ledger.save_patch(self.label + suffix, patch)
        if stats is None:
            self.tree.restore(self.ws.green)
        else:  # only what the attempt touched goes back (and what the tests touched, if they ran)
            in_green = sorted({p for f in stats.files if not f.is_new for p in [f.old_path or f.path]})
            self.tree.roll_back(self.ws.green, in_green, tests_ran=tests_ran)
        self.ctx.ledger.append(
            events.RollbackAttempt(
                iteration=self.ctx.iteration, reason=reason, detail=detail, patch=str(saved)
            )
        )
        self.ctx.progress(f"    rolled back ({reason}: {detail}); patch kept in {saved}")

    def _commit(self, stats: DiffStats, result: FixResult, check: Check | None = None) -> str:
        """Commit the staged diff on the green commit with ``Gitorch-*`` trailers; the branch moves now."""
        f = self.finding
        what = f.rule_id or f.description.split("\n")[0][:50]
        paths = [change.path for change in stats.files]
        where = f.location if f.file else paths[0] if len(paths) == 1 else f"{len(paths)} files"
        subject = f"gitorch: fix {f.severity} {what} in {where}"[:100]
        body = f.description.strip()
        closes = [] if check is None else check.closes
        if closes:
            gone = "\n".join(describe_closes(closes))
            body += f"\n\nThe re-audit of the touched files no longer reports:\n{gone}"
        if check is not None and check.dependencies:
            body += "\n\nDependencies: " + "; ".join(d.describe() for d in check.dependencies)
        if result.summary.strip():
            body += f"\n\n{self.agent}: {result.summary.strip()}"
        trailers = {
            "Gitorch-Session": self.ctx.session,
            "Gitorch-Iteration": str(self.ctx.iteration),
            "Gitorch-Dimension": f.dimension,
            "Gitorch-Finding": f.fingerprint,
            "Gitorch-Agent": self.agent,
            "Gitorch-Cost-USD": f"{self.cost:.4f}",
        }
        # the finding's text and the agent's summary may quote a secret: the branch may be pushed
        message = self.ctx.ledger.redactor.mask(f"{subject}\n\n{body}\n\n{format_trailers(trailers)}\n")
        containment = self.ctx.containment
        # NOTE: job calls (gitorch fix --jobs) may be running while a commit lands: the run branch moved
        # here is gitorch's own write, not theirs
        own = containment.own_writes([f"refs/heads/{self.ws.branch}"]) if containment else None
        with own or contextlib.nullcontext():
            sha = self.tree.commit_staged(self.ws.green, message, self.ws.branch, self.ctx.identity)
        self.ctx.ledger.append(
            events.Commit(
                iteration=self.ctx.iteration,
                phase=self.phase,
                sha=sha,
                subject=subject,
                agent=self.agent,
                finding=events.FindingBrief.of(f),
                cost_usd=self.cost,
                files=len(stats.files),
                added=stats.added,
                removed=stats.removed,
                paths=stats.touched,
                closes=[c.fingerprint for c in closes],
            )
        )
        self.tree.settle(sha)  # drop what the test run left behind
        self.ctx.progress(f"    committed {sha[:10]} ({subject})")
        return sha

    def _account(self, total: float, outcome: str) -> None:
        """Add the time to the phase clock, and record how the attempt ended."""
        overhead = max(0.0, total - sum(self.waited.values()))
        self.ctx.clock.add("test", self.waited["tests"])
        self.ctx.clock.add("overhead", overhead)
        self.ctx.ledger.append(
            events.AttemptEnd(
                **self._step(),
                attempt=self.number,
                outcome=outcome,
                overhead_s=round(overhead, 4),
                agent_s=round(self.waited["agent"], 3),
                tests_s=round(self.waited["tests"], 3),
                human_s=round(self.waited["human"], 3),
            )
        )
