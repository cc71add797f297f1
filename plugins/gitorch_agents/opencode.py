"""opencode (``opencode run --format json``): JSONL parts, USD cost per step.

Contract (shared/agent-clis README §5): ``opencode run --format json --dir DIR "PROMPT"``; stdin
must be closed (an open pipe hangs it). Each ``step_finish`` part carries ``tokens`` (``input``
excludes cache reads) and ``cost`` in USD: sum them. Errors are ``{"type": "error"}`` events, exit 1.
Permissions come from configuration: gitorch passes ``OPENCODE_CONFIG_CONTENT`` allowing edits for
fixes and denying them (and shell) for audits, merged into any config the user set there (in the
agent's ``env`` option or the environment).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput, Task, as_int, json_lines, load_json
from gitorch.models import Usage

PERMISSIONS = {
    "fix": {"edit": "allow", "bash": "deny", "webfetch": "deny"},
    "audit": {"edit": "deny", "bash": "deny", "webfetch": "deny"},
}


class OpenCode(ExternalCliAgent):
    """The opencode CLI."""

    name = "opencode"
    description = "opencode (opencode run --format json, edits allowed by config)"
    binary = "opencode"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{config}/opencode/", "{data}/opencode/", "{cache}/opencode/", "{state}/opencode/")

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        argv = [self.executable(), "run", "--format", "json", "--dir", str(cwd), *self.model_args("-m")]
        key = "OPENCODE_CONFIG_CONTENT"
        given = self.options.env.get(key) or os.environ.get(key, "")
        user = load_json(given) or {}
        config = {**user, "permission": {**(user.get("permission") or {}), **PERMISSIONS[task]}}
        env = {"OPENCODE_CONFIG_CONTENT": json.dumps(config)}
        words, stdin = self.prompt_args(prompt)  # a prompt too long for argv: piped stdin is the message
        return Invocation([*argv, *words], stdin=stdin, env=env)

    def environment(self, invocation: Invocation) -> dict[str, str]:
        env = super().environment(invocation)
        env["OPENCODE_CONFIG_CONTENT"] = invocation.env["OPENCODE_CONFIG_CONTENT"]  # already merged
        return env

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_opencode(stdout, stderr, exit_code)


def parse_opencode(stdout: str, stderr: str, exit_code: int | None) -> ParsedOutput:
    """Read ``opencode run --format json`` JSONL output."""
    events = json_lines(stdout)
    usage = Usage()
    texts: list[str] = []
    errors: list[str] = []
    cost, costed = 0.0, False
    for event in events:
        kind = event.get("type")
        part = event.get("part") or {}
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "step_finish":
            tokens = part.get("tokens") or {}
            read = as_int((tokens.get("cache") or {}).get("read"))
            write = as_int((tokens.get("cache") or {}).get("write"))
            usage = usage + Usage(
                input_tokens=as_int(tokens.get("input")) + read + write,
                cached_input_tokens=read,
                output_tokens=as_int(tokens.get("output")) + as_int(tokens.get("reasoning")),
            )
            if isinstance(part.get("cost"), int | float):
                cost, costed = cost + float(part["cost"]), True
        elif kind == "error":
            error = event.get("error") or {}
            message = (error.get("data") or {}).get("message") or error.get("name") or "error"
            errors.append(f"{error.get('name', 'Error')}: {message}")
    if costed:
        usage = usage.model_copy(update={"cost_usd": round(cost, 6), "cost_source": "reported"})
    parsed = ParsedOutput(text="\n".join(texts).strip(), usage=usage)
    if errors:
        parsed.ok, parsed.error = False, errors[-1]
    elif exit_code not in (0, None):
        if stderr.lstrip().startswith(("opencode", "█", "▄")) and not stdout.strip():
            parsed.error = "argv rejected (opencode printed its usage)"
        else:
            lines = stderr.strip().splitlines()
            parsed.error = lines[0] if lines else f"exit code {exit_code}"
        parsed.ok = False
    elif not events:
        parsed.ok, parsed.error = False, "no JSON events on stdout"
    return parsed
