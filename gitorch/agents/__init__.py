"""The agent driver: what an agent plugin for an AI coding CLI builds on.

A CLI agent subclasses :class:`ExternalCliAgent` and describes only its CLI: the argv of a call
(:meth:`~ExternalCliAgent.invocation`) and how to read what it printed
(:meth:`~ExternalCliAgent.parse_output`). Running the process, the budget, redaction, recording and
replay, audits and fixes are done here, once::

    from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput
"""

from __future__ import annotations

from gitorch.agents.cli_agent import (
    ARGV_PROMPT_LIMIT,
    AgentTimeout,
    ExternalCliAgent,
    Task,
    class_or_instance,
    executable_availability,
    in_gitorch_sandbox,
)
from gitorch.agents.output import (
    CallOutcome,
    Invocation,
    ParsedOutput,
    argv_prompt,
    as_int,
    json_lines,
    load_json,
)

__all__ = [
    "ARGV_PROMPT_LIMIT",
    "AgentTimeout",
    "CallOutcome",
    "ExternalCliAgent",
    "Invocation",
    "ParsedOutput",
    "Task",
    "class_or_instance",
    "argv_prompt",
    "as_int",
    "executable_availability",
    "in_gitorch_sandbox",
    "json_lines",
    "load_json",
]
