"""How the loop talks to a human: progress lines, and the answer to a confirm gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitorch.loop import events
from gitorch.loop.gates import GateHit
from gitorch.loop.ledger import Ledger


@dataclass
class LoopUI:
    """How the loop talks to a human: ``progress`` lines, ``ask`` (None when there is no terminal), and
    ``running``: the attempts running now, one line each (``--jobs``), called whenever they change and
    about every quarter of a second while they run (``[]`` when none is left); a terminal shows them live."""

    progress: Callable[[str], None] = lambda message: None
    ask: Callable[[str], bool] | None = None
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
