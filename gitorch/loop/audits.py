"""What the loop measures in the run worktree: discovery, the audits (scores, findings), the baseline tests.

Each step records its event and its figures in the session state; the worktree is put back on the green
commit after it (analyzers and test runs may leave files behind).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gitorch.audit.discovery import discover
from gitorch.audit.run import run_audits
from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop import events
from gitorch.loop.ledger import Ledger
from gitorch.loop.phases import PhaseClock
from gitorch.loop.session import SessionState
from gitorch.models import AgentContext, AuditResult, count_by_severity
from gitorch.plugin.checks import ProjectEnvironment, TestGate
from gitorch.plugin.manager import Plugins
from gitorch.process.testrun import TestOutcome, run_tests
from gitorch.vcs.workspace import Worktree


@dataclass
class Auditor:
    """Discovery, audits and baseline tests of one run, in its worktree, each timed as a phase."""

    tree: Worktree
    config: Config
    plugins: Plugins
    context: AgentContext
    ledger: Ledger
    clock: PhaseClock
    progress: Callable[[str], None]

    def discover(self, state: SessionState) -> None:
        with self.clock.phase("discovery", state.iteration):
            facts = discover(self.tree.path, state.options.path, self.config)
            state.discovery = facts.as_dict()
            if facts.module_name == self.tree.path.name:  # the worktree's name is the session id
                state.discovery["module_name"] = Path(state.repo_root).name
        self.ledger.append(events.Discovery(**state.discovery))
        self.progress(
            f"discovery: {state.discovery['module_name']} — {facts.files} files, {facts.loc} lines of code"
        )

    def audit(self, state: SessionState, kind: str) -> dict[str, AuditResult]:
        """Every dimension audited (``kind``: initial, resume or re-audit); the scores and counts kept."""
        with self.clock.phase("audit" if kind == "initial" else "re_audit", state.iteration):
            return self._audit(state, kind)

    def _audit(self, state: SessionState, kind: str) -> dict[str, AuditResult]:
        results = {}
        dimensions = state.options.dimensions
        # concurrently; an audit of a tree audited before comes from the audit cache
        audited = run_audits(self.tree.path, dimensions, self.config, self.plugins,
                             path=state.options.path, context=self.context)  # fmt: skip
        for dim, result in zip(dimensions, audited, strict=True):
            results[dim] = result
            state.scores[dim] = result.score
            self.ledger.append(
                events.Audit(
                    kind=kind,
                    iteration=state.iteration,
                    dimension=dim,
                    agent=result.agent,
                    score=result.score,
                    counts={k.value: v for k, v in result.counts.items()},
                    findings=[events.FindingBrief.of(f) for f in result.findings],
                    duration_s=result.duration_s,
                    cost_usd=0.0 if result.cached else result.usage.cost_usd,
                    cached=result.cached,
                )
            )
            found = f"{len(result.findings)} findings" + (", cached" if result.cached else "")
            self.progress(f"{kind} audit {dim}: score {result.score} ({found})")
        counts = count_by_severity([f for r in results.values() for f in r.findings])
        state.counts = {severity.value: n for severity, n in counts.items()}
        # analyzers may leave files behind; the next attempt's diff must hold only the agent's edits
        self.tree.restore(state.green_commit)
        return results

    def measure_coverage(
        self,
        state: SessionState,
        gate: TestGate,
        environment: ProjectEnvironment,
        results: dict[str, AuditResult],
    ) -> TestGate:
        """The share of the statements of the files with open findings that the passing tests run (one more
        test run, under coverage); the gate unchanged when it cannot be measured."""
        files = sorted(
            {f.file for r in results.values() for f in r.findings if f.file and f.file.endswith(".py")}
        )
        if not files:
            return gate
        with self.clock.phase("test", state.iteration, kind="coverage"):
            try:
                measured, why = environment.coverage(
                    self.tree.path, state.options.test_command, files, config=self.config,
                    timeout=self.config.tests.timeout_s,
                )
            except GitorchError as exc:
                measured, why = None, str(exc)
        self.tree.restore(state.green_commit)
        if not measured:
            return replace(gate, detail=why or "coverage not measured")
        statements = sum(c.statements for c in measured.values())
        covered = sum(c.covered for c in measured.values())
        percent = round(100 * covered / statements, 1) if statements else 0.0
        return replace(gate, coverage=percent, files=len(files))

    def baseline_tests(self, state: SessionState) -> TestOutcome:
        """The test command on the green commit, and the tests that pass there (from its JUnit report):
        every attempt must keep them passing."""
        command, prefix = state.options.test_command, self.config.command_prefix
        timeout = self.config.tests.timeout_s
        with self.clock.phase("test", state.iteration, kind="baseline"):
            outcome = run_tests(self.tree.path, command, prefix, timeout)
        self.tree.restore(state.green_commit)
        collected = None if outcome.cases is None else len(outcome.cases)
        passing = outcome.passing()
        state.tests_collected = collected
        state.tests_passing = None if passing is None else sorted(passing)
        state.last_tests = outcome.brief()
        self.ledger.append(
            events.BaselineTests(
                passed=outcome.passed,
                brief=outcome.brief(),
                counts=outcome.counts,
                collected=collected,
                duration_s=outcome.duration_s,
                output=None if outcome.passed else outcome.output[-2000:],
            )
        )
        return outcome
