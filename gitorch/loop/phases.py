"""Where a run's time goes: the duration of each phase, with test runs and gitorch's overhead apart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from gitorch.loop import events
from gitorch.loop.ledger import Ledger

APART = ("test", "overhead")  # timed inside other phases, and counted there only once


class PhaseClock:
    """Adds up seconds per phase into ``durations`` (the session's ``phase_durations``)."""

    def __init__(self, durations: dict[str, float], ledger: Ledger) -> None:
        self.durations = durations
        self.ledger = ledger

    @contextmanager
    def phase(self, name: str, iteration: int, kind: str | None = None) -> Iterator[None]:
        """Time a phase; test runs and overhead added inside it (:meth:`add`) are not counted twice."""
        started = time.monotonic()
        nested = self._apart()
        try:
            yield
        finally:
            elapsed = round(max(0.0, time.monotonic() - started - (self._apart() - nested)), 3)
            self.add(name, elapsed)
            extra = {} if kind is None else {"kind": kind}
            self.ledger.append(events.Phase(name=name, duration_s=elapsed, iteration=iteration, **extra))

    def add(self, name: str, seconds: float) -> None:
        self.durations[name] = round(self.durations.get(name, 0.0) + seconds, 3)

    def _apart(self) -> float:
        return sum(self.durations.get(name, 0.0) for name in APART)
