"""The session ledger: ``session.json`` (atomic), ``events.jsonl`` (append-only), ``calls/``, ``patches/``.

Layout, in ``<git-common-dir>/gitorch/sessions/<session-id>/``::

    session.json    the run's state, rewritten atomically (temp file, fsync, rename) after each step
    events.jsonl    one event per line (:mod:`gitorch.loop.events`): phases, attempts, gates, commits, ...
    calls/          every agent call (the Recorder's directory): prompt, argv, output, usage
    patches/        the diff of every attempt that was not committed, never deleted by gitorch

The ledger is enough to resume a run, to rebuild its report and to replay it without any agent.
Everything written here goes through the ledger's redactor first (:attr:`Ledger.redactor`; the fix loop
lends it the run's, which knows the environment's and the repository's secrets): events, the state, patches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from gitorch.errors import LedgerError
from gitorch.loop.events import Event, parse_event, to_line
from gitorch.services.atomic import atomic_write

if TYPE_CHECKING:
    from gitorch.services.redact import Redactor

log = logging.getLogger("gitorch.loop.ledger")

E = TypeVar("E", bound=Event)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """One session's folder."""

    def __init__(self, directory: Path, redactor: Redactor | None = None) -> None:
        self.dir = directory
        self._redactor = redactor
        self.session_file = directory / "session.json"
        self.events_file = directory / "events.jsonl"
        self.calls_dir = directory / "calls"
        self.patches_dir = directory / "patches"
        self._seq: int | None = None
        self._needs_newline = False
        self._append_lock = threading.Lock()

    def create(self) -> Ledger:
        for d in (self.dir, self.calls_dir, self.patches_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.events_file.touch()
        return self

    def exists(self) -> bool:
        return self.session_file.is_file()

    @property
    def redactor(self) -> Redactor:
        """What masks everything written here (by default, secrets found by format and by assignment)."""
        if self._redactor is None:
            from gitorch.services.redact import Redactor

            self._redactor = Redactor()
        return self._redactor

    @redactor.setter
    def redactor(self, redactor: Redactor) -> None:
        self._redactor = redactor

    # events ---------------------------------------------------------------------------------------

    def append(self, event: E) -> E:
        """Append one event (its ``seq`` and ``ts`` set here) and return it as written. A line is written
        with one ``write`` call, so a kill never splits it. Thread-safe (``gitorch fix --jobs``)."""
        with self._append_lock:
            return self._append(event)

    def _append(self, event: E) -> E:
        if self._seq is None:
            lines = list(self._lines())
            self._seq = sum(1 for _, text in lines if text is not None and _is_json(text))
            last = lines[-1][1] if lines else "\n"
            self._needs_newline = last is not None and not last.endswith("\n")
        self._seq += 1
        written = event.model_copy(update={"seq": self._seq, "ts": now_iso()})
        line = to_line(written, written.seq, written.ts)
        line = json.dumps(self.redactor.mask_data(json.loads(line)), ensure_ascii=False) + "\n"
        written = parse_event(line)
        if self._needs_newline:  # a line cut short by a crash stays on its own line
            line, self._needs_newline = "\n" + line, False
        with open(self.events_file, "a", encoding="utf-8") as handle:
            handle.write(line)
        return written

    @overload
    def events(self) -> Iterator[Event]: ...

    @overload
    def events(self, kind: type[E]) -> Iterator[E]: ...

    def events(self, kind: type[Event] | None = None) -> Iterator[Event]:
        """The events in order, as their models (of type ``kind`` only, when given).

        A line that is not a known event (a later gitorch's, damaged, not UTF-8, not a JSON object) is
        skipped with a warning naming the file and the line; a truncated last line (a crash mid-write) is
        skipped silently.
        """
        for number, text in self._lines():
            if text is None:
                log.warning("%s line %d skipped: not UTF-8 text", self.events_file, number)
                continue
            try:
                event = parse_event(text)
            except ValidationError as exc:
                if text.endswith("\n"):
                    log.warning("%s line %d skipped: %s", self.events_file, number, _why_skipped(exc))
                continue
            if kind is None or isinstance(event, kind):
                yield event

    def _lines(self) -> Iterator[tuple[int, str | None]]:
        """(number, text) of every line that is not blank; text None for a line that is not UTF-8."""
        try:
            data = self.events_file.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise LedgerError(f"{self.events_file}: cannot be read ({exc.strerror or exc})") from None
        for number, raw in enumerate(data.splitlines(keepends=True), 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
                continue
            if text.strip():
                yield number, text

    # state ----------------------------------------------------------------------------------------

    def save(self, state: BaseModel) -> None:
        data = self.redactor.mask_data(state.model_dump(mode="json"))
        atomic_write(self.session_file, json.dumps(data, indent=2, ensure_ascii=False).encode())

    def load_raw(self) -> dict[str, Any]:
        """``session.json`` as a dict; :class:`~gitorch.errors.LedgerError` (one line: the file, what is
        wrong) when it cannot be read, is not UTF-8, not JSON, or not a JSON object."""
        where = self.session_file
        try:
            data = json.loads(where.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise LedgerError(f"{where}: missing (the session folder holds no state)") from None
        except OSError as exc:
            raise LedgerError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise LedgerError(f"{where}: damaged (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            what = "empty" if not exc.doc.strip() else f"not JSON: {exc.msg} at line {exc.lineno}"
            raise LedgerError(f"{where}: damaged ({what})") from None
        if not isinstance(data, dict):
            raise LedgerError(f"{where}: damaged (a JSON {type(data).__name__}, not an object)")
        return data

    # patches --------------------------------------------------------------------------------------

    def save_patch(self, name: str, patch: str) -> Path:
        path = self.patches_dir / f"{name}.patch"
        n = 1
        while path.exists():
            n += 1
            path = self.patches_dir / f"{name}-{n}.patch"
        atomic_write(path, self.redactor.mask(patch).encode())
        return path


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _why_skipped(exc: ValidationError) -> str:
    error = exc.errors()[0]
    kind = error["type"]
    if kind == "json_invalid":
        return "not JSON"
    if kind == "dict_type":
        return "not a JSON object"
    if kind == "union_tag_not_found":
        return "no event type"
    if kind == "union_tag_invalid":
        return f"unknown event type {error.get('ctx', {}).get('tag', '?')!r} (written by a later gitorch?)"
    loc = [str(p) for p in error.get("loc", ())]
    if not loc:
        return f"not a valid event ({error['msg']})"
    event, *where = loc
    return f"not a valid {event} event ({'.'.join(where) or 'value'}: {error['msg']})"
