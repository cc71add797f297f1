"""How the loop talks to a human: progress lines, and the answer to a confirm gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitorch.loop import events
from gitorch.loop.gates import GateHit
from gitorch.loop.ledger import Ledger


class Note(str):
    """A progress message that also says what it is about, for a live console; anything else takes it
    as the plain string it is.

    - ``phase``: the run's phase it starts or belongs to (``audit``, ``baseline tests``, ``close_gaps``…).
    - ``slot``: a line of its own for work that may run alongside other work (one fix attempt), kept
      until a note of the same slot says ``done``; ``what`` names that work (its finding and agent) and
      ``stage`` what it is doing now (``agent``, ``tests``…).
    - ``transient``: only for a live display (what runs now); a plain log leaves it out.
    """

    phase: str | None
    slot: str | None
    what: str | None
    stage: str | None
    done: bool
    transient: bool

    def __new__(
        cls,
        text: str,
        *,
        phase: str | None = None,
        slot: str | None = None,
        what: str | None = None,
        stage: str | None = None,
        done: bool = False,
        transient: bool = False,
    ) -> Note:
        note = super().__new__(cls, text)
        note.phase, note.slot, note.what, note.stage = phase, slot, what, stage
        note.done, note.transient = done, transient
        return note


@dataclass
class LoopUI:
    """How the loop talks to a human: ``progress`` lines (str, or :class:`Note`), ``ask`` (None when there is
    no terminal), ``watch``, given the run (a :class:`~gitorch.loop.runner.FixLoop`) when it starts, for
    a display that shows its spending and commits as they change (it must only read), and ``running``: the
    attempts running now, one line each (``--jobs``), called whenever they change and about every quarter
    of a second while they run (``[]`` when none is left)."""

    progress: Callable[[str], None] = lambda message: None
    ask: Callable[[str], bool] | None = None
    watch: Callable[[object], None] | None = None
    running: Callable[[list[str]], None] | None = None


@dataclass
class Confirmer:
    """Answers a confirm gate: ``--yes`` approves, a terminal asks, and with neither the answer is no.
    Every question, its reasons and the answer go to the ledger."""

    yes: bool
    ui: LoopUI
    ledger: Ledger

    def __call__(self, question: str, hits: list[GateHit], diff: dict | None, iteration: int) -> bool:
        if self.yes:
            answer, how = True, "--yes"
        elif self.ui.ask is None:
            answer, how = False, "declined: no terminal and no --yes"
        else:
            reasons = "; ".join(f"{h.gate}: {h.detail}" for h in hits)
            answer, how = bool(self.ui.ask(f"{question}\n  ({reasons})")), "prompt"
        self.ledger.append(
            events.Confirmation(
                iteration=iteration,
                question=question,
                reasons=[events.HitRecord.of(h) for h in hits],
                answer=answer,
                how=how,
                diff=diff,
            )
        )
        return answer
