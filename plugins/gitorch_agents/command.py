"""A generic agent for CLIs gitorch does not know yet: a user-given command template.

Configure it under ``[agents.command]``::

    [agents.command]
    command = "my-ai --non-interactive --input {prompt_file} --cd {workdir}"

``{prompt_file}`` is a file holding the prompt, ``{workdir}`` the directory to work in (the worktree
for fixes), ``{task}`` ``audit`` or ``fix``, ``{model}`` ``Options.model``. With ``stdin = true`` the
prompt is also written to the command's stdin. Success is exit code 0 with output on stdout; the
output is read as a Markdown report. The command reports no usage, so its calls cost nothing in the
budget unless ``cost_per_call_usd`` is set.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from pydantic import Field

from gitorch.agents import (
    ExternalCliAgent,
    Invocation,
    ParsedOutput,
    Task,
    class_or_instance,
    executable_availability,
)
from gitorch.errors import ConfigError
from gitorch.models import Availability, Usage


class Command(ExternalCliAgent):
    """Any AI CLI, driven through a command template."""

    name = "command"
    description = "a user-given command template ({prompt_file}, {workdir}); output read as Markdown"
    binary = ""

    class Options(ExternalCliAgent.Options):
        command: str = Field("", description="command template: {prompt_file}, {workdir}, {task}, {model}")
        stdin: bool = Field(False, description="also write the prompt to the command's stdin")
        cost_per_call_usd: float = Field(0.0, ge=0, description="what one call costs, for the budget")

    @class_or_instance
    def availability(cls, self: Command | None = None) -> Availability:
        if self is None:  # the class alone cannot know the command; a configured instance can
            return Availability(True, "runs the [agents.command] command")
        return executable_availability(self.executable())

    def executable(self) -> str:
        words = shlex.split(self.options.command)
        return words[0] if words else ""

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        if not self.options.command.strip():
            raise ConfigError("agents.command.command: set the command template to run")
        prompt_file = calldir / "prompt.md"
        prompt_file.write_text(prompt, encoding="utf-8")
        values = {"prompt_file": str(prompt_file), "workdir": str(cwd), "task": task,
                  "model": self.options.model or ""}
        try:
            argv = [word.format(**values) for word in shlex.split(self.options.command)]
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"agents.command.command: bad placeholder {exc}") from None
        return Invocation(argv, stdin=prompt if self.options.stdin else None)

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        usage = Usage()
        if self.options.cost_per_call_usd:
            usage = Usage(cost_usd=self.options.cost_per_call_usd, cost_source="reported")
        return parse_command(stdout, stderr, exit_code, usage, task)

    def estimate_usd(self, prompt: str, config: Any) -> float:
        return self.options.cost_per_call_usd


def parse_command(
    stdout: str, stderr: str, exit_code: int | None, usage: Usage | None = None, task: Task = "audit"
) -> ParsedOutput:
    """Exit code 0 (and, for an audit, a report on stdout) is success; the text is the whole stdout."""
    parsed = ParsedOutput(text=stdout.strip(), usage=usage or Usage())
    if exit_code not in (0, None):
        lines = stderr.strip().splitlines()
        parsed.ok, parsed.error = False, lines[-1] if lines else f"exit code {exit_code}"
    elif task == "audit" and not stdout.strip():
        parsed.ok, parsed.error = False, "no output on stdout"
    return parsed
