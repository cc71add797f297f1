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

from gitorch.external import (
    ARGV_PROMPT_LIMIT,
    ExternalCliAgent,
    Invocation,
    ParsedOutput,
    Task,
    argv_prompt,
    as_int,
    load_json,
)
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
    description = "Gemini CLI (gemini -p, JSON output, auto_edit approval)"
    binary = "gemini"

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        mode = "auto_edit" if task == "fix" else "default"
        tail = ["-o", "json", "--approval-mode", mode, "--skip-trust", *self.model_args("-m")]
        if len(prompt.encode()) > ARGV_PROMPT_LIMIT:
            # Too long for one argv string: stdin is prepended to the -p text.
            pointer = "Follow the instructions above."
            return Invocation([self.executable(), "-p", pointer, *tail], stdin=prompt)
        return Invocation([self.executable(), "-p", argv_prompt(prompt), *tail])

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
    """Read ``gemini -o json`` output (errors may be JSON on stderr)."""
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
