"""What an iteration attempts: which findings, with which agents, in what order; and when to give up.

Gaps (P0, P1) come first; P2/P3 enhancements once no gap is left that an available agent can still
try. Safe deterministic fixes (an agent's :meth:`~gitorch.models.Agent.deterministic_fixes`) are tried
in every iteration. An iteration without progress changes the strategy (the next agent of the chain goes
first, the order of findings is reversed); ``stall_iterations`` of them in a row stop the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitorch.audit.run import agent_chain
from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop import events
from gitorch.loop.ledger import Ledger
from gitorch.loop.pool import AgentPool
from gitorch.loop.session import FixOptions, SessionState, StopRun
from gitorch.models import Agent, AuditRequest, AuditResult, Finding, Severity
from gitorch.plugin.manager import Plugins

if TYPE_CHECKING:
    from gitorch.loop.attempt import Workspace

Item = tuple[Finding, list[str]]  # a finding and the agents to try on it, in order


@dataclass(frozen=True)
class Plan:
    phase: str  # close_gaps or enhance
    items: list[Item]
    why: str


def fix_names(plugins: Plugins, options: FixOptions, config: Config, dimension: str) -> list[str]:
    """The agents asked to fix ``dimension``: ``--agent``, or the routing chain (by default, the agents
    plugins declare ``default``)."""
    return [options.agent] if options.agent else agent_chain(plugins, config, "fix", dimension)


def offers_deterministic_fixes(cls: type[Agent]) -> bool:
    return cls.deterministic_fixes is not Agent.deterministic_fixes


class Planner:
    def __init__(self, options: FixOptions, config: Config, pool: AgentPool, ledger: Ledger) -> None:
        self.options = options
        self.config = config
        self.pool = pool
        self.ledger = ledger

    def fix_chain(self, dimension: str, strategy: int = 0) -> list[str]:
        """Agents that may fix ``dimension`` and can run here, in the order of ``strategy``."""
        installed = self.pool.classes()
        usable = [
            name
            for name in dict.fromkeys(fix_names(self.pool.plugins, self.options, self.config, dimension))
            if name in installed and installed[name].can_fix(dimension) and self.pool.available(name)
        ]
        if usable:
            shift = strategy % len(usable)
            usable = usable[shift:] + usable[:shift]
        return usable

    def unfixable(self) -> list[tuple[str, list[str]]]:
        """(dimension, its fix chain) for every dimension no available agent can fix."""
        return [
            (dim, fix_names(self.pool.plugins, self.options, self.config, dim))
            for dim in self.options.dimensions
            if not self.fix_chain(dim)
        ]

    def deterministic_fixes(
        self, workspace: Workspace, open_findings: list[Finding]
    ) -> list[tuple[Finding, str]]:
        """Safe fixes beyond the audit's findings, each with the agent that offers it: worth applying in any
        phase. The agents run their analyzers in ``workspace``, put back on its green commit afterwards."""
        known = {f.fingerprint for f in open_findings}
        found: list[tuple[Finding, str]] = []
        asked = False
        for dim in self.options.dimensions:
            for name in self._offering(dim):
                asked = True
                request = AuditRequest(
                    root=workspace.tree.path,
                    dimension=self.pool.plugins.dimension(dim),
                    config=self.config,
                    path=self.options.path,
                )
                try:
                    offered = self.pool.get(name).deterministic_fixes(request)
                except GitorchError as exc:
                    self.ledger.append(events.Error(error=f"deterministic fixes for {dim}: {exc}"))
                    continue
                for f in offered:
                    if f.fingerprint not in known:
                        known.add(f.fingerprint)
                        found.append((f, name))
        if asked:
            workspace.tree.restore(workspace.green)
        return found

    def _offering(self, dimension: str) -> list[str]:
        """The agents that offer deterministic fixes for ``dimension``: ``--agent``, or any installed."""
        installed = self.pool.classes()
        names = [self.options.agent] if self.options.agent else list(installed)
        return [
            name
            for name in names
            if name in installed
            and offers_deterministic_fixes(installed[name])
            and installed[name].can_fix(dimension)
            and self.pool.available(name)
        ]

    def plan(
        self, results: dict[str, AuditResult], offers: list[tuple[Finding, str]], state: SessionState
    ) -> Plan:
        """The next iteration's work: the deterministic fixes, then the gaps, or else the enhancements."""
        failed = state.failed_agents

        def untried(f: Finding, chain: list[str]) -> list[str]:
            return [n for n in chain if n not in failed.get(f.fingerprint, [])]

        open_findings = [f for r in results.values() for f in r.findings]
        items: list[Item] = [(f, untried(f, [name])) for f, name in offers]
        gaps = [f for f in open_findings if f.severity <= Severity.P1]
        gaps_todo = [(f, a) for f in gaps if (a := untried(f, self.fix_chain(f.dimension, state.strategy)))]
        if gaps_todo:
            phase, why, todo = "close_gaps", "P0/P1 findings open", gaps_todo
        else:
            enh = [f for f in open_findings if Severity.P2 <= f.severity <= Severity.P3]
            todo = [(f, a) for f in enh if (a := untried(f, self.fix_chain(f.dimension, state.strategy)))]
            phase, why = "enhance", self._why_enhance(gaps, state)
        todo.sort(key=lambda item: item[0].severity.rank)
        if state.strategy % 2 == 1:  # another order of findings: the same severities, the other way round
            todo = sorted(reversed(todo), key=lambda item: item[0].severity.rank)
        return Plan(phase, [item for item in items + todo if item[1]], why)

    def _why_enhance(self, gaps: list[Finding], state: SessionState) -> str:
        if gaps:
            return f"{len(gaps)} P0/P1 finding(s) left are beyond every available agent; going on to P2/P3"
        if all((s or 0) >= self.config.min_acceptable_score for s in state.scores.values()):
            return "score at or above min_acceptable_score"
        return "no P0/P1 finding left"

    def judge(self, state: SessionState, improved: bool) -> None:
        """Record whether the iteration just ended made progress; without, the strategy changes, and after
        ``stall_iterations`` such iterations in a row the run stops (raised once the caller has saved)."""
        if improved:
            state.no_progress = 0
            return
        state.no_progress += 1
        state.strategy += 1
        self.ledger.append(
            events.StrategyChange(
                iteration=state.iteration,
                strategy=state.strategy,
                order="reversed" if state.strategy % 2 else "severity",
            )
        )

    def stop_if_stalled(self, state: SessionState) -> None:
        if state.no_progress >= self.config.stall_iterations:
            raise StopRun(
                "stalled",
                f"{state.no_progress} iterations in a row without improvement, strategy changed each time",
            )
