"""Turns that make a real CLI use its own tools: an edit, a new file, a structured answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitorch.testing.model_server.script import DEFAULT_USAGE, Reply, ToolCall, Turn, Usage

#: The file tools each CLI advertises in its requests (observed with the versions in
#: ``.ci/agent-clis.txt``), as ``cli -> (edit tool, write tool)``.
AGENT_EDIT_TOOLS: dict[str, tuple[str, str]] = {
    "claude": ("Edit", "Write"),
    "codex": ("apply_patch", "apply_patch"),
    "gemini": ("replace", "write_file"),
    "qwen": ("edit", "write_file"),
}


def codex_apply_patch(changes: Mapping[str, tuple[str, str] | str]) -> str:
    """Build a Codex ``apply_patch`` envelope.

    ``changes`` maps a path (relative to the working root) to ``(old, new)`` for an update of one
    hunk, or to a string for a new file's whole content.
    """
    lines = ["*** Begin Patch"]
    for path, change in changes.items():
        if isinstance(change, str):
            lines.append(f"*** Add File: {path}")
            lines += [f"+{line}" for line in change.splitlines()]
        else:
            old, new = change
            lines += [f"*** Update File: {path}", "@@"]
            lines += [f"-{line}" for line in old.splitlines()]
            lines += [f"+{line}" for line in new.splitlines()]
    lines.append("*** End Patch")
    return "\n".join(lines) + "\n"


def edit_file_turns(
    cli: str, path: str | Path, old: str, new: str, *, usage: Usage = DEFAULT_USAGE
) -> list[Turn]:
    """The turns that make ``cli`` replace ``old`` with ``new`` in ``path`` through its own edit tool.

    Claude Code and Qwen Code refuse to edit a file they have not read in the session, so for them
    this is a read call followed by an edit call; codex and gemini need one call. Every turn reports
    ``usage``. ``path`` should be absolute for claude and gemini (their tools require it); codex's
    patch takes it relative to its working root. Follow these turns with a :class:`Reply` that
    ends the task.
    """
    if cli == "claude":
        return [
            ToolCall("Read", {"file_path": str(path)}, usage=usage),
            ToolCall("Edit", {"file_path": str(path), "old_string": old, "new_string": new}, usage=usage),
        ]
    if cli == "qwen":
        return [
            ToolCall("read_file", {"file_path": str(path)}, usage=usage),
            ToolCall("edit", {"file_path": str(path), "old_string": old, "new_string": new}, usage=usage),
        ]
    if cli == "codex":
        return [ToolCall("apply_patch", codex_apply_patch({str(path): (old, new)}), usage=usage)]
    if cli == "gemini":
        arguments = {
            "file_path": str(path),
            "old_string": old,
            "new_string": new,
            "instruction": "apply the fix",
        }
        return [ToolCall("replace", arguments, usage=usage)]
    raise ValueError(f"no edit tool known for {cli!r}")


def write_file_call(cli: str, path: str | Path, content: str, *, usage: Usage = DEFAULT_USAGE) -> ToolCall:
    """The tool call that makes ``cli`` create a new file ``path`` with its own write tool.

    (Overwriting an existing file with claude's ``Write`` needs a ``Read`` of it first, like ``Edit``.)
    """
    if cli == "claude":
        return ToolCall("Write", {"file_path": str(path), "content": content}, usage=usage)
    if cli == "codex":
        return ToolCall("apply_patch", codex_apply_patch({str(path): content}), usage=usage)
    if cli in ("gemini", "qwen"):
        return ToolCall("write_file", {"file_path": str(path), "content": content}, usage=usage)
    raise ValueError(f"no write tool known for {cli!r}")


def structured_answer(cli: str, data: Any, *, usage: Usage = DEFAULT_USAGE) -> Turn:
    """The turn that answers a CLI run with a JSON schema (``claude --json-schema``,
    ``codex exec --output-schema``) with ``data``.

    Claude Code adds a ``StructuredOutput`` tool when given a schema and ends the run as soon as
    the model calls it (no further request), qwen a ``structured_output`` tool; codex takes the JSON
    as the final text.
    """
    if cli == "claude":
        return ToolCall("StructuredOutput", data, usage=usage)
    if cli == "qwen":  # qwen --json-schema adds a structured_output tool and insists on it being called
        return ToolCall("structured_output", data, usage=usage)
    return Reply(json.dumps(data), usage=usage)


