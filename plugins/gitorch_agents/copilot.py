"""GitHub Copilot CLI (``copilot -p … --output-format json``): JSONL session events, tokens in a file.

Contract (shared/agent-clis README §4): ``-p PROMPT`` runs headless; ``--allow-tool write`` approves
file edits (and nothing else); ``-C DIR`` sets the working directory; ``--no-auto-update`` and
``--no-ask-user`` keep it non-interactive. Failure is a ``session.error`` event and ``result.exitCode``
(exit code 1 for everything). The JSON stream has no token counts: ``--usage-output-file F`` writes
``modelMetrics[m].usage.{inputTokens, outputTokens, cacheReadTokens, ...}`` (input includes cached).
Copilot bills premium requests, not USD, so gitorch prices the tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput, Task, as_int, json_lines, load_json
from gitorch.models import Usage


class Copilot(ExternalCliAgent):
    """GitHub's Copilot CLI."""

    name = "copilot"
    description = "GitHub Copilot CLI (copilot -p, JSONL output, write tool for fixes only)"
    binary = "copilot"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.copilot/", "{cache}/copilot/")
    default_env: ClassVar[dict[str, str]] = {"COPILOT_AUTO_UPDATE": "false"}

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        usage_file = calldir / "usage.json"
        tools = ["--allow-tool", "write"] if task == "fix" else ["--deny-tool", "write"]
        tail = [
            *tools,
            "--output-format", "json",
            "--usage-output-file", str(usage_file),
            "-C", str(cwd),
            "--no-auto-update",
            "--no-ask-user",
            *self.model_args("--model"),
        ]
        words, stdin = self.prompt_args(prompt, "-p")  # a prompt too long for argv: piped stdin = prompt
        return Invocation([self.executable(), *words, *tail], stdin=stdin, files={"usage": usage_file})

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_copilot(stdout, stderr, exit_code, files.get("usage", ""))


def parse_copilot(stdout: str, stderr: str, exit_code: int | None, usage_json: str = "") -> ParsedOutput:
    """Read ``copilot --output-format json`` JSONL plus the ``--usage-output-file`` JSON."""
    events = json_lines(stdout)
    usage, model = _usage(load_json(usage_json) if usage_json.strip() else None)
    messages: list[str] = []
    errors: list[str] = []
    result_exit: int | None = None
    for event in events:
        kind = event.get("type")
        data = event.get("data") or {}
        if kind == "assistant.message" and isinstance(data.get("content"), str) and data["content"].strip():
            messages.append(data["content"])
            model = model or data.get("model")
        elif kind == "session.error":
            errors.append(f"{data.get('errorType', 'error')}: {data.get('message', '')}".strip())
        elif kind == "result":
            result_exit = event.get("exitCode")
    parsed = ParsedOutput(text=messages[-1] if messages else "", usage=usage, model=model)
    if errors:
        parsed.ok, parsed.error = False, errors[-1]
    elif result_exit not in (0, None):
        parsed.ok, parsed.error = False, f"result.exitCode {result_exit}"
    elif exit_code not in (0, None):
        lines = stderr.strip().splitlines()
        parsed.ok, parsed.error = False, lines[0] if lines else f"exit code {exit_code}"
    elif not events:
        parsed.ok, parsed.error = False, "no JSON events on stdout"
    elif result_exit is None:
        parsed.ok, parsed.error = False, "no result event"
    return parsed


def _usage(data: Any) -> tuple[Usage, str | None]:
    if not isinstance(data, dict):
        return Usage(), None
    metrics = data.get("modelMetrics") or {}
    usage, main, most = Usage(), None, -1
    for name, item in metrics.items():
        raw = (item or {}).get("usage") or {}
        part = Usage(
            input_tokens=as_int(raw.get("inputTokens")),
            cached_input_tokens=as_int(raw.get("cacheReadTokens")),
            output_tokens=as_int(raw.get("outputTokens")),
            models=[name],
        )
        usage = usage + part
        if part.input_tokens + part.output_tokens > most:
            main, most = name, part.input_tokens + part.output_tokens
    return usage, main
