"""Gemini CLI (``gemini -p … -o json``): one JSON object, tokens only (priced by gitorch).

Contract (shared/agent-clis README §3): ``-p PROMPT`` runs headless; ``--approval-mode auto_edit``
(underscore) auto-approves edit tools; ``--skip-trust`` avoids exit 55 in an untrusted folder. Exit
codes: 41 auth, 42 input, 44 sandbox, 52 config, 53 turn limit, 54 tool error, 55 untrusted, 130
cancelled, 145 an HTTP 401 (401 mod 256). With ``-o json`` errors are JSON on **stderr**.
``stats.models[m].tokens.prompt`` includes cached tokens (``input`` = prompt − cached).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput, Task, as_int, json_lines, load_json
from gitorch.models import Usage

EXIT_CODES = {
    1: "general or argument error",
    41: "authentication error",
    42: "input error",
    44: "sandbox error",
    52: "configuration error",
    53: "turn limit reached",
    54: "fatal tool execution error",
    55: "untrusted workspace",
    130: "cancelled",
    145: "HTTP 401 from the API",
}


class Gemini(ExternalCliAgent):
    """Google's Gemini CLI."""

    name = "gemini"
    description = "Gemini CLI (gemini -p, stream-json, auto_edit approval for fixes)"
    binary = "gemini"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.gemini/",)

    Options = ExternalCliAgent.StreamingOptions  # stream: -o stream-json, else -o json

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        mode = "auto_edit" if task == "fix" else "default"
        fmt = "stream-json" if self.options.stream else "json"
        tail = ["-o", fmt, "--approval-mode", mode, "--skip-trust", *self.model_args("-m")]
        # A prompt too long for argv goes to stdin, which gemini puts before the -p text.
        words, stdin = self.prompt_args(prompt, "-p", on_stdin=("-p", "Follow the instructions above."))
        return Invocation([self.executable(), *words, *tail], stdin=stdin)

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_gemini(stdout, stderr, exit_code)


def _json_object(text: str) -> dict[str, Any] | None:
    whole = load_json(text)
    if isinstance(whole, dict):
        return whole
    start = text.find("{")  # warnings may precede the object
    if start > 0:
        tail = load_json(text[start:])
        if isinstance(tail, dict):
            return tail
    return None


def parse_gemini(stdout: str, stderr: str, exit_code: int | None) -> ParsedOutput:
    """Read ``gemini -o json`` or ``-o stream-json`` output (errors may be JSON on stderr)."""
    events = [e for e in json_lines(stdout) if isinstance(e.get("type"), str)]
    if events:
        return _parse_stream(events, stderr, exit_code)
    data = _json_object(stdout)
    err = _json_object(stderr)
    usage, model = _usage(data or {})
    text = str((data or {}).get("response") or "")
    parsed = ParsedOutput(text=text, usage=usage, model=model)
    error_obj = (data or {}).get("error") or (err or {}).get("error")
    if exit_code not in (0, None):
        meaning = EXIT_CODES.get(exit_code, "error")
        message = error_obj.get("message") if isinstance(error_obj, dict) else None
        if not message:
            lines = stderr.strip().splitlines()
            message = lines[0] if lines else ""
        parsed.ok, parsed.error = False, f"{meaning}: {message}".rstrip(": ")
    elif isinstance(error_obj, dict):
        parsed.ok, parsed.error = False, str(error_obj.get("message") or error_obj)
    elif data is None:
        first = stdout.strip().splitlines()[:1]
        parsed.ok, parsed.error = False, f"no JSON object on stdout ({first[0][:200] if first else 'empty'})"
    return parsed


def _parse_stream(events: list[dict[str, Any]], stderr: str, exit_code: int | None) -> ParsedOutput:
    """``-o stream-json``: init, message (assistant deltas), tool_use, tool_result, error, result."""
    model = next((e.get("model") for e in events if e.get("type") == "init" and e.get("model")), None)
    chunks: list[str] = []
    errors: list[str] = []
    result: dict[str, Any] | None = None
    for event in events:
        kind = event.get("type")
        if kind == "message" and event.get("role") == "assistant":
            chunks.append(str(event.get("content") or ""))
        elif kind in ("tool_use", "tool_result"):
            chunks = []  # the final answer is what the model said after its last tool call
        elif kind == "error":
            errors.append(str(event.get("message") or event.get("error") or "error"))
        elif kind == "result":
            result = event
    stats = (result or {}).get("stats") or {}
    usage = Usage(
        input_tokens=as_int(stats.get("input_tokens"))
        or as_int(stats.get("input")) + as_int(stats.get("cached")),
        cached_input_tokens=as_int(stats.get("cached")),
        output_tokens=as_int(stats.get("output_tokens")),
        models=sorted(stats.get("models") or {}),
    )
    models = stats.get("models") or {}
    if models:
        model = max(models, key=lambda m: as_int((models[m] or {}).get("total_tokens")))
    parsed = ParsedOutput(text="".join(chunks).strip(), usage=usage, model=model)
    if exit_code not in (0, None):
        lines = stderr.strip().splitlines()
        err = _json_object(stderr)
        message = ((err or {}).get("error") or {}).get("message") if err else None
        message = message or (errors[-1] if errors else (lines[0] if lines else ""))
        parsed.ok, parsed.error = False, f"{EXIT_CODES.get(exit_code, 'error')}: {message}".rstrip(": ")
    elif result is None:
        parsed.ok, parsed.error = False, errors[-1] if errors else "no result event"
    elif result.get("status") != "success":
        detail = result.get("error")
        detail = detail.get("message") if isinstance(detail, dict) else detail
        detail = detail or (errors[-1] if errors else "")
        parsed.ok, parsed.error = False, f"status {result.get('status')}: {detail}"
    return parsed


def _usage(data: dict[str, Any]) -> tuple[Usage, str | None]:
    models = ((data.get("stats") or {}).get("models")) or {}
    usage = Usage()
    main, most = None, -1
    for name, stats in models.items():
        tokens = (stats or {}).get("tokens") or {}
        prompt = as_int(tokens.get("prompt")) or as_int(tokens.get("input")) + as_int(tokens.get("cached"))
        output = as_int(tokens.get("candidates")) + as_int(tokens.get("thoughts"))
        usage = usage + Usage(input_tokens=prompt, cached_input_tokens=as_int(tokens.get("cached")),
                              output_tokens=output, models=[name])
        if prompt + output > most:
            main, most = name, prompt + output
    return usage, main
