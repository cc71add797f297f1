"""The iteration loop: discovery → audit → baseline tests → iterations → a stop.

Each iteration plans its work (:mod:`gitorch.loop.planner`), runs one
:class:`~gitorch.loop.attempt.FixAttempt` per finding and agent (retrying one whose tests failed),
develops ``--feature`` once, re-audits, and marks its end with a ref ``refs/gitorch/<session>/iter-N``.
The run stops at the target score, the iteration cap, the budget, a stall, a question only a human can
answer, an error or an interrupt; the stop is recorded in the session and the lock released. Nothing
here knows about terminals: the CLI passes a :class:`~gitorch.loop.human.LoopUI`.
"""

from __future__ import annotations

import contextlib
import traceback
from dataclasses import replace
from pathlib import Path

from gitorch.audit.run import audit_context
from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop import events
from gitorch.loop.attempt import AttemptContext, FixAttempt, Outcome, Workspace
from gitorch.loop.audits import Auditor
from gitorch.loop.gates import GateHit
from gitorch.loop.human import Confirmer, LoopUI, Note
from gitorch.loop.ledger import Ledger, now_iso
from gitorch.loop.lock import RunLock
from gitorch.loop.parallel import ParallelAttempts
from gitorch.loop.phases import PhaseClock
from gitorch.loop.planner import Plan, Planner
from gitorch.loop.pool import AgentPool
from gitorch.loop.recovery import ignoring_sigint, recover, recover_jobs, sigterm_as_interrupt
from gitorch.loop.session import EXIT_CODES, SessionState, StopReason, StopRun, ledger_for
from gitorch.loop.testgate import assess_baseline, find_environment
from gitorch.loop.verification import Verifier
from gitorch.models import AgentContext, AuditResult, Finding, Severity
from gitorch.plugin.checks import ProjectEnvironment
from gitorch.plugin.manager import Plugins
from gitorch.process.launch import using_policy
from gitorch.score import measure
from gitorch.services.budget import Budget, BudgetExceeded
from gitorch.vcs.containment import Containment
from gitorch.vcs.git import (
    Git,
    delete_ref,
    identity_env,
    iteration_ref,
    list_refs,
    update_ref,
)
from gitorch.vcs.guard import ContainmentBreach
from gitorch.vcs.workspace import Worktree


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
        containment: Containment | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.plugins = plugins
        self.state = state
        self.ledger = ledger
        self.wt = worktree
        self.ui = ui
        self.options = state.options
        self.budget = Budget(self.options.budget_usd, state.cost_usd)
        self.context = self._agent_context()
        if self.context.redactor is not None:
            ledger.redactor = self.context.redactor  # nothing the run writes keeps a secret it knows
        self.clock = PhaseClock(state.phase_durations, ledger)
        self.agents = AgentPool(plugins, config, self.context, ledger, replay=bool(self.options.replay))
        self.planner = Planner(self.options, config, self.agents, ledger)
        self.confirm = Confirmer(self.options.yes, ui, ledger)
        self.auditor = Auditor(worktree, config, plugins, self.context, ledger, self.clock, ui.progress)
        self.results: dict[str, AuditResult] = {}
        self.identity = identity_env(Git(root))
        self.environment: ProjectEnvironment | None = None
        self.verifier = Verifier(config, None, self.agents.get, path=self.options.path)
        self.containment = containment  # how agents and tests run, what is watched around them
        if ui.watch is not None:
            ui.watch(self)

    def _agent_context(self) -> AgentContext:
        """The services the run lends its agents: the audit's, plus the session's recorder and budget."""
        from gitorch.services.recorder import Recorder

        base = audit_context(self.wt.path, self.config, self.plugins, templates_root=self.root)
        if self.options.replay:
            calls, mode = ledger_for(self.root, self.options.replay).calls_dir, "replay"
        else:
            calls, mode = self.ledger.calls_dir, "record"
        recorder = Recorder(calls, mode=mode, redactor=base.redactor)
        return replace(base, recorder=recorder, budget=self.budget)

    def workspace(self) -> Workspace:
        """The run worktree, at the last green commit: where the next attempt works."""
        return Workspace(self.wt, self.state.branch, self.state.green_commit)

    def attempt_context(self) -> AttemptContext:
        """What the next attempt borrows from the run."""
        st = self.state
        return AttemptContext(
            session=st.id,
            iteration=st.iteration,
            config=self.config,
            test_command=self.options.test_command,
            agents=self.agents,
            budget=self.budget,
            ledger=self.ledger,
            confirm=self.confirm,
            clock=self.clock,
            path=self.options.path,
            identity=self.identity,
            containment=self.containment,
            tests_passing=None if st.tests_passing is None else frozenset(st.tests_passing),
            verifier=self.verifier,
            no_tests=st.test_gate == "no-tests",
            progress=self.ui.progress,
        )

    def save(self) -> None:
        self.state.cost_usd = round(self.budget.spent_usd, 6)
        self.state.updated_at = now_iso()
        self.ledger.save(self.state)

    # the run -------------------------------------------------------------------------------------

    def run(self) -> SessionState:
        policy = self.containment.policy() if self.containment is not None else None
        with sigterm_as_interrupt(), using_policy(policy) if policy else contextlib.nullcontext():
            try:
                self._run()
            except StopRun as stop:
                self._finish(stop.reason, stop.detail)
            except ContainmentBreach as breach:
                r = breach.restoration
                self.ledger.append(
                    events.RepositoryChanged(
                        during=breach.during, changed=breach.changed, restored=r.restored, removed=r.removed,
                        lost=r.lost, displaced=str(r.displaced) if r.displaced else None,
                    )
                )
                self.recover()
                self._finish("needs_human", str(breach))
            except BudgetExceeded as exc:
                self.recover()
                self._finish("budget", str(exc))
            except KeyboardInterrupt:
                with ignoring_sigint():
                    self.recover()
                    self._finish("interrupted", "interrupted (Ctrl-C); `gitorch resume` continues the run")
            except GitorchError as exc:
                self.recover()
                self._finish("error", str(exc))
            except Exception as exc:
                self.recover()
                error = f"{type(exc).__name__}: {exc}"
                self.ledger.append(events.Error(error=error, traceback=traceback.format_exc()))
                self._finish("error", error)
            finally:
                RunLock(self.root).release(self.state.id)
                if self.containment is not None:
                    self.containment.close()
        return self.state

    def recover(self) -> None:
        """Back to the last green commit, anything half done kept as a patch (see gitorch.loop.recovery)."""
        recover(self.wt, self.state, self.ledger)
        with contextlib.suppress(Exception):
            removed = recover_jobs(self.root, self.wt.path, self.state, self.ledger)
            if removed:
                self.ui.progress(f"removed what parallel attempts left: {', '.join(removed)}")
        with contextlib.suppress(Exception):
            self.save()

    def _finish(self, reason: StopReason, detail: str) -> None:
        st = self.state
        st.status = (
            "interrupted" if reason == "interrupted" else "failed" if reason == "error" else "finished"
        )
        st.stop_reason = reason
        st.stop_detail = detail
        st.exit_code = EXIT_CODES[reason]
        st.ended_at = now_iso()
        self.ledger.append(
            events.Stop(
                reason=reason,
                detail=detail,
                exit_code=st.exit_code,
                scores=st.scores,
                cost_usd=round(self.budget.spent_usd, 6),
            )
        )
        self.save()
        self.ui.progress(Note(f"stopped: {reason} — {detail}", phase="stopped"))
        # NOTE: only a run that made no attempt: after attempts, the worktree and branch stay for review
        # (the rejected patches are in the ledger, `gitorch clean` removes them).
        untouched = st.attempts == 0 and st.green_commit == (st.snapshot_commit or st.base_commit)
        if reason != "interrupted" and untouched:
            self._remove_empty_run()

    def _remove_empty_run(self) -> None:
        """A run that ended before its first attempt leaves no branch, worktree or refs behind (its ledger
        stays, and says so): there is nothing to review, and nothing to resume from."""
        st = self.state
        with contextlib.suppress(GitorchError, OSError):
            self.wt.remove(self.root)
            if Git(self.root).rev(f"refs/heads/{st.branch}") == st.green_commit:
                Git(self.root).run("update-ref", "-d", f"refs/heads/{st.branch}", st.green_commit)
            for ref in list_refs(self.root, f"refs/gitorch/{st.id}/"):
                delete_ref(self.root, ref)
            st.cleaned = True
            self.ledger.append(events.EmptyRunRemoved(branch=st.branch, worktree=st.worktree))
            self.save()
            self.ui.progress(f"no commit: branch {st.branch} and its worktree removed")

    def _run(self) -> None:
        st = self.state
        self._warn_unfixable()
        if not st.discovery:
            self.auditor.discover(st)
        initial = not st.initial_scores
        self.results = self.auditor.audit(st, "initial" if initial else "resume")
        self.verifier.reset(self.results)
        if initial:
            st.initial_scores = dict(st.scores)
            st.initial_counts = dict(st.counts)
        self.save()
        self._find_environment()
        self._baseline_tests()
        while True:
            self._stop_if_done()
            self._iteration(st.iterations_done + 1)

    def _stop_if_done(self) -> None:
        st, opts = self.state, self.options
        scores = list(st.scores.values())
        reached = bool(scores) and all(s is not None and s >= opts.target_score for s in scores)
        if reached and not (opts.feature and not st.feature_done):
            raise StopRun("target", f"every dimension at {opts.target_score:g} or above")
        if st.iterations_done >= opts.max_iterations:
            raise StopRun("iterations", f"iteration cap reached ({opts.max_iterations})")
        self._stop_if_budget_spent()

    def _stop_if_budget_spent(self) -> None:
        if self.budget.spent_usd > 0 and self.budget.left_usd <= 0:
            raise StopRun(
                "budget", f"budget spent (${self.budget.spent_usd:.4f} of ${self.options.budget_usd:.2f})"
            )

    def _warn_unfixable(self) -> None:
        for dim, chain in self.planner.unfixable():
            self.ledger.append(events.NoFixer(dimension=dim, chain=chain))
            self.ui.progress(
                f"note: no available agent can fix {dim} (fix chain {chain}); its findings stay open "
                f"(set [routing.{dim}] fix = [...] or use --agent)"
            )

    def _find_environment(self) -> None:
        """The project's environment (from the first agent that lends one): the cheap gate of every
        attempt, and the test command when the user set none."""
        st = self.state
        self.ui.progress(Note("looking for the project's environment", phase="environment", transient=True))
        self.environment = find_environment(self.agents, self.root, self.config)
        self.verifier.environment = self.environment
        if self.environment is None:
            return
        command = self.environment.test_command()
        if command and not st.environment_test_command and self._default_test_command():
            st.options.test_command = command
            st.environment_test_command = True
            self.save()

    def _default_test_command(self) -> bool:
        from gitorch.config import TestsSettings

        return self.options.test_command == TestsSettings().command and not self.config.command_prefix

    def _baseline_tests(self) -> None:
        st = self.state
        outcome = self.auditor.baseline_tests(st)
        gate = assess_baseline(outcome, st.options.test_command, self.environment)
        if gate.kind == "tests" and self.environment is not None:
            gate = self.auditor.measure_coverage(st, gate, self.environment, self.results)
        st.test_gate = gate.kind
        st.test_gate_detail = gate.describe()
        self.ledger.append(
            events.TestGate(
                kind=gate.kind,
                command=gate.command,
                description=gate.describe(),
                environment=self.environment.description if self.environment is not None else "",
                collected=gate.collected,
                coverage=gate.coverage,
                files=gate.files,
                detail=gate.detail,
            )
        )
        self.save()
        self.ui.progress(f"test gate: {gate.describe()}")
        if gate.kind == "no-tests":
            where = self.environment.description if self.environment is not None else "gitorch's Python"
            self.ui.progress(
                f"  every attempt must still compile, and its touched modules import ({where}); "
                "behaviour is not checked"
            )
        elif gate.kind in ("failing", "no-environment"):
            raise StopRun("needs_human", gate.stop_message())

    # one iteration -------------------------------------------------------------------------------

    def _iteration(self, n: int) -> None:
        st = self.state
        st.iteration = n
        planning = f"iteration {n}: planning — asking the agents for safe tool fixes"
        self.ui.progress(Note(planning, phase="planning"))
        with self.clock.phase("planning", n):  # safe tool fixes are looked for here: it can take a while
            plan = self._plan()
        develop = bool(self.options.feature) and not st.feature_done and plan.phase == "enhance"
        if not plan.items and not develop:
            raise self._nothing_left()
        before, commits_before = dict(st.scores), st.commits
        self.ledger.append(
            events.IterationStart(
                iteration=n,
                phase=plan.phase,
                why=plan.why,
                candidates=len(plan.items),
                strategy=st.strategy,
                scores=before,
            )
        )
        self.ui.progress(
            Note(f"iteration {n}: {plan.phase} — {len(plan.items)} finding(s) to attempt ({plan.why})",
                 phase=plan.phase)
        )
        with self.clock.phase(plan.phase, n):
            extra_commits = self._work(plan)
        if develop:
            with self.clock.phase("develop", n):
                self._develop()
        findings_before = {d: list(r.findings) for d, r in self.results.items()}
        self.results = self.auditor.audit(st, "re-audit")
        self.verifier.reset(self.results)
        update_ref(
            self.root, iteration_ref(st.id, n), st.green_commit, message=f"gitorch: end of iteration {n}"
        )
        # A commit counts as progress only when the re-audit agrees (the exact score of formula 2 rose:
        # a finding gone, nothing as heavy new), or when it is a safe deterministic fix that matched no
        # finding; an agent committing changes that fix nothing stalls.
        improved = extra_commits > 0 or any(
            measure(r.findings, r.loc) > measure(findings_before.get(d, []), r.loc)
            for d, r in self.results.items()
        )
        st.iterations_done = n
        self.planner.judge(st, improved)
        self.ledger.append(
            events.IterationEnd(
                iteration=n,
                phase=plan.phase,
                scores_before=before,
                scores_after=dict(st.scores),
                commits=st.commits - commits_before,
                improved=improved,
                green=st.green_commit,
                cost_usd=round(self.budget.spent_usd, 6),
            )
        )
        self.save()
        scores = ", ".join(f"{d} {'-' if v is None else f'{v:g}'}" for d, v in st.scores.items())
        self.ui.progress(f"iteration {n} done: {st.commits - commits_before} commit(s); scores {scores}")
        self.planner.stop_if_stalled(st)

    def _plan(self) -> Plan:
        open_findings = [f for r in self.results.values() for f in r.findings]
        offers = self.planner.deterministic_fixes(self.workspace(), open_findings)
        return self.planner.plan(self.results, offers, self.state)

    def _nothing_left(self) -> StopRun:
        declined = self.state.declined
        detail = "no finding left that an available agent can fix"
        if declined:
            detail += f"; {len(declined)} attempt(s) need a human decision (run again with --yes, or review)"
        return StopRun("needs_human" if declined else "stalled", detail)

    @property
    def jobs(self) -> int:
        """Agent calls at once (``--jobs``); a replay serves its recorded calls in order, one at a time."""
        return 1 if self.options.replay else max(1, self.options.jobs)

    def _work(self, plan: Plan) -> int:
        """Attempt the plan's findings; returns the commits of fixes the audit had not reported."""
        audited = {f.fingerprint for r in self.results.values() for f in r.findings}
        if self.jobs > 1:
            committed = ParallelAttempts(self, self.jobs).run(plan.items, plan.phase)
            return sum(1 for fingerprint in committed if fingerprint not in audited)
        extra = 0
        for finding, agents in plan.items:
            if self._fix_finding(finding, agents, plan.phase) and finding.fingerprint not in audited:
                extra += 1
        return extra

    def _fix_finding(
        self, finding: Finding, agents: list[str], phase: str, *, feature: str | None = None
    ) -> bool:
        """Try the agents in turn until one commits; a costly failure (tests, gate) waits for the next
        iteration (maybe another strategy), an agent that cannot fix it hands over to the next."""
        for name in agents:
            outcome = self._try(finding, name, phase, feature)
            if outcome.kind == "committed":
                return True
            self.state.failed_agents.setdefault(finding.fingerprint, []).append(name)
            if outcome.kind == "declined" and finding.fingerprint not in self.state.declined:
                self.state.declined.append(finding.fingerprint)
            self.save()
            if outcome.kind not in ("cannot_fix", "unchanged", "no_effect"):
                return False
        return False

    def _try(self, finding: Finding, agent: str, phase: str, feature: str | None) -> Outcome:
        """Attempts at one finding with one agent: the first, then retries given the failure output."""
        failure: str | None = None
        outcome = Outcome("failed")
        for number in range(1, self.config.tests.retries + 2):
            self._stop_if_budget_spent()
            self.state.attempts += 1
            attempt = FixAttempt(
                self.attempt_context(),
                self.workspace(),
                finding,
                agent,
                phase,
                number=number,
                failure=failure,
                feature=feature,
            )
            outcome = attempt.run()
            self.apply(outcome)
            if outcome.kind != "failed_tests":
                break
            failure = outcome.failure
        return outcome

    def apply(self, outcome: Outcome) -> None:
        """Take an attempt's outcome into the run's state (a commit becomes the new green commit)."""
        st = self.state
        if outcome.tests is not None:
            st.last_tests = outcome.tests
        if outcome.tests_collected is not None:
            st.tests_collected = outcome.tests_collected  # tests added by a fix count from now on
        if outcome.tests_passing is not None:
            st.tests_passing = sorted(outcome.tests_passing)
        if outcome.commit is not None:
            st.green_commit = outcome.commit
            st.commits += 1
            self.save()

    def _develop(self) -> None:
        st = self.state
        st.feature_done = True
        feature = self.options.feature or ""
        hits = [GateHit("feature", "confirm", feature)]
        if not self.confirm(f"Develop the feature {feature!r}?", hits, None, st.iteration):
            self.ledger.append(events.Develop(feature=feature, approved=False))
            return
        dim = self.options.dimensions[0]
        finding = Finding(
            dimension=dim,
            severity=Severity.P2,
            description=f"Feature request: {feature}",
            rule_id="feature",
            source="user",
        )
        self.ledger.append(events.Develop(feature=feature, approved=True))
        self._fix_finding(finding, self.planner.fix_chain(dim, st.strategy), "develop", feature=feature)
