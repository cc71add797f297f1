"""Masking what an agent call sends and receives: the run's redactor plus the agent's own secrets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gitorch.agents.output import ParsedOutput
from gitorch.services.redact import MARK, is_secret_name

if TYPE_CHECKING:
    from gitorch.services.redact import Redactor

# Shorter values are too likely to occur by chance in ordinary text.
MIN_SECRET_LENGTH = 6


class CallMasker:
    """Masks one agent's prompts, outputs and records.

    The context's redactor knows the environment's keys and the repository's ``.env`` files; the
    values of secret-named keys in the agent's ``env`` option come from configuration files it never
    read, so they are masked here too.
    """

    def __init__(self, redactor: Redactor | None, agent_env: dict[str, str]) -> None:
        self.redactor = redactor
        self.own = {name: value for name, value in agent_env.items()
                    if len(value) >= MIN_SECRET_LENGTH and is_secret_name(name)}

    def __call__(self, text: str) -> str:
        if self.redactor is not None:
            text = self.redactor.mask(text)
        for name, value in self.own.items():
            if value in text:
                text = text.replace(value, MARK.format(name))
        return text

    def parsed(self, parsed: ParsedOutput) -> ParsedOutput:
        """Mask the parsed answer again.

        NOTE: streamed answers arrive in chunks (gemini deltas, ~24 characters each), so a secret can be
        split across two JSON events and escape the masking of the raw output: mask the joined text.
        """
        parsed.text = self(parsed.text)
        if parsed.structured is not None:
            parsed.structured = json.loads(self(json.dumps(parsed.structured, ensure_ascii=False)))
        return parsed
