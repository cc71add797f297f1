"""The console of a fix run: a live display on a terminal, plain lines elsewhere (or with ``--no-progress``).

The live display keeps, under the lines the run prints, a status line (the phase, what runs now, the
time since the start, the money spent against the budget, the commits so far) and one line per attempt
under way, each with its finding, agent, stage and time. It is redrawn four times a second, so it never
stays still while the run waits on an analyzer, an agent or the tests.

NOTE: attempts have lines of their own (``Note.slot``) so that attempts running at the same time each get
one; the loop runs one at a time today.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

import typer

from gitorch.loop.human import LoopUI, Note

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from gitorch.loop.runner import FixLoop


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class _Slot:
    what: str
    stage: str
    since: float
    stage_since: float


@dataclass
class RunConsole:
    """What ``gitorch fix``, ``resume`` and ``demo`` show while a run goes on.

    ``live``: the live display (a terminal, and no ``--no-progress``); ``quiet``: nothing at all;
    ``interactive``: a y/N prompt can be asked (stdin and stderr are terminals, no ``--yes``).
    """

    live: bool = False
    quiet: bool = False
    interactive: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    started: float = field(default_factory=time.monotonic)
    phase: str = "starting"
    now: str = ""
    run: FixLoop | None = None
    slots: dict[str, _Slot] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _live: Live | None = None
    _console: Console | None = None

    @classmethod
    def for_terminal(cls, *, yes: bool, quiet: bool = False, no_progress: bool = False) -> RunConsole:
        """The console this process's standard streams call for."""
        err_tty = _isatty(sys.stderr)
        return cls(
            live=err_tty and not quiet and not no_progress,
            quiet=quiet,
            interactive=not yes and _isatty(sys.stdin) and err_tty,
        )

    def ui(self) -> LoopUI:
        return LoopUI(progress=self.progress, ask=self.ask if self.interactive else None, watch=self.watch)

    # the run's side ------------------------------------------------------------------------------

    def watch(self, run: FixLoop) -> None:
        self.run = run

    def progress(self, message: str) -> None:
        if self.quiet:
            return
        note = message if isinstance(message, Note) else Note(message)
        with self._lock:
            self._take(note)
        if not note.transient:  # a transient note only says what runs now: the live display shows it
            self._print(str(message))

    def _take(self, note: Note) -> None:
        stamp = time.monotonic()
        if note.phase:
            self.phase = note.phase
        if note.slot is None:
            if note.strip():
                self.now = note.strip()
            return
        if note.done:
            self.slots.pop(note.slot, None)
            return
        slot = self.slots.get(note.slot)
        if slot is None:
            slot = self.slots[note.slot] = _Slot(note.what or note.strip(), note.stage or "", stamp, stamp)
        if note.stage and note.stage != slot.stage:
            slot.stage, slot.stage_since = note.stage, stamp

    def ask(self, question: str) -> bool:
        with self._paused():
            return typer.confirm(question, default=False, err=True)

    # the display ---------------------------------------------------------------------------------

    def __enter__(self) -> RunConsole:
        if self.live and not self.quiet:
            from rich.console import Console
            from rich.live import Live

            self._console = Console(file=self.stream, stderr=self.stream is sys.stderr)
            self._live = Live(
                console=self._console,
                get_renderable=self._render,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _print(self, text: str) -> None:
        if self._live is not None and self._console is not None:
            self._console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(text, err=True)

    @contextlib.contextmanager
    def _paused(self):
        live = self._live
        if live is None:
            yield
            return
        live.stop()
        try:
            yield
        finally:
            live.start()

    def status_line(self) -> str:
        """The run in one line: phase, what runs now, elapsed time, spending, commits."""
        parts = [self.phase.replace("_", " ")]
        run = self.run
        if run is not None and run.state.iteration:
            parts.insert(0, f"iteration {run.state.iteration}/{run.options.max_iterations}")
        parts.append(_clock(time.monotonic() - self.started))
        if run is not None:
            parts.append(f"${run.budget.spent_usd:.3f} of ${run.options.budget_usd:.2f}")
            parts.append(f"{run.state.commits} commit{'s' if run.state.commits != 1 else ''}")
        return " · ".join(parts)

    def _render(self) -> RenderableType:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            now = self.now
            slots = list(self.slots.values())
        clock = time.monotonic()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_row(Spinner("dots", style="cyan"), Text(f"gitorch fix · {self.status_line()}", style="bold"))
        if not slots and now:
            grid.add_row("", Text(now, style="dim"))
        for slot in slots:
            grid.add_row(
                "",
                Text.assemble(
                    (slot.what, "cyan"),
                    f" — {slot.stage} ({_clock(clock - slot.stage_since)})",
                ),
            )
        return grid


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
