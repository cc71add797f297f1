"""Claude Code (``claude -p``): one JSON result object on stdout, its own USD cost.

Contract (shared/agent-clis README §1): the prompt goes to stdin of ``claude -p``; ``--output-format
json`` prints one ``result`` object at the end. Success is ``is_error: false`` (auth and API failures
come back as ``subtype: "success", is_error: true``); a tool refused in ``-p`` mode is listed in
``permission_denials`` while the exit code stays 0 (a refused edit fails a fix; any other refusal
is a note). ``usage.input_tokens`` excludes cache reads and
cache writes; ``total_cost_usd`` is the CLI's own estimate for the call.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from gitorch.agents import (
    ExternalCliAgent,
    Invocation,
    ParsedOutput,
    Task,
    as_int,
    json_lines,
    load_json,
)
from gitorch.models import Usage

EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
BYPASS = ("--dangerously-skip-permissions", "bypassPermissions")


class Claude(ExternalCliAgent):
    """Anthropic's Claude Code CLI."""

    name = "claude"
    description = "Claude Code CLI (claude -p, stream-json, acceptEdits for fixes, --json-schema audits)"
    binary = "claude"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.claude/", "{home}/.claude.json", "{home}/.claude.json.backup", "{config}/claude/")
    supports_schema = True
    # acceptEdits refuses any edit under a .git path; the loop then keeps the worktree out of .git.
    edits_under_git_dir = False
    default_env: ClassVar[dict[str, str]] = {
        # The default retry loop took 187 s to give up on an unreachable API; routing retries anyway.
        "CLAUDE_CODE_MAX_RETRIES": "2",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }

    class Options(ExternalCliAgent.StreamingOptions):  # stream: stream-json --verbose, else json
        fix_permission_mode: Literal["acceptEdits", "bypassPermissions", "auto", "dontAsk"] = Field(
            "acceptEdits", description="--permission-mode for fixes (acceptEdits: file edits only)"
        )
        audit_permission_mode: Literal["default", "plan", "dontAsk"] = Field(
            "default", description="--permission-mode for audits (read-only: edits are refused)"
        )
        max_turns: int | None = Field(None, gt=0, description="--max-turns")

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        mode = self.options.fix_permission_mode if task == "fix" else self.options.audit_permission_mode
        output = ["stream-json", "--verbose"] if self.options.stream else ["json"]
        argv = [
            self.executable(), "-p",
            "--output-format", *output,
            "--permission-mode", mode,
            "--no-session-persistence",
            *self.model_args("--model"),
        ]
        if self.options.max_turns:
            argv += ["--max-turns", str(self.options.max_turns)]
        if schema is not None:
            argv += ["--json-schema", json.dumps(schema, separators=(",", ":"))]
        cap = self.spend_cap_usd()
        if cap is not None:  # claude stops itself there (error_max_budget_usd), cents rounded down
            argv += ["--max-budget-usd", f"{math.floor(cap * 10_000) / 10_000:.4f}"]
        env = {}
        everything = [*argv, *self.options.extra_args]
        if os.geteuid() == 0 and any(flag in everything for flag in BYPASS):
            # claude refuses bypass mode as root unless told it runs in a sandbox.
            env["IS_SANDBOX"] = "1"
        return Invocation(argv, stdin=prompt, env=env)

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_claude(stdout, stderr, exit_code, task)

    def stream_usage(self, line: str) -> tuple[str, Usage] | None:
        """An ``assistant`` event of stream-json carries its model turn's usage (once per content block,
        under the same message id)."""
        if '"assistant"' not in line:
            return None
        event = json.loads(line)
        message = event.get("message") if event.get("type") == "assistant" else None
        if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
            return None
        usage, _ = _usage({"usage": message["usage"]})
        model = message.get("model")
        turn = str(message.get("id") or event.get("uuid") or line)
        return turn, usage.model_copy(update={"models": [model] if isinstance(model, str) else []})


def _result_object(stdout: str) -> dict[str, Any] | None:
    whole = load_json(stdout)
    if isinstance(whole, dict):
        return whole
    if isinstance(whole, list):  # stream-json collected, or an SDK-style array
        results = [e for e in whole if isinstance(e, dict) and e.get("type") == "result"]
        return results[-1] if results else None
    results = [e for e in json_lines(stdout) if e.get("type") == "result"]
    return results[-1] if results else None


def parse_claude(stdout: str, stderr: str, exit_code: int | None, task: Task = "audit") -> ParsedOutput:
    """Read ``claude -p --output-format json`` output."""
    result = _result_object(stdout)
    if result is None:
        first = (stdout.strip() or stderr.strip()).splitlines()[:1]
        seen = first[0][:200] if first else "empty"
        return ParsedOutput(ok=False, error=f"no JSON result on stdout ({seen})")
    usage, model = _usage(result)
    text = result.get("result") if isinstance(result.get("result"), str) else ""
    parsed = ParsedOutput(text=text, usage=usage, model=model, structured=result.get("structured_output"))
    if result.get("is_error") or result.get("subtype") not in (None, "success"):
        parsed.ok = False
        errors = result.get("errors") or []
        detail = "; ".join(str(e) for e in errors) if errors else text
        status = result.get("api_error_status")
        parsed.error = f"{result.get('subtype', 'error')}: {detail}" + (f" (HTTP {status})" if status else "")
    elif exit_code not in (0, None):
        parsed.ok, parsed.error = False, f"exit code {exit_code}"
    denials = result.get("permission_denials") or []
    if denials and parsed.ok:
        tools = sorted({str(d.get("tool_name", "?")) for d in denials if isinstance(d, dict)})
        message = f"permission denied for: {', '.join(tools)}"
        if task == "fix" and EDIT_TOOLS.intersection(tools):
            # The run "succeeded" but an edit was refused (outside the worktree): the fix is partial.
            # A refused Bash call (running the tests, say) is only noted: gitorch runs the tests itself.
            parsed.ok, parsed.error = False, message
        else:
            parsed.notes.append(f"claude: {message}")
    return parsed


def _usage(result: dict[str, Any]) -> tuple[Usage, str | None]:
    raw = result.get("usage") if isinstance(result.get("usage"), dict) else {}
    cache_read = as_int(raw.get("cache_read_input_tokens"))
    cache_write = as_int(raw.get("cache_creation_input_tokens"))
    input_tokens = as_int(raw.get("input_tokens")) + cache_read + cache_write
    per_model = result.get("modelUsage") if isinstance(result.get("modelUsage"), dict) else {}
    if not raw and per_model:
        for item in per_model.values():
            cache_read += as_int(item.get("cacheReadInputTokens"))
            input_tokens += sum(
                as_int(item.get(key))
                for key in ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
            )
    output = as_int(raw.get("output_tokens"))
    if not raw:
        output = sum(as_int(m.get("outputTokens")) for m in per_model.values())
    models = sorted(per_model)
    main = max(per_model, key=lambda m: per_model[m].get("costUSD") or 0) if per_model else None
    cost = result.get("total_cost_usd")
    reported = isinstance(cost, int | float)
    usage = Usage(
        input_tokens=input_tokens,
        cached_input_tokens=cache_read,
        output_tokens=output,
        cost_usd=float(cost) if reported else 0.0,
        cost_source="reported" if reported else "none",
        models=models,
    )
    return usage, main
