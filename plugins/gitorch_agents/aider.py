"""Aider (``aider --message-file F``): plain text on stdout, usage in an analytics log.

Contract (shared/agent-clis README §7): no JSON output. ``--message-file`` carries the prompt,
``--yes-always`` approves edits, ``--no-auto-commits``/``--no-gitignore`` keep the worktree for
gitorch to review. Trap: a ``--message`` run exits 0 even when the LLM call failed (the error is text
on stdout), so success needs a ``message_send`` event in ``--analytics-log`` (which works with
``--no-analytics``) and no ``litellm.*Error`` on stdout. Cost is aider's own USD figure
(``message_send.properties.cost``, else the ``Cost: $X message`` lines). Audits add ``--dry-run``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gitorch.agents import ExternalCliAgent, Invocation, ParsedOutput, Task, json_lines
from gitorch.models import Usage
from gitorch.vcs.git import Git

HEADLESS = [
    "--yes-always",
    "--no-auto-commits",
    "--no-gitignore",
    "--no-check-update",
    "--no-show-release-notes",
    "--no-pretty",
    "--no-fancy-input",
    "--no-stream",
    "--no-analytics",
    "--no-show-model-warnings",
    # No repository map: it would write .aider.tags.cache.v4/ into the checkout being audited or fixed.
    "--map-tokens", "0",
]
# An audit shows aider the audited files read-only, up to these limits.
AUDIT_MAX_FILES = 40
AUDIT_MAX_BYTES = 200_000
FAILURE = re.compile(
    r"(litellm\.\w*(Error|Exception)\b|\b(AuthenticationError|APIConnectionError|RateLimitError|"
    r"BadRequestError|NotFoundError|ServiceUnavailableError)\b|not able to authenticate you|"
    r"Please open this URL in your browser)"
)
TOKENS = re.compile(
    r"^Tokens: (?P<sent>[\d.]+[kKmM]?) sent(?:, (?P<cache>[\d.]+[kKmM]?) cache (?:write|hit)[^,]*)*, "
    r"(?P<received>[\d.]+[kKmM]?) received\.(?: Cost: \$(?P<cost>[\d.]+) message)?",
    re.MULTILINE,
)
HEADER = re.compile(
    r"^(Aider v|Main model:|Weak model:|Editor model:|Git repo:|Repo-map:|Model:|Detected dumb terminal|"
    r"Added .* to the chat|HTTPSConnectionPool|Warning|Use /help|Can't initialize prompt toolkit|"
    r"Update git (name|email) with|Read-only file|Cur working dir|Git working dir)"
)


class Aider(ExternalCliAgent):
    """Aider, the AI pair-programming CLI."""

    name = "aider"
    description = "Aider (--message-file, --yes-always, no auto-commits; usage from its analytics log)"
    binary = "aider"
    # its configuration, sessions and caches: writable in gitorch's sandbox
    writes = ("{home}/.aider/",)

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        message = calldir / "message.md"
        message.write_text(prompt, encoding="utf-8")
        analytics = calldir / "analytics.jsonl"
        argv = [
            self.executable(),
            "--message-file", str(message),
            *HEADLESS,
            "--analytics-log", str(analytics),
            # Keep aider's history files out of the worktree.
            "--chat-history-file", str(calldir / "chat.history.md"),
            "--input-history-file", str(calldir / "input.history"),
            *self.model_args("--model"),
        ]
        if task == "audit":
            argv.append("--dry-run")
            for name in audit_files(cwd, self.scope):
                argv += ["--read", name]
        else:
            argv += self.targets  # the finding's file, added to the chat
        return Invocation(argv, files={"analytics": analytics})

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        return parse_aider(stdout, stderr, exit_code, files.get("analytics"))


def audit_files(root: Path, scope: str) -> list[str]:
    """Tracked text files under ``scope`` (never secret files), smallest first, within the limits."""
    from gitorch.services.redact import is_secret_file

    listed = Git(root).run("ls-files", "-z", "--", scope, check=False)
    sized = []
    for name in filter(None, listed.split("\0")):
        path = root / name
        if is_secret_file(name) or not path.is_file():
            continue
        size = path.stat().st_size
        if 0 < size <= AUDIT_MAX_BYTES and b"\0" not in path.read_bytes()[:4096]:
            sized.append((size, name))
    chosen, total = [], 0
    for size, name in sorted(sized):
        if len(chosen) == AUDIT_MAX_FILES or total + size > AUDIT_MAX_BYTES:
            break
        chosen.append(name)
        total += size
    return sorted(chosen)


def _count(text: str | None) -> int:
    if not text:
        return 0
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return round(float(text.rstrip("kKmM")) * scale)


def _reply(stdout: str) -> str:
    """The model's answer: what follows aider's start-up banner, up to its first ``Tokens:`` line."""
    lines = stdout.splitlines()
    end = next((i for i, line in enumerate(lines) if TOKENS.match(line)), len(lines))
    start = 0
    for i, line in enumerate(lines[:end]):
        if HEADER.match(line):
            start = i + 1
    return "\n".join(lines[start:end]).strip()


def parse_aider(
    stdout: str, stderr: str, exit_code: int | None, analytics: str | None = None
) -> ParsedOutput:
    """Read aider's stdout and (when given) its ``--analytics-log`` JSONL."""
    events = json_lines(analytics or "")
    sends = [e.get("properties") or {} for e in events if e.get("event") == "message_send"]
    if sends:
        usage = Usage(
            input_tokens=sum(int(p.get("prompt_tokens") or 0) for p in sends),
            output_tokens=sum(int(p.get("completion_tokens") or 0) for p in sends),
            cost_usd=round(sum(float(p.get("cost") or 0) for p in sends), 6),
            cost_source="reported",
        )
    else:
        usage = Usage()
        costs = []
        for match in TOKENS.finditer(stdout):
            usage = usage + Usage(input_tokens=_count(match["sent"]), output_tokens=_count(match["received"]))
            if match["cost"]:
                costs.append(float(match["cost"]))
        if costs:
            usage = usage.model_copy(update={"cost_usd": round(sum(costs), 6), "cost_source": "reported"})
    parsed = ParsedOutput(text=_reply(stdout), usage=usage)
    failure = FAILURE.search(stdout) or FAILURE.search(stderr)
    if exit_code == 2:
        lines = [line for line in stderr.splitlines() if "error:" in line]
        parsed.ok, parsed.error = False, lines[-1] if lines else "argv rejected (exit 2)"
    elif exit_code not in (0, None):
        lines = stderr.strip().splitlines() or stdout.strip().splitlines()
        parsed.ok, parsed.error = False, lines[-1] if lines else f"exit code {exit_code}"
    elif failure:
        # NOTE: aider exits 0 after a failed LLM call; its error is text on stdout.
        line = next(li for li in (stdout + "\n" + stderr).splitlines() if FAILURE.search(li))
        parsed.ok, parsed.error = False, line.strip()[:500]
    elif analytics is not None and events and not sends:
        parsed.ok, parsed.error = False, "no message was sent to the model (no message_send event)"
    elif not sends and not TOKENS.search(stdout):
        parsed.ok, parsed.error = False, "no sign that the model answered (no Tokens line, no message_send)"
    return parsed
