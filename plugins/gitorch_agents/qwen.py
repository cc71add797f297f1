"""Qwen Code (``qwen PROMPT -o json``): a JSON array of Claude-SDK-style messages, tokens only.

Contract (shared/agent-clis README §6): the positional prompt is one-shot (``-p`` is deprecated);
``--approval-mode auto-edit`` (hyphen) approves edit tools. Trap: an API error (even an HTTP 401)
exits 0 with ``is_error: false`` and ``result`` text ``[API Error: …]``, so the text is checked too.
``result.usage.input_tokens`` includes cached tokens; there is no cost field. Audits pass
``--json-schema`` and read ``result.structured_result``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput, Task, as_int, json_lines, load_json
from gitorch.models import Usage

API_ERROR = "[API Error:"


class Qwen(ExternalCliAgent):
    """Alibaba's Qwen Code CLI (a Gemini CLI fork)."""

    name = "qwen"
    description = "Qwen Code (qwen PROMPT, stream-json, auto-edit for fixes, --json-schema audits)"
    binary = "qwen"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.qwen/",)
    supports_schema = True  # --json-schema: the answer comes back as result.structured_result

    Options = ExternalCliAgent.StreamingOptions  # stream: -o stream-json, else -o json (one array)

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        mode = "auto-edit" if task == "fix" else "default"
        output = "stream-json" if self.options.stream else "json"
        tail = ["-o", output, "--approval-mode", mode, *self.model_args("-m")]
        if schema is not None:
            tail += ["--json-schema", json.dumps(schema, separators=(",", ":"))]
        words, stdin = self.prompt_args(prompt)  # a prompt too long for argv: piped stdin is the prompt
        return Invocation([self.executable(), *words, *tail], stdin=stdin)

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_qwen(stdout, stderr, exit_code)


def _messages(stdout: str) -> list[dict[str, Any]]:
    whole = load_json(stdout)
    if isinstance(whole, list):
        return [m for m in whole if isinstance(m, dict)]
    if isinstance(whole, dict):
        return [whole]
    start = stdout.find("[")
    if start > 0 and isinstance(tail := load_json(stdout[start:]), list):
        return [m for m in tail if isinstance(m, dict)]
    return json_lines(stdout)  # stream-json


def parse_qwen(stdout: str, stderr: str, exit_code: int | None) -> ParsedOutput:
    """Read ``qwen -o json`` (array) or ``-o stream-json`` output."""
    messages = _messages(stdout)
    results = [m for m in messages if m.get("type") == "result"]
    model = next((m.get("model") for m in messages if m.get("type") == "system" and m.get("model")), None)
    if not results:
        if exit_code not in (0, None):
            lines = stderr.strip().splitlines()
            return ParsedOutput(ok=False, error=lines[0] if lines else f"exit code {exit_code}")
        return ParsedOutput(ok=False, error="no result message on stdout")
    result = results[-1]
    raw = result.get("usage") or {}
    usage = Usage(
        input_tokens=as_int(raw.get("input_tokens")),
        cached_input_tokens=as_int(raw.get("cache_read_input_tokens")),
        output_tokens=as_int(raw.get("output_tokens")),
    )
    text = result.get("result") if isinstance(result.get("result"), str) else ""
    parsed = ParsedOutput(text=text, usage=usage, model=model, structured=result.get("structured_result"))
    error = result.get("error")
    api_error = _api_error(messages)
    if result.get("is_error") or result.get("subtype") not in (None, "success"):
        detail = error.get("message") if isinstance(error, dict) else text
        # With --json-schema an API failure surfaces as "plain text instead of structured_output":
        # the assistant message holds the real cause.
        parsed.ok, parsed.error = False, api_error or f"{result.get('subtype', 'error')}: {detail}"
    elif text.lstrip().startswith(API_ERROR):
        # NOTE: qwen exits 0 with is_error false when the API call itself failed.
        parsed.ok, parsed.error = False, text.strip()[:500]
    elif exit_code not in (0, None):
        parsed.ok, parsed.error = False, f"exit code {exit_code}"
    return parsed


def _api_error(messages: list[dict[str, Any]]) -> str | None:
    """The ``[API Error: …]`` text of an assistant message, if qwen answered with one."""
    for message in messages:
        if message.get("type") != "assistant":
            continue
        content = (message.get("message") or {}).get("content") or []
        for part in content if isinstance(content, list) else []:
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and text.lstrip().startswith(API_ERROR):
                return text.strip()[:500]
    return None
