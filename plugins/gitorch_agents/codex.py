"""OpenAI Codex CLI (``codex exec --json``): JSONL events, tokens only (priced by gitorch).

Contract (shared/agent-clis README §2): ``codex exec`` reads the prompt from stdin when given ``-``
(and blocks until stdin reaches EOF, so it must be closed); ``-s workspace-write`` lets it edit the
workspace (``--full-auto`` was removed in 0.169), ``-s danger-full-access`` inside gitorch's sandbox;
``-C DIR`` sets its root; ``--skip-git-repo-check`` avoids the trusted-directory refusal. The fatal
signal is a ``turn.failed`` event; ``error`` events are retries and warnings.
``turn.completed.usage.input_tokens`` already includes cached tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitorch.agents import (
    ExternalCliAgent,
    Invocation,
    ParsedOutput,
    Task,
    as_int,
    in_gitorch_sandbox,
    json_lines,
    load_json,
)
from gitorch.models import Usage


class Codex(ExternalCliAgent):
    """OpenAI's Codex CLI."""

    name = "codex"
    description = "OpenAI Codex CLI (codex exec --json, workspace-write for fixes, --output-schema audits)"
    binary = "codex"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.codex/",)
    supports_schema = True

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        last = calldir / "last-message.txt"
        # NOTE: codex's own sandbox is a bubblewrap that cannot start inside gitorch's (as root, without
        # capabilities): there gitorch's holds it, read-only for an audit, its worktree writable for a fix.
        mode = "workspace-write" if task == "fix" else "read-only"
        argv = [
            self.executable(), "exec", "--json",
            "-s", "danger-full-access" if in_gitorch_sandbox() else mode,
            "-C", str(cwd),
            "--skip-git-repo-check",
            *self.model_args("-m"),
            "-o", str(last),
        ]
        files = {"last_message": last}
        if schema is not None:
            schema_file = calldir / "findings.schema.json"
            schema_file.write_text(json.dumps(schema), encoding="utf-8")
            argv += ["--output-schema", str(schema_file)]
        argv.append("-")  # the prompt comes from stdin; extra args go before it
        return Invocation(argv, stdin=prompt, files=files, extra_at=len(argv) - 1)

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_codex(stdout, stderr, exit_code, files.get("last_message", ""))


def parse_codex(stdout: str, stderr: str, exit_code: int | None, last_message: str = "") -> ParsedOutput:
    """Read ``codex exec --json`` JSONL output."""
    events = json_lines(stdout)
    if not events:
        first = (stderr.strip() or stdout.strip()).splitlines()[:1]
        seen = first[0][:200] if first else "empty"
        return ParsedOutput(ok=False, error=f"no JSON events on stdout ({seen})")
    usage = Usage()
    messages: list[str] = []
    failure: str | None = None
    last_error: str | None = None
    completed = False
    for event in events:
        kind = event.get("type")
        if kind == "turn.completed":
            completed = True
            raw = event.get("usage") or {}
            usage = usage + Usage(
                input_tokens=as_int(raw.get("input_tokens")),
                cached_input_tokens=as_int(raw.get("cached_input_tokens")),
                output_tokens=as_int(raw.get("output_tokens")),
            )
        elif kind == "turn.failed":
            failure = str((event.get("error") or {}).get("message") or "turn failed")
        elif kind == "error":
            last_error = str(event.get("message") or "")
        elif kind == "item.completed":
            item = event.get("item") or {}
            if item.get("type") == "agent_message" and isinstance(item.get("text"), str):
                messages.append(item["text"])
    text = last_message.strip() or (messages[-1] if messages else "")
    parsed = ParsedOutput(text=text, usage=usage)
    parsed.structured = load_json(text) if text.lstrip().startswith("{") else None
    if failure is not None:
        parsed.ok, parsed.error = False, f"turn.failed: {failure}"
    elif exit_code not in (0, None):
        parsed.ok, parsed.error = False, last_error or f"exit code {exit_code}"
    elif not completed:
        parsed.ok, parsed.error = False, last_error or "no turn completed"
    return parsed
