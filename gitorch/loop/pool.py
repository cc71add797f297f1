"""The run's agents: one instance of each (sharing the run's services), and whether each can run here."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitorch.audit.run import make_agent
from gitorch.config import Config
from gitorch.loop import events
from gitorch.loop.ledger import Ledger
from gitorch.models import Agent, AgentContext
from gitorch.plugin.manager import Plugins


@dataclass
class AgentPool:
    """Agents by name, made once per run with the run's :class:`AgentContext` (``replay``: no agent runs,
    so every one counts as available)."""

    plugins: Plugins
    config: Config
    context: AgentContext
    ledger: Ledger
    replay: bool = False
    _agents: dict[str, Agent] = field(default_factory=dict, init=False, repr=False)
    _available: dict[str, bool] = field(default_factory=dict, init=False, repr=False)

    def classes(self) -> dict[str, type[Agent]]:
        return self.plugins.agents()

    def get(self, name: str) -> Agent:
        if name not in self._agents:
            self._agents[name] = make_agent(self.plugins, name, self.config, self.context)
        return self._agents[name]

    def available(self, name: str) -> bool:
        """Whether agent ``name`` can run here (asked once; an unavailable one is noted in the ledger)."""
        if name not in self._available:
            if self.replay:
                self._available[name] = True  # a replay runs no agent: nothing needs to be installed
            else:
                # ask the instance: its options (e.g. the binary to run) decide whether it can run here
                availability = self.get(name).availability()
                self._available[name] = bool(availability)
                if not availability:
                    self.ledger.append(events.AgentUnavailable(agent=name, reason=availability.reason))
        return self._available[name]

    def confined(self, name: str) -> bool:
        """Whether gitorch can keep the agent's edits inside its workspace (else the checkout is watched)."""
        cls = self.classes().get(name)
        return cls is None or getattr(cls, "confined", True)
