"""The session ledger: ``session.json`` (atomic), ``events.jsonl`` (append-only), ``calls/``, ``patches/``.

Layout, in ``<git-common-dir>/gitorch/sessions/<session-id>/``::

    session.json    the run's state, rewritten atomically (temp file, fsync, rename) after each step
    events.jsonl    one JSON object per line: phases, attempts, gates, confirmations, commits, rollbacks
    calls/          every agent call (the Recorder's directory): prompt, argv, output, usage
    patches/        the diff of every attempt that was not committed, never deleted by gitorch

The ledger is enough to resume a run, to rebuild its report and to replay it without any agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gitorch.services.atomic import atomic_write


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """One session's folder."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.session_file = directory / "session.json"
        self.events_file = directory / "events.jsonl"
        self.calls_dir = directory / "calls"
        self.patches_dir = directory / "patches"
        self._seq: int | None = None

    def create(self) -> Ledger:
        for d in (self.dir, self.calls_dir, self.patches_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.events_file.touch()
        return self

    def exists(self) -> bool:
        return self.session_file.is_file()

    # events ---------------------------------------------------------------------------------------

    def append(self, type_: str, **data: Any) -> dict[str, Any]:
        """Append one event. A line is written with one ``write`` call, so a kill never splits it."""
        if self._seq is None:
            self._seq = sum(1 for _ in self.events())
        self._seq += 1
        event = {"seq": self._seq, "ts": now_iso(), "type": type_, **data}
        line = json.dumps(event, default=_jsonable, ensure_ascii=False) + "\n"
        with open(self.events_file, "a", encoding="utf-8") as handle:
            handle.write(line)
        return event

    def events(self, type_: str | None = None) -> Iterator[dict[str, Any]]:
        """The events in order; a truncated last line (a crash mid-write) is skipped."""
        if not self.events_file.exists():
            return
        with open(self.events_file, encoding="utf-8") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if type_ is None or event.get("type") == type_:
                    yield event

    # state ----------------------------------------------------------------------------------------

    def save(self, state: BaseModel) -> None:
        atomic_write(self.session_file, state.model_dump_json(indent=2).encode())

    def load_raw(self) -> dict[str, Any]:
        return json.loads(self.session_file.read_text(encoding="utf-8"))

    # patches --------------------------------------------------------------------------------------

    def save_patch(self, name: str, patch: str) -> Path:
        path = self.patches_dir / f"{name}.patch"
        n = 1
        while path.exists():
            n += 1
            path = self.patches_dir / f"{name}-{n}.patch"
        atomic_write(path, patch.encode())
        return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
