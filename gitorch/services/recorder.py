"""Every external agent call, kept (record), served back (replay) or only listed (off).

A recorded call is one JSON file, ``<directory>/<NNNN>-<agent>.json``, written atomically (temporary
file, fsync, rename), holding argv, prompt, raw stdout/stderr, usage, duration and exit code, all with
secrets masked. Replay serves the recorded calls back in order with no subprocess, so a recorded run
replays deterministically; an agent plugin does::

    if recorder is not None and recorder.replaying:
        call = recorder.next_recorded(self.name, prompt, cwd=workdir)
    else:
        call = ... run the CLI, build an AgentCall ...
        call = recorder.record(call) if recorder is not None else call
    # parse call.stdout (the masked text, identical in both modes)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gitorch.errors import AgentError, UsageError
from gitorch.models import Usage
from gitorch.services.atomic import atomic_write

if TYPE_CHECKING:
    from gitorch.services.redact import Redactor

log = logging.getLogger("gitorch.services.recorder")

Mode = Literal["record", "replay", "off"]
_FILE = re.compile(r"^(\d{4,})-([A-Za-z0-9_.-]+)\.json$")


def _now() -> datetime:
    return datetime.now(UTC)


class AgentCall(BaseModel):
    """One run of an external agent CLI, as kept in the session's ledger (secrets masked)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    id: str = ""
    agent: str
    task: str = "audit"
    argv: list[str] = Field(default_factory=list)
    cwd: str = ""
    prompt: str = ""
    prompt_hash: str = Field(default="", description="hash of the normalised prompt, see normalize_prompt")
    model: str | None = None
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, str] = Field(
        default_factory=dict, description="side outputs the agent read (a usage file, a last-message file)"
    )
    exit_code: int | None = None
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    timed_out: bool = False
    overshoot_usd: float = Field(0.0, description="how far this call took the run past its budget (target 0)")
    started_at: datetime = Field(default_factory=_now)


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_SPACE = re.compile(r"\s+")


def normalize_prompt(prompt: str, cwd: str | Path | None = None) -> str:
    """The prompt with what legitimately changes between runs blanked: the working directory (a new
    worktree each run), timestamps, UUIDs, and runs of whitespace."""
    text = prompt
    if cwd:
        for form in {str(cwd), str(Path(cwd).resolve())}:
            if len(form) > 1:
                text = text.replace(form, "<cwd>")
    text = _ISO_TIME.sub("<time>", text)
    text = _UUID.sub("<uuid>", text)
    return _SPACE.sub(" ", text).strip()


def prompt_hash(prompt: str, cwd: str | Path | None = None) -> str:
    """sha256 (16 hex digits) of :func:`normalize_prompt`."""
    return hashlib.sha256(normalize_prompt(prompt, cwd).encode("utf-8")).hexdigest()[:16]


def _safe_name(agent: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", agent) or "agent"


class Recorder:
    """Keeps agent calls in ``directory`` (``record``), serves them back (``replay``), or neither (``off``).

    - ``record(call)`` masks the call with the redactor (without one, credential-looking strings are
      still masked), writes it (record mode with a directory) and returns the masked call, which is
      what the agent should parse so that replay sees the same text.
    - ``next_recorded(agent, prompt)`` (replay mode) returns the next recorded call. Another agent name
      is an :class:`AgentError`; a different prompt is noted in ``mismatches`` and logged, not fatal;
      running out of recorded calls is an :class:`AgentError`.
    - ``calls`` lists the calls recorded (or served) by this process, in order.
    """

    def __init__(
        self, directory: Path | None, mode: Mode = "record", redactor: Redactor | None = None
    ) -> None:
        if mode not in ("record", "replay", "off"):
            raise UsageError(f"recorder mode must be record, replay or off, not {mode!r}")
        self.directory = Path(directory) if directory is not None else None
        self.mode: Mode = mode
        if redactor is None:  # still mask credential-looking strings: nothing secret reaches the disk
            from gitorch.services.redact import Redactor

            redactor = Redactor()
        self.redactor = redactor
        self.calls: list[AgentCall] = []
        self.mismatches: list[str] = []
        self._lock = threading.Lock()
        self._queue: list[AgentCall] = []
        self._served = 0
        self._next = 1
        if mode == "replay":
            if self.directory is None or not self.directory.is_dir():
                raise UsageError(f"replay: no recorded calls in {self.directory}")
            self._queue = self.load(self.directory)
        elif self.directory is not None and self.directory.is_dir():
            numbers = [int(m.group(1)) for p in self.directory.iterdir() if (m := _FILE.match(p.name))]
            self._next = max(numbers, default=0) + 1  # a resumed run appends after what is there

    @property
    def replaying(self) -> bool:
        return self.mode == "replay"

    @property
    def remaining(self) -> int:
        """Recorded calls not served yet (replay mode)."""
        return len(self._queue) - self._served

    @staticmethod
    def load(directory: Path) -> list[AgentCall]:
        """The calls recorded in ``directory``, in recording order."""
        found: list[tuple[int, Path]] = []
        for path in directory.iterdir():
            match = _FILE.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
        calls = []
        for _, path in sorted(found):
            try:
                calls.append(AgentCall.model_validate_json(path.read_text(encoding="utf-8")))
            except (ValueError, OSError) as exc:
                raise AgentError(
                    f"replay: {path} is not a recorded call: {str(exc).splitlines()[0]}"
                ) from None
        return calls

    def mask(self, call: AgentCall) -> AgentCall:
        """A copy of ``call`` with every secret masked (argv, cwd, prompt, outputs, error)."""
        red = self.redactor
        if red is None:
            return call
        return call.model_copy(
            update={
                "argv": [red.mask(a) for a in call.argv],
                "cwd": red.mask(call.cwd),
                "prompt": red.mask(call.prompt),
                "stdout": red.mask(call.stdout),
                "stderr": red.mask(call.stderr),
                "extra": {k: red.mask(v) for k, v in call.extra.items()},
                "error": red.mask(call.error) if call.error is not None else None,
            }
        )

    def record(self, call: AgentCall) -> AgentCall:
        """Mask, number, keep and (record mode) write ``call``; returns the masked call.

        In replay mode the call was served by :meth:`next_recorded` and is returned unchanged.
        """
        if self.mode == "replay":
            return call
        masked = self.mask(call)
        with self._lock:
            seq = self._next
            self._next += 1
            update: dict[str, Any] = {}
            if not masked.id:
                update["id"] = f"{seq:04d}-{_safe_name(masked.agent)}"
            if not masked.prompt_hash:
                update["prompt_hash"] = prompt_hash(masked.prompt, masked.cwd)
            masked = masked.model_copy(update=update)
            self.calls.append(masked)
        if self.mode == "record" and self.directory is not None:
            path = self.directory / f"{seq:04d}-{_safe_name(masked.agent)}.json"
            atomic_write(
                path, json.dumps(masked.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
            )
        return masked

    def next_recorded(self, agent: str, prompt: str = "", *, cwd: str | Path | None = None) -> AgentCall:
        """Serve the next recorded call (replay mode), checking it was made by ``agent``."""
        if self.mode != "replay":
            raise UsageError("next_recorded() needs a recorder in replay mode")
        with self._lock:
            if self._served >= len(self._queue):
                raise AgentError(
                    f"replay: {agent} asked for call {self._served + 1} but the recording has only "
                    f"{len(self._queue)} call(s)"
                )
            call = self._queue[self._served]
            if call.agent != agent:
                raise AgentError(
                    f"replay: call {self._served + 1} ({call.id}) was recorded for {call.agent!r}, "
                    f"not {agent!r}: the run diverged from the recording"
                )
            self._served += 1
            masked = self.redactor.mask(prompt) if self.redactor is not None else prompt
            expected = call.prompt_hash or prompt_hash(call.prompt, call.cwd)
            if prompt and prompt_hash(masked, cwd) != expected:
                note = f"replay: the prompt of call {call.id} differs from the recorded one"
                self.mismatches.append(note)
                log.warning(note)
            self.calls.append(call)
            return call
