"""What an agent CLI call is built from and what it produced: invocation, parsed output, JSON helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitorch.models import (
    Usage,
)

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------------------------------
# What a subclass builds and parses.


@dataclass
class Invocation:
    """One call's command: argv, what goes to stdin, extra environment and the side files it uses."""

    argv: list[str]
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # role -> path in the call's private directory
    extra_at: int | None = None  # where Options.extra_args go in argv (None: at the end)

    def with_extra(self, extra: list[str]) -> Invocation:
        """This invocation with ``extra`` inserted at ``extra_at``."""
        at = len(self.argv) if self.extra_at is None else self.extra_at
        self.argv[at:at] = list(extra)
        self.extra_at = None
        return self


@dataclass
class ParsedOutput:
    """What a CLI run means: the final text, whether it really succeeded, usage, structured output."""

    text: str = ""
    ok: bool = True
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    structured: Any = None
    notes: list[str] = field(default_factory=list)


@dataclass
class CallOutcome:
    """A successful call's result as the audit and fix code use it."""

    text: str
    usage: Usage
    structured: Any = None
    call_id: str | None = None
    notes: list[str] = field(default_factory=list)


def load_json(text: str) -> Any:
    """Parse ``text`` as JSON, or return None."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError, ValueError):
        return None


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL stream; other lines (banners, warnings) are skipped."""
    events = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            value = load_json(line)
            if isinstance(value, dict):
                events.append(value)
    return events


def argv_prompt(prompt: str) -> str:
    """The prompt as one argv string that no option parser mistakes for a flag."""
    return " " + prompt if prompt.startswith("-") else prompt


def as_int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


