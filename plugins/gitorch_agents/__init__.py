"""gitorch's AI coding-CLI agents: one :class:`~gitorch.agents.ExternalCliAgent` per CLI.

Each module reads one CLI's real headless contract (argv, JSON output, exit codes, usage and cost);
``docs/agents.md`` documents them.
"""

from __future__ import annotations

from gitorch import hookimpl


@hookimpl
def gitorch_agents():
    from gitorch_agents.aider import Aider
    from gitorch_agents.claude import Claude
    from gitorch_agents.codex import Codex
    from gitorch_agents.command import Command
    from gitorch_agents.copilot import Copilot
    from gitorch_agents.gemini import Gemini
    from gitorch_agents.opencode import OpenCode
    from gitorch_agents.qwen import Qwen

    return [Claude, Codex, Gemini, Copilot, Aider, OpenCode, Qwen, Command]
