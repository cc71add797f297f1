"""The money side of one agent call: the budget checked before it, the call priced and charged after.

::

    account = CallAccount(context.budget, config.pricing, what="claude fix")
    account.check(lambda: agent.estimate_usd(prompt, config))   # BudgetExceeded: nothing runs
    ... run the CLI ...
    usage = account.settle(parsed.usage, model, killed=completed.timed_out)

A failed call is charged too (it was paid for), and a call killed before it reported any usage is
charged its worst-case estimate rather than nothing.

A multi-turn CLI can spend more than its estimate while it runs. Where the CLI streams its usage turn by
turn, :class:`SpendWatch` prices each turn as it arrives and stops the call before the next turn could
take the run past its cap; ``overshoot_usd`` records by how much a call still went past it (the target
is 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gitorch.models import Usage
from gitorch.services.pricing import price_usage

if TYPE_CHECKING:
    from gitorch.services.budget import Budget


def priced(usage: Usage, model: str, pricing: Mapping[str, Any] | None) -> Usage:
    """``usage`` with a USD cost: a CLI-reported cost is kept, otherwise tokens × ``model``'s price (a
    model with no known price is charged the highest rate and flagged ``unknown_price``)."""
    if usage.cost_source == "reported" or not (usage.input_tokens or usage.output_tokens):
        return usage
    cost, unknown = price_usage(model, usage.input_tokens, usage.cached_input_tokens, usage.output_tokens,
                                pricing)
    return usage.model_copy(
        update={"cost_usd": round(cost, 6), "cost_source": "priced", "unknown_price": unknown}
    )


class CallAccount:
    """One call's account with the run's budget (``budget`` None: nothing is checked or charged)."""

    def __init__(self, budget: Budget | None, pricing: Mapping[str, Any] | None, what: str) -> None:
        self.budget = budget
        self.pricing = pricing
        self.what = what
        self.estimate: float | None = None
        self.overshoot_usd = 0.0

    def check(self, estimate_usd: Callable[[], float]) -> None:
        """Refuse the call (:class:`~gitorch.services.budget.BudgetExceeded`) unless its worst case fits."""
        if self.budget is not None:
            self.estimate = estimate_usd()
            self.budget.check(self.estimate, what=self.what)

    def settle(self, usage: Usage, model: str | None, *, price_as: str, killed: bool) -> Usage:
        """Price the call's ``usage`` (as ``price_as`` when the CLI named no model) and charge it."""
        usage = priced(usage.model_copy(update={"calls": 1}), model or price_as, self.pricing)
        spent = usage.input_tokens or usage.output_tokens or usage.cost_usd
        if killed and self.estimate and not spent:
            # Killed mid-work without a usage report: charge the worst-case estimate, not nothing.
            usage = usage.model_copy(update={"cost_usd": round(self.estimate, 6), "cost_source": "priced"})
        if model and model not in usage.models:
            usage = usage.model_copy(update={"models": sorted({*usage.models, model})})
        self._charge(usage, "")  # NOTE: a failed call was paid for too
        return usage

    def interrupted(self) -> Usage:
        """Charge a call stopped by Ctrl-C: what it cost is unknown, so its estimate."""
        usage = Usage(calls=1, cost_usd=round(self.estimate or 0.0, 6),
                      cost_source="priced" if self.estimate else "none")
        self._charge(usage, " (interrupted)")
        return usage

    def replayed(self, usage: Usage) -> Usage:
        """Charge a replayed call what it cost when it was recorded."""
        self._charge(usage, " (replay)")
        return usage

    def _charge(self, usage: Usage, note: str) -> None:
        if self.budget is not None:
            self.budget.charge(usage, what=self.what + note)
            self.overshoot_usd = self.budget.history[-1].overshoot_usd

    def left_usd(self) -> float | None:
        """What the run may still spend (None without a budget)."""
        return None if self.budget is None else self.budget.left_usd


class SpendWatch:
    """Prices a call's streamed usage turn by turn and says stop before another turn could pass ``left``.

    ``parse(line)`` is the agent's reading of one line of its CLI's stdout: the usage of a model turn it
    reports (a turn reported twice under the same id counts once), or None. The next turn is assumed to
    cost as much as the dearest one so far (a turn's input grows with the conversation), so the call is
    stopped while ``spent + dearest turn`` still fits: the cap is not passed, rather than passed by a turn.
    """

    def __init__(self, parse: Callable[[str], tuple[str, Usage] | None], price: Callable[[Usage], float],
                 left_usd: float) -> None:
        self.parse = parse
        self.price = price
        self.left_usd = left_usd
        self.turns: dict[str, float] = {}
        self.usages: dict[str, Usage] = {}
        self.reason = ""
        self._partial = b""

    @property
    def spent_usd(self) -> float:
        return round(sum(self.turns.values()), 9)

    def feed(self, chunk: bytes) -> str | None:
        """Read a chunk of stdout; a reason to stop the call, or None."""
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            try:
                found = self.parse(raw.decode("utf-8", "replace"))
            except (ValueError, KeyError, TypeError, AttributeError):
                found = None
            if found is None:
                continue
            turn, usage = found
            self.usages[turn] = usage
            self.turns[turn] = self.price(usage)
            dearest = max(self.turns.values())
            if self.spent_usd + dearest > self.left_usd:
                self.reason = (
                    f"budget: the call had spent ${self.spent_usd:.4f} of the ${self.left_usd:.4f} left, and "
                    f"another turn (up to ${dearest:.4f}) would pass the cap"
                )
                return self.reason
        return None

    def usage(self) -> Usage:
        """The tokens of the turns seen so far (priced again when the call is settled)."""
        total = Usage()
        for usage in self.usages.values():
            total = total + usage
        return total
