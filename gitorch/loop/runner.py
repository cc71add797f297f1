"""The fix loop: discovery → audit → close gaps (P0, P1) → enhance (P2, P3) → develop → test → re-audit.

One run is one session, one branch ``gitorch/<session-id>`` and one linked worktree inside the git
directory. Each fix attempt goes: agent edits the worktree → staged diff against the last green
commit → unidiff analysis → gates → test command → commit with ``Gitorch-*`` trailers, or roll
back to the last green commit keeping the patch. The user's checkout is never touched.

The core API: :func:`start_run`, :func:`resume_run`, :func:`dry_run`. Nothing here knows about
terminals; the CLI passes a :class:`LoopUI` (progress lines, and how to ask a human).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitorch.agents.routing import Try, call_with_fallback
from gitorch.audit.discovery import discover
from gitorch.audit.run import agent_chain, choose_agent, make_agent, resolve_path, run_audit
from gitorch.config import Config
from gitorch.errors import GitorchError, UsageError
from gitorch.loop.gates import (
    GateHit,
    compare_sentinels,
    evaluate,
    fewer_tests,
    git_sentinels,
    is_test_file,
)
from gitorch.loop.ledger import Ledger, now_iso
from gitorch.loop.lock import RunLock
from gitorch.loop.session import (
    EXIT_CODES,
    FixOptions,
    SessionState,
    StopReason,
    ledger_for,
    load_session,
    new_session_id,
    worktree_path,
)
from gitorch.models import AgentContext, AuditRequest, AuditResult, Finding, FixRequest, FixResult, Severity
from gitorch.plugin.manager import Plugins
from gitorch.process.testrun import collect_count, is_pytest, run_tests
from gitorch.score import WEIGHTS
from gitorch.services.atomic import atomic_write
from gitorch.services.budget import Budget, BudgetExceeded
from gitorch.vcs.diff import analyze
from gitorch.vcs.git import (
    ARTIFACT_EXCLUDES,
    Git,
    Worktree,
    format_trailers,
    git_common_dir,
    gitorch_dir,
    identity_env,
    iteration_ref,
    run_branch,
    snapshot_dirty,
    update_ref,
)

AGENT_CALL_ATTEMPTS = 2  # tries of one agent call that raised AgentError (crash, timeout, bad output)


@dataclass
class LoopUI:
    """How the loop talks to a human: ``progress`` lines, and ``ask`` (None when there is no terminal)."""

    progress: Callable[[str], None] = lambda message: None
    ask: Callable[[str], bool] | None = None


class _Stop(Exception):
    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _excludes_file(root: Path) -> Path:
    path = gitorch_dir(root) / "exclude"
    text = (
        "# files tools and test runs leave behind; never part of a gitorch attempt\n"
        + "\n".join(ARTIFACT_EXCLUDES)
        + "\n"
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode())
    return path


def _weight(results: dict[str, AuditResult]) -> float:
    return sum(WEIGHTS[f.severity] for r in results.values() for f in r.findings)


def _counts(results: dict[str, AuditResult]) -> dict[str, int]:
    counts = dict.fromkeys((s.value for s in Severity), 0)
    for r in results.values():
        for f in r.findings:
            counts[f.severity.value] += 1
    return counts


def _finding_brief(f: Finding) -> dict:
    return {
        "fingerprint": f.fingerprint,
        "severity": f.severity.value,
        "dimension": f.dimension,
        "rule_id": f.rule_id,
        "location": f.location,
        "description": f.description[:200],
    }


class FixLoop:
    """One run of the loop over a session; :meth:`run` returns the final state."""

    def __init__(
        self,
        root: Path,
        config: Config,
        plugins: Plugins,
        state: SessionState,
        ledger: Ledger,
        worktree: Worktree,
        ui: LoopUI,
    ) -> None:
        self.root = root
        self.config = config
        self.plugins = plugins
        self.state = state
        self.ledger = ledger
        self.wt = worktree
        self.ui = ui
        self.options = state.options
        self.common_dir = git_common_dir(root)
        self.budget = Budget(self.options.budget_usd, state.cost_usd)
        self.context = self._make_context()
        self.results: dict[str, AuditResult] = {}
        self.ident = identity_env(Git(root))
        self._agents: dict[str, object] = {}
        self._extra_commits = 0
        self._available: dict[str, bool] = {}

    # services ------------------------------------------------------------------------------------

    def _make_context(self) -> AgentContext:
        from gitorch.services.recorder import Recorder
        from gitorch.services.redact import Redactor
        from gitorch.services.templates import Templates

        redactor = Redactor.for_repository(self.wt.path)
        if self.options.replay:
            recorder = Recorder(
                ledger_for(self.root, self.options.replay).calls_dir, mode="replay", redactor=redactor
            )
        else:
            recorder = Recorder(self.ledger.calls_dir, mode="record", redactor=redactor)
        parser = self.plugins.parser("markdown") if "markdown" in self.plugins.parsers() else None
        return AgentContext(
            recorder=recorder,
            budget=self.budget,
            redactor=redactor,
            parser=parser,
            templates=Templates(self.root, self.config.templates_dir, redactor=redactor),
        )

    def agent(self, name: str):
        if name not in self._agents:
            self._agents[name] = make_agent(self.plugins, name, self.config, self.context)
        return self._agents[name]

    def fix_chain(self, dimension: str) -> list[str]:
        """Agents that may fix ``dimension``, in the current strategy's order."""
        names = _fix_names(self.plugins, self.options, self.config, dimension)
        installed = self.plugins.agents()
        usable = []
        for name in dict.fromkeys(names):
            cls = installed.get(name)
            if cls is None or not cls.can_fix(dimension):
                continue
            if name not in self._available and self.options.replay:
                self._available[name] = True  # a replay runs no agent: nothing needs to be installed
            if name not in self._available:
                # ask the instance: its options (e.g. the binary to run) decide whether it can run here
                availability = self.agent(name).availability()
                self._available[name] = bool(availability)
                if not availability:
                    self.event("agent_unavailable", agent=name, reason=availability.reason)
            if self._available[name]:
                usable.append(name)
        if usable:
            shift = self.state.strategy % len(usable)
            usable = usable[shift:] + usable[:shift]
        return usable

    # bookkeeping ---------------------------------------------------------------------------------

    def event(self, type_: str, **data) -> None:
        self.ledger.append(type_, **data)

    def save(self) -> None:
        self.state.cost_usd = round(self.budget.spent_usd, 6)
        self.state.updated_at = now_iso()
        self.ledger.save(self.state)

    @contextmanager
    def phase(self, name: str, **data):
        """Time a phase; test runs and gitorch's own overhead inside it are counted apart, not twice."""
        started = time.monotonic()
        durations = self.state.phase_durations
        nested = durations.get("test", 0.0) + durations.get("overhead", 0.0)
        try:
            yield
        finally:
            inner = durations.get("test", 0.0) + durations.get("overhead", 0.0) - nested
            elapsed = round(max(0.0, time.monotonic() - started - inner), 3)
            durations[name] = round(durations.get(name, 0.0) + elapsed, 3)
            self.event("phase", name=name, duration_s=elapsed, iteration=self.state.iteration, **data)

    def _add_time(self, name: str, seconds: float) -> None:
        self.state.phase_durations[name] = round(self.state.phase_durations.get(name, 0.0) + seconds, 3)

    # the run -------------------------------------------------------------------------------------

    def run(self) -> SessionState:
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_DFL, None):
            with contextlib.suppress(ValueError):  # only the main thread may set handlers
                signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self._run()
        except _Stop as stop:
            self._finish(stop.reason, stop.detail)
        except BudgetExceeded as exc:
            self._recover()
            self._finish("budget", str(exc))
        except KeyboardInterrupt:
            with _ignoring_sigint():
                self._recover()
                self._finish("interrupted", "interrupted (Ctrl-C); `gitorch resume` continues the run")
        except GitorchError as exc:
            self._recover()
            self._finish("error", str(exc))
        except Exception as exc:
            self._recover()
            self.event("error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            self._finish("error", f"{type(exc).__name__}: {exc}")
        finally:
            if previous in (signal.SIG_DFL, None):
                with contextlib.suppress(ValueError):
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
            RunLock(self.root).release(self.state.id)
        return self.state

    def _finish(self, reason: StopReason, detail: str) -> None:
        self.state.status = (
            "interrupted" if reason == "interrupted" else "failed" if reason == "error" else "finished"
        )
        self.state.stop_reason = reason
        self.state.stop_detail = detail
        self.state.exit_code = EXIT_CODES[reason]
        self.state.ended_at = now_iso()
        self.event(
            "stop",
            reason=reason,
            detail=detail,
            exit_code=self.state.exit_code,
            scores=self.state.scores,
            cost_usd=round(self.budget.spent_usd, 6),
        )
        self.save()
        self.ui.progress(f"stopped: {reason} — {detail}")

    def _recover(self) -> None:
        """Put the worktree back on the last green commit, keeping any half-done attempt as a patch."""
        try:
            self._reconcile_green()
            self.wt.reattach(self.state.branch)
            self.wt.git.run("reset", "-q", "--soft", self.state.green_commit)
            self.wt.stage_all()
            patch = self.wt.staged_patch(self.state.green_commit)
            if patch.strip():
                saved = self.ledger.save_patch(f"iter{self.state.iteration}-interrupted", patch)
                self.event("rollback_attempt", reason="interrupted", patch=str(saved))
            self.wt.restore(self.state.green_commit)
        except Exception as exc:  # recovery is best effort; resume does it again
            self.event("error", error=f"recovery failed: {type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            self.save()

    def _reconcile_green(self) -> None:
        """A commit whose ledger event was lost (a kill between ``update-ref`` and the event) is still green:
        the branch only ever moves after the tests passed."""
        tip = self.wt.git.rev(f"refs/heads/{self.state.branch}")
        if tip and tip != self.state.green_commit:
            self.event("reconciled", green=tip, previous=self.state.green_commit)
            self.state.green_commit = tip

    def _warn_unfixable(self) -> None:
        for dim in self.options.dimensions:
            if not self.fix_chain(dim):
                chain = _fix_names(self.plugins, self.options, self.config, dim)
                self.event("no_fixer", dimension=dim, chain=chain)
                self.ui.progress(
                    f"note: no available agent can fix {dim} (fix chain {chain}); its findings stay open "
                    f"(set [routing.{dim}] fix = [...] or use --agent)"
                )

    def _run(self) -> None:
        st = self.state
        self._warn_unfixable()
        if not st.discovery:
            with self.phase("discovery"):
                facts = discover(self.wt.path, self.options.path, self.config)
                st.discovery = facts.as_dict()
                if facts.module_name == self.wt.path.name:  # the worktree's name is the session id
                    st.discovery["module_name"] = Path(st.repo_root).name
            self.event("discovery", **st.discovery)
            self.ui.progress(
                f"discovery: {st.discovery['module_name']} — {facts.files} files, {facts.loc} lines of code"
            )
        initial = not st.initial_scores
        with self.phase("audit" if initial else "re_audit"):
            self._audit(kind="initial" if initial else "resume")
        if initial:
            st.initial_scores = dict(st.scores)
            st.initial_counts = dict(st.counts)
        self.save()
        self._baseline_tests()
        while True:
            feature_pending = bool(self.options.feature) and not st.feature_done
            if self._target_reached() and not feature_pending:
                raise _Stop("target", f"every dimension at {self.options.target_score:g} or above")
            if st.iterations_done >= self.options.max_iterations:
                raise _Stop("iterations", f"iteration cap reached ({self.options.max_iterations})")
            self._stop_if_budget_spent()
            self._iteration(st.iterations_done + 1)

    def _target_reached(self) -> bool:
        scores = [s for s in self.state.scores.values()]
        return bool(scores) and all(s is not None and s >= self.options.target_score for s in scores)

    def _audit(self, kind: str) -> None:
        for dim in self.options.dimensions:
            result = run_audit(
                self.wt.path, dim, self.config, self.plugins, path=self.options.path, context=self.context
            )
            self.results[dim] = result
            self.state.scores[dim] = result.score
            self.event(
                "audit",
                kind=kind,
                iteration=self.state.iteration,
                dimension=dim,
                agent=result.agent,
                score=result.score,
                counts={k.value: v for k, v in result.counts.items()},
                findings=[_finding_brief(f) for f in result.findings],
                duration_s=result.duration_s,
                cost_usd=result.usage.cost_usd,
            )
            self.ui.progress(f"{kind} audit {dim}: score {result.score} ({len(result.findings)} findings)")
        self.state.counts = _counts(self.results)
        # analyzers may leave files behind; the next attempt's diff must hold only the agent's edits
        self.wt.restore(self.state.green_commit)

    def _baseline_tests(self) -> None:
        command = self.options.test_command
        with self.phase("test", kind="baseline"):
            outcome = run_tests(
                self.wt.path, command, self.config.command_prefix, self.config.tests.timeout_s
            )
            collected = (
                collect_count(self.wt.path, command, self.config.command_prefix, self.config.tests.timeout_s)
                if is_pytest(command)
                else None
            )
        self.wt.restore(self.state.green_commit)
        self.state.tests_collected = collected
        self.state.last_tests = outcome.brief()
        self.event(
            "tests",
            kind="baseline",
            passed=outcome.passed,
            brief=outcome.brief(),
            counts=outcome.counts,
            collected=collected,
            duration_s=outcome.duration_s,
            output=None if outcome.passed else outcome.output[-2000:],
        )
        self.save()
        if not outcome.passed:
            raise _Stop(
                "needs_human",
                f"the test command fails before any change ({outcome.brief()}): "
                f"fix the tests or give the right one with --test-cmd",
            )

    # one iteration -------------------------------------------------------------------------------

    def _plan(self) -> tuple[str, list[tuple[Finding, list[str]]], str]:
        """(phase, [(finding, agents to try)], why) for the next iteration."""
        failed = self.state.failed_agents

        def agents_for(f: Finding, chain: list[str] | None = None) -> list[str]:
            names = self.fix_chain(f.dimension) if chain is None else chain
            return [n for n in names if n not in failed.get(f.fingerprint, [])]

        open_findings = [f for r in self.results.values() for f in r.findings]
        reverse = self.state.strategy % 2 == 1
        deterministic = self._deterministic_fixes(open_findings)
        plan: list[tuple[Finding, list[str]]] = [(f, agents_for(f, ["local"])) for f in deterministic]
        gaps = [f for f in open_findings if f.severity <= Severity.P1]
        gaps_todo = [(f, a) for f in gaps if (a := agents_for(f))]
        if gaps_todo:
            phase, why, todo = "close_gaps", "P0/P1 findings open", gaps_todo
        else:
            enh = [f for f in open_findings if Severity.P2 <= f.severity <= Severity.P3]
            todo = [(f, a) for f in enh if (a := agents_for(f))]
            phase = "enhance"
            if gaps:
                why = f"{len(gaps)} P0/P1 finding(s) left are beyond every available agent; going on to P2/P3"
            elif all((s or 0) >= self.config.min_acceptable_score for s in self.state.scores.values()):
                why = "score at or above min_acceptable_score"
            else:
                why = "no P0/P1 finding left"
        todo.sort(key=lambda item: item[0].severity.rank)
        if reverse:  # another order of findings: the same severities, the other way round
            todo = sorted(reversed(todo), key=lambda item: item[0].severity.rank)
        plan += [item for item in todo if item[1]]
        return phase, [item for item in plan if item[1]], why

    def _deterministic_fixes(self, open_findings: list[Finding]) -> list[Finding]:
        """Safe fixes the embedded agent offers beyond the audit's findings: worth applying in any phase."""
        cls = self.plugins.agents().get("local")
        if (
            cls is None
            or not hasattr(cls, "deterministic_fixes")
            or self.options.agent not in (None, "local")
        ):
            return []
        known = {f.fingerprint for f in open_findings}
        found: list[Finding] = []
        agent = self.agent("local")
        for dim in self.options.dimensions:
            if not cls.can_fix(dim):
                continue
            request = AuditRequest(
                root=self.wt.path,
                dimension=self.plugins.dimension(dim),
                config=self.config,
                path=self.options.path,
            )
            try:
                found += [f for f in agent.deterministic_fixes(request) if f.fingerprint not in known]
            except GitorchError as exc:
                self.event("error", error=f"deterministic fixes for {dim}: {exc}")
        self.wt.restore(self.state.green_commit)
        return found

    def _iteration(self, n: int) -> None:
        st = self.state
        st.iteration = n
        phase, plan, why = self._plan()
        develop = bool(self.options.feature) and not st.feature_done and phase == "enhance"
        if not plan and not develop:
            reason: StopReason = "needs_human" if st.declined else "stalled"
            detail = "no finding left that an available agent can fix"
            if st.declined:
                detail += (
                    f"; {len(st.declined)} attempt(s) need a human decision (run again with --yes, or review)"
                )
            raise _Stop(reason, detail)
        before = dict(st.scores)
        weight_before = _weight(self.results)
        commits_before = st.commits
        self.event(
            "iteration_start",
            iteration=n,
            phase=phase,
            why=why,
            candidates=len(plan),
            strategy=st.strategy,
            scores=before,
        )
        self.ui.progress(f"iteration {n}: {phase} — {len(plan)} finding(s) to attempt ({why})")
        self._extra_commits = 0
        audited = {f.fingerprint for r in self.results.values() for f in r.findings}
        with self.phase(phase):
            for finding, agents in plan:
                if self._fix_finding(finding, agents, phase) and finding.fingerprint not in audited:
                    self._extra_commits += 1
        if develop:
            with self.phase("develop"):
                self._develop()
        with self.phase("re_audit"):
            self._audit(kind="re-audit")
        update_ref(
            self.root, iteration_ref(st.id, n), st.green_commit, message=f"gitorch: end of iteration {n}"
        )
        # A commit counts as progress only when the re-audit agrees (its finding is gone), or when it is a
        # safe deterministic fix that matched no finding; an agent committing changes that fix nothing stalls.
        improved = (
            _weight(self.results) < weight_before
            or self._extra_commits > 0
            or any((st.scores.get(d) or 0) > (before.get(d) or 0) for d in st.scores)
        )
        st.iterations_done = n
        if improved:
            st.no_progress = 0
        else:
            st.no_progress += 1
            st.strategy += 1
            self.event(
                "strategy_change",
                iteration=n,
                strategy=st.strategy,
                order="reversed" if st.strategy % 2 else "severity",
            )
        self.event(
            "iteration_end",
            iteration=n,
            phase=phase,
            scores_before=before,
            scores_after=dict(st.scores),
            commits=st.commits - commits_before,
            improved=improved,
            green=st.green_commit,
            cost_usd=round(self.budget.spent_usd, 6),
        )
        self.save()
        self.ui.progress(f"iteration {n} done: {st.commits - commits_before} commit(s), scores {st.scores}")
        if st.no_progress >= self.config.stall_iterations:
            raise _Stop(
                "stalled",
                f"{st.no_progress} iterations in a row without improvement, strategy changed each time",
            )

    def _fix_finding(
        self, finding: Finding, agents: list[str], phase: str, *, force_confirm: str | None = None
    ) -> bool:
        for name in agents:
            outcome = self._attempt(finding, name, phase, force_confirm=force_confirm)
            if outcome == "committed":
                return True
            self.state.failed_agents.setdefault(finding.fingerprint, []).append(name)
            if outcome == "declined" and finding.fingerprint not in self.state.declined:
                self.state.declined.append(finding.fingerprint)
            self.save()
            if outcome not in ("cannot_fix", "unchanged"):
                return False  # a costly failure: the next iteration (maybe another strategy) tries again
        return False

    def _develop(self) -> None:
        st = self.state
        st.feature_done = True
        feature = self.options.feature or ""
        if not self._confirm(
            f"Develop the feature {feature!r}?", [GateHit("feature", "confirm", feature)], None
        ):
            self.event("develop", feature=feature, approved=False)
            return
        dim = self.options.dimensions[0]
        finding = Finding(
            dimension=dim,
            severity=Severity.P2,
            description=f"Feature request: {feature}",
            rule_id="feature",
            source="user",
        )
        self.event("develop", feature=feature, approved=True)
        self._fix_finding(finding, self.fix_chain(dim), "develop", force_confirm=feature)

    # one attempt ---------------------------------------------------------------------------------

    def _attempt(
        self, finding: Finding, agent_name: str, phase: str, *, force_confirm: str | None = None
    ) -> str:
        """Attempts at one finding with one agent: the first, then retries with the failure output."""
        failure: str | None = None
        outcome = "failed"
        for attempt_no in range(1, self.config.tests.retries + 2):
            outcome, failure = self._one_attempt(
                finding, agent_name, phase, attempt_no, failure, force_confirm
            )
            if outcome != "failed_tests":
                return outcome
        return outcome

    def _one_attempt(
        self,
        finding: Finding,
        agent_name: str,
        phase: str,
        attempt_no: int,
        failure: str | None,
        force_confirm: str | None,
    ) -> tuple[str, str | None]:
        """Agent → staged diff → analysis → gates → tests → commit or roll back. Times spent waiting on the
        agent, the tests and a human are measured apart; the rest is gitorch's own overhead."""
        st = self.state
        self._stop_if_budget_spent()
        st.attempts += 1
        started = time.monotonic()
        waited = {"agent": 0.0, "tests": 0.0, "human": 0.0}
        outcome = "failed"
        try:
            label = f"iter{st.iteration}-{finding.fingerprint[:10]}-{agent_name}-{attempt_no}"
            self.ui.progress(f"  {finding.severity} {finding.location}: {agent_name} attempt {attempt_no}")
            sentinels = git_sentinels(self.common_dir, self.wt.path)
            watch = self._watch_checkout(agent_name, label)
            spent_before = self.budget.spent_usd
            t = time.monotonic()
            result = self._call_fix(finding, agent_name, attempt_no, failure, phase)
            waited["agent"] = time.monotonic() - t
            if watch is not None:
                self._check_checkout(watch, agent_name, label)
            cost = round(max(self.budget.spent_usd - spent_before, 0.0), 6)
            self.event(
                "attempt",
                iteration=st.iteration,
                phase=phase,
                finding=_finding_brief(finding),
                agent=agent_name,
                attempt=attempt_no,
                status=result.status,
                summary=result.summary[:500],
                cost_usd=cost,
                call_id=result.call_id,
            )
            moved = self._bring_back_head()
            self.wt.stage_all()
            patch = self.wt.staged_patch(st.green_commit)
            if not patch.strip():
                self.wt.restore(st.green_commit)
                outcome = "cannot_fix" if result.status in ("cannot_fix", "unchanged") else "unchanged"
                return outcome, None
            stats = analyze(patch)
            changed = compare_sentinels(sentinels, git_sentinels(self.common_dir, self.wt.path))
            if changed:  # outside the worktree: rejected, but not gitorch's to undo; the user must look
                self.event("git_dir_changed", iteration=st.iteration, agent=agent_name, changed=changed)
                self.ui.progress(
                    f"    WARNING: {agent_name} changed {', '.join(changed)} in {self.common_dir}; "
                    f"the attempt is rejected, but check those changes yourself"
                )
            if moved:
                changed.append(moved)
            verdict = evaluate(stats, self.config, sentinel_changes=changed, root=self.wt.path)
            hits = list(verdict.hits)
            if force_confirm is not None:
                hits.append(GateHit("feature", "confirm", f"new feature: {force_confirm}"))
            decision = (
                "reject"
                if verdict.decision == "reject"
                else "confirm"
                if any(h.decision == "confirm" for h in hits)
                else "pass"
            )
            self.event(
                "gate",
                iteration=st.iteration,
                finding=finding.fingerprint,
                agent=agent_name,
                decision=decision,
                hits=[h.__dict__ for h in hits],
                diff=stats.summary(),
            )
            if decision == "reject":
                self._roll_back(label + "-rejected", patch, "rejected", verdict.describe("reject"), stats)
                outcome = "rejected"
                return outcome, None
            if decision == "confirm":
                question = (
                    f"Accept {agent_name}'s fix of {finding.severity} {finding.location} "
                    f"({len(stats.files)} files, +{stats.added} -{stats.removed})?"
                )
                t = time.monotonic()
                approved = self._confirm(
                    question, [h for h in hits if h.decision == "confirm"], stats.summary()
                )
                waited["human"] = time.monotonic() - t
                if not approved:
                    self._roll_back(label + "-declined", patch, "declined", "needs a human decision", stats)
                    outcome = "declined"
                    return outcome, None
            touches_tests = st.tests_collected is not None and any(
                is_test_file(p, self.config) for p in stats.touched
            )
            after = None
            if touches_tests:
                t = time.monotonic()
                after = collect_count(
                    self.wt.path,
                    self.options.test_command,
                    self.config.command_prefix,
                    self.config.tests.timeout_s,
                )
                waited["tests"] += time.monotonic() - t
                hit = fewer_tests(st.tests_collected, after) if after is not None else None
                if hit is not None:
                    self.event(
                        "gate",
                        iteration=st.iteration,
                        finding=finding.fingerprint,
                        agent=agent_name,
                        decision="reject",
                        hits=[hit.__dict__],
                    )
                    self._roll_back(label + "-rejected", patch, "rejected", f"{hit.gate}: {hit.detail}")
                    outcome = "rejected"
                    return outcome, None
            t = time.monotonic()
            tests = run_tests(
                self.wt.path,
                self.options.test_command,
                self.config.command_prefix,
                self.config.tests.timeout_s,
            )
            waited["tests"] += time.monotonic() - t
            st.last_tests = tests.brief()
            self.event(
                "tests",
                kind="attempt",
                iteration=st.iteration,
                finding=finding.fingerprint,
                agent=agent_name,
                passed=tests.passed,
                brief=tests.brief(),
                counts=tests.counts,
                duration_s=tests.duration_s,
                output=None if tests.passed else tests.output[-2000:],
            )
            if not tests.passed:
                self._roll_back(
                    label + "-tests-failed", patch, "tests failed", tests.brief(), stats, tests_ran=True
                )
                outcome = "failed_tests"
                return outcome, tests.output
            self._commit(finding, agent_name, phase, stats, cost, result)
            if touches_tests and after is not None:
                st.tests_collected = after  # the new baseline: tests added by this fix count from now on
            outcome = "committed"
            return outcome, None
        finally:
            total = time.monotonic() - started
            overhead = max(0.0, total - sum(waited.values()))
            self._add_time("test", waited["tests"])
            self._add_time("overhead", overhead)
            self.event(
                "attempt_end",
                iteration=st.iteration,
                finding=finding.fingerprint,
                agent=agent_name,
                attempt=attempt_no,
                outcome=outcome,
                overhead_s=round(overhead, 4),
                agent_s=round(waited["agent"], 3),
                tests_s=round(waited["tests"], 3),
                human_s=round(waited["human"], 3),
            )

    def _call_fix(
        self, finding: Finding, agent_name: str, attempt_no: int, failure: str | None, phase: str
    ) -> FixResult:
        request = FixRequest(
            root=self.wt.path,
            finding=finding,
            config=self.config,
            path=self.options.path,
            attempt=attempt_no,
            failure=failure,
            budget_left_usd=round(self.budget.left_usd, 6),
            extra={"phase": phase, "session": self.state.id, "iteration": self.state.iteration},
        )
        spent_before = self.budget.spent_usd

        calls = 0

        def call(agent) -> FixResult:
            nonlocal calls
            calls += 1
            if calls > 1:  # a retry starts from the green tree, not from the crashed call's half edit
                self.wt.restore(self.state.green_commit)
            return agent.fix(request)

        def note(entry: Try) -> None:
            if not entry.ok:
                self.event(
                    "agent_try",
                    agent=entry.agent,
                    attempt=entry.attempt,
                    error=entry.error,
                    duration_s=entry.duration_s,
                )

        try:
            # an AgentError (a crashed or timed-out call) is retried with a longer timeout; a fix the agent
            # reports as failed or that fails the tests is the loop's business, not a retry here
            result = call_with_fallback(
                [agent_name], self.agent, call, attempts=AGENT_CALL_ATTEMPTS, on_try=note
            )
        except (BudgetExceeded, KeyboardInterrupt, _Stop):
            raise
        except GitorchError as exc:
            result = FixResult(status="failed", summary=str(exc))
        except Exception as exc:  # an agent's bug is that attempt's failure, not the run's
            result = FixResult(status="failed", summary=f"{type(exc).__name__}: {exc}")
        if self.budget.spent_usd == spent_before and result.usage.cost_usd > 0:
            self.budget.charge(result.usage, f"{agent_name} fix")  # the agent did not charge its own call
        return result

    def _stop_if_budget_spent(self) -> None:
        if self.budget.spent_usd > 0 and self.budget.left_usd <= 0:
            raise _Stop(
                "budget", f"budget spent (${self.budget.spent_usd:.4f} of ${self.options.budget_usd:.2f})"
            )

    def _watch_checkout(self, agent_name: str, label: str):
        """A snapshot (and a backup of the uncommitted files) of the user's checkout, taken before an
        agent that gitorch cannot confine to the worktree runs; None for agents that are confined."""
        cls = self.plugins.agents().get(agent_name)
        if cls is None or getattr(cls, "confined", True) or self.options.replay:
            return None
        from gitorch.vcs.guard import snapshot

        return snapshot(self.root, self.ledger.dir / "checkout-backups" / label)

    def _check_checkout(self, before, agent_name: str, label: str) -> None:
        """Stop the run when the user's checkout changed while the agent ran (see gitorch.vcs.guard)."""
        from gitorch.vcs.guard import changes_since

        changed = changes_since(self.root, before)
        if not changed:
            if before.backup is not None:
                shutil.rmtree(before.backup, ignore_errors=True)  # nothing to restore from
            return
        self.wt.stage_all()
        patch = self.wt.staged_patch(self.state.green_commit)
        self._roll_back(label + "-checkout", patch, "rejected", "the user's checkout changed during the call")
        backup = ""
        if before.backup:
            backup = f"; copies of your uncommitted files from before the call: {before.backup}"
        self.event("checkout_changed", agent=agent_name, changed=changed, backup=str(before.backup or ""))
        raise _Stop(
            "needs_human",
            f"your checkout changed while {agent_name} ran ({', '.join(changed[:10])}): gitorch stopped the "
            f"run. If you did not change those files, the agent wrote outside its worktree; "
            f"`git diff` shows it, `git checkout -- FILE` restores a file that was committed{backup}",
        )

    def _bring_back_head(self) -> str | None:
        """An agent that committed, switched branch or detached HEAD in the worktree: undo the move, keep
        its edits (staged), and say what happened (a gate reason)."""
        st = self.state
        if self.wt.head_is(st.branch, st.green_commit):  # the usual case, read without running git
            return None
        symbolic = self.wt.symbolic_head()
        head = self.wt.git.rev("HEAD")
        tip = self.wt.git.rev(f"refs/heads/{st.branch}")
        self.wt.reattach(st.branch)
        if tip != st.green_commit:
            update_ref(
                self.root, f"refs/heads/{st.branch}", st.green_commit, message="gitorch: undo agent move"
            )
        self.wt.git.run("reset", "-q", "--soft", st.green_commit)
        what = f"HEAD (agent left it at {symbolic or head})"
        self.event("agent_moved_head", symbolic=symbolic, head=head, branch_tip=tip)
        return what

    def _roll_back(
        self, label: str, patch: str, reason: str, detail: str, stats=None, *, tests_ran: bool = False
    ) -> None:
        saved = self.ledger.save_patch(label, patch)
        if stats is None:
            self.wt.restore(self.state.green_commit)
        else:  # only what the attempt touched goes back (and what the tests touched, if they ran)
            in_green = sorted({p for f in stats.files if not f.is_new for p in [f.old_path or f.path]})
            self.wt.roll_back(self.state.green_commit, in_green, tests_ran=tests_ran)
        self.event(
            "rollback_attempt", iteration=self.state.iteration, reason=reason, detail=detail, patch=str(saved)
        )
        self.ui.progress(f"    rolled back ({reason}: {detail}); patch kept in {saved}")

    def _confirm(self, question: str, hits: list[GateHit], diff: dict | None) -> bool:
        if self.options.yes:
            answer, how = True, "--yes"
        elif self.ui.ask is None:
            answer, how = False, "declined: no terminal and no --yes"
        else:
            reasons = "; ".join(f"{h.gate}: {h.detail}" for h in hits)
            answer, how = bool(self.ui.ask(f"{question}\n  ({reasons})")), "prompt"
        self.event(
            "confirmation",
            iteration=self.state.iteration,
            question=question,
            reasons=[h.__dict__ for h in hits],
            answer=answer,
            how=how,
            diff=diff,
        )
        return answer

    def _commit(
        self, finding: Finding, agent_name: str, phase: str, stats, cost: float, result: FixResult
    ) -> None:
        st = self.state
        what = finding.rule_id or finding.description.split("\n")[0][:50]
        subject = f"gitorch: fix {finding.severity} {what} in {finding.location}"[:100]
        body = finding.description.strip()
        if result.summary.strip():
            body += f"\n\n{agent_name}: {result.summary.strip()}"
        trailers = {
            "Gitorch-Session": st.id,
            "Gitorch-Iteration": str(st.iteration),
            "Gitorch-Dimension": finding.dimension,
            "Gitorch-Finding": finding.fingerprint,
            "Gitorch-Agent": agent_name,
            "Gitorch-Cost-USD": f"{cost:.4f}",
        }
        message = f"{subject}\n\n{body}\n\n{format_trailers(trailers)}\n"
        sha = self.wt.commit_staged(st.green_commit, message, st.branch, self.ident)
        st.green_commit = sha
        st.commits += 1
        self.event(
            "commit",
            iteration=st.iteration,
            phase=phase,
            sha=sha,
            subject=subject,
            agent=agent_name,
            finding=_finding_brief(finding),
            cost_usd=cost,
            files=len(stats.files),
            added=stats.added,
            removed=stats.removed,
            paths=stats.touched,
        )
        self.save()
        self.wt.settle(sha)  # drop what the test run left behind
        self.ui.progress(f"    committed {sha[:10]} ({subject})")


def _raise_interrupt(signum, frame):  # SIGTERM stops like Ctrl-C
    raise KeyboardInterrupt


@contextmanager
def _ignoring_sigint():
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --------------------------------------------------------------------------------------------------
# Entry points.


def _check_request(root: Path, config: Config, plugins: Plugins, options: FixOptions) -> None:
    if not options.dimensions:
        raise UsageError("no dimension to fix (use --dim or --all)")
    for dim in options.dimensions:
        plugins.dimension(dim)
        choose_agent(plugins, dim, config)  # no auditor for a dimension: say so before anything is created
    options.path = resolve_path(root, options.path)
    if options.agent is not None:
        cls = plugins.agent_class(options.agent)
        unable = [d for d in options.dimensions if not cls.can_fix(d)]
        if unable:
            raise UsageError(f"agent {options.agent!r} cannot fix {', '.join(unable)}")
    if options.replay is not None:
        state, _ = load_session(root, options.replay)
        options.replay = state.id


def _fix_names(plugins: Plugins, options: FixOptions, config: Config, dimension: str) -> list[str]:
    """The agents asked to fix ``dimension``: ``--agent``, or the routing chain."""
    return [options.agent] if options.agent else agent_chain(plugins, config, "fix", dimension)


def _worktree_in_cache(config: Config, plugins: Plugins, options: FixOptions) -> bool:
    """Whether the run's worktree goes to the user cache directory rather than the git directory.

    NOTE: Claude Code refuses, in acceptEdits mode, any edit under a ``.git`` path ("a sensitive
    file"), so a run that may use such an agent works outside the git directory (``auto``).
    """
    if config.worktree_location != "auto":
        return config.worktree_location == "cache"
    names = [name for dim in options.dimensions for name in _fix_names(plugins, options, config, dim)]
    agents = plugins.agents()
    return any(not getattr(agents[name], "edits_under_git_dir", True) for name in names if name in agents)


def start_run(
    root: Path, config: Config, plugins: Plugins, options: FixOptions, ui: LoopUI | None = None
) -> SessionState | None:
    """Create a session (branch, worktree, ledger) and run the loop to its end (None for a dry run)."""
    ui = ui or LoopUI()
    _check_request(root, config, plugins, options)
    git = Git(root)
    base = git.rev(options.base)
    if base is None and options.base == "HEAD":
        raise UsageError("the repository has no commit yet; commit something for gitorch to start from")
    if base is None:
        raise UsageError(f"--base {options.base!r} is not a commit in this repository")
    if options.dry_run:
        dry_run(root, config, plugins, options, base, ui)
        return None
    session_id = new_session_id()
    lock = RunLock(root)
    lock.acquire(session_id)
    try:
        ledger = ledger_for(root, session_id).create()
        excludes = _excludes_file(root)
        start = base
        snapshot = None
        if options.include_dirty:
            stash = snapshot_dirty(root)
            if stash is not None:
                tree = git.run("rev-parse", f"{stash}^{{tree}}").strip()
                message = (
                    f"gitorch: snapshot of uncommitted work\n\n(git stash create {stash})\n\n"
                    + format_trailers({"Gitorch-Session": session_id, "Gitorch-Iteration": "0"})
                    + "\n"
                )
                start = git.run(
                    "commit-tree", tree, "-p", base, "-F", "-", input=message.encode(), env=identity_env(git)
                ).strip()
                snapshot = start
        branch = run_branch(session_id)
        path = worktree_path(root, session_id, _worktree_in_cache(config, plugins, options))
        worktree = Worktree.create(root, path, branch, start, excludes)
        update_ref(root, iteration_ref(session_id, 0), start, message="gitorch: start")
        state = SessionState(
            id=session_id,
            repo_root=str(root),
            worktree=str(path),
            branch=branch,
            base_commit=base,
            green_commit=start,
            snapshot_commit=snapshot,
            options=options,
        )
        ledger.save(state)
        ledger.append(
            "session_start",
            options=options.model_dump(),
            base=base,
            branch=branch,
            worktree=str(path),
            snapshot=snapshot,
        )
        ui.progress(f"session {session_id}: branch {branch}, worktree {path}")
    except BaseException:
        lock.release(session_id)
        raise
    return FixLoop(root, config, plugins, state, ledger, worktree, ui).run()


def resume_run(
    root: Path,
    config: Config,
    plugins: Plugins,
    session_id: str | None = None,
    *,
    budget_usd: float | None = None,
    yes: bool | None = None,
    ui: LoopUI | None = None,
) -> SessionState:
    """Continue a run stopped by a crash, Ctrl-C, a cap or the budget, from its ledger."""
    ui = ui or LoopUI()
    state, ledger = load_session(root, session_id)
    if state.stop_reason == "target" and not state.rollbacks:
        raise UsageError(f"session {state.id} already reached its target; nothing to resume")
    lock = RunLock(root)
    note = lock.acquire(state.id, take_over_stale_of=state.id)
    try:
        if note:
            ui.progress(note)
        previous = {"status": state.status, "stop_reason": state.stop_reason, "pid": state.pid}
        if budget_usd is not None:
            state.options.budget_usd = budget_usd
        if yes is not None:
            state.options.yes = yes
        if state.stop_reason == "iterations" and state.iterations_done >= state.options.max_iterations:
            raise UsageError(
                f"session {state.id} used its {state.options.max_iterations} iterations; "
                f"nothing to resume (start a new run, or raise max_iterations in the configuration)"
            )
        state.status, state.stop_reason, state.stop_detail, state.exit_code, state.ended_at = (
            "running",
            None,
            "",
            None,
            None,
        )
        state.pid = os.getpid()
        state.no_progress = 0
        state.failed_agents = {}
        state.declined = []
        worktree = Worktree.attach(root, Path(state.worktree), state.branch, _excludes_file(root))
        ledger.append("resume", previous=previous, lock_note=note, budget_usd=state.options.budget_usd)
        if note:  # the previous process died: git lock files it held are stale too
            removed = worktree.clear_stale_locks(
                git_common_dir(root), state.branch, f"refs/gitorch/{state.id}"
            )
            if removed:
                ledger.append("stale_git_locks_removed", paths=removed)
        loop = FixLoop(root, config, plugins, state, ledger, worktree, ui)
        loop._recover()
    except BaseException:
        lock.release(state.id)
        raise
    return loop.run()


def dry_run(root: Path, config: Config, plugins: Plugins, options: FixOptions, base: str, ui: LoopUI) -> None:
    """What a run would do, changing nothing: discovery, the agents' dry-run audits and fixes, in a
    throwaway detached worktree."""
    import tempfile

    git = Git(root)
    with tempfile.TemporaryDirectory(prefix="gitorch-dry-run-") as tmp:
        path = Path(tmp) / "gitorch" / "worktrees" / "dry-run"
        path.parent.mkdir(parents=True)
        git.run("worktree", "add", "-q", "--detach", str(path), base)
        try:
            facts = discover(path, options.path, config)
            ui.progress(f"discovery: {facts.module_name} — {facts.files} files, {facts.loc} lines of code")
            context = AgentContext(budget=Budget(options.budget_usd))
            for dim in options.dimensions:
                result = run_audit(
                    path, dim, config, plugins, path=options.path, dry_run=True, context=context
                )
                ui.progress(f"audit {dim} with {result.agent}: {len(result.findings)} finding(s)")
                names = _fix_names(plugins, options, config, dim)
                for f in result.findings:
                    ui.progress(f"  would fix {f.severity} {f.location} with {' → '.join(names)}")
                    for name in names[:1]:
                        if name in plugins.agents():
                            agent = make_agent(plugins, name, config, context)
                            fix = agent.fix(
                                FixRequest(
                                    root=path, finding=f, config=config, path=options.path, dry_run=True
                                )
                            )
                            if fix.summary:
                                ui.progress(f"    {name}: {fix.summary}")
            ui.progress(f"tests: {options.test_command}")
        finally:
            git.run("worktree", "remove", "--force", "--force", str(path), check=False)
            git.run("worktree", "prune", check=False)
