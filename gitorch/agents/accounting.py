"""The money side of one agent call: the budget checked before it, the call priced and charged after.

::

    account = CallAccount(context.budget, config.pricing, what="claude fix")
    account.check(lambda: agent.estimate_usd(prompt, config))   # BudgetExceeded: nothing runs
    ... run the CLI ...
    usage = account.settle(parsed.usage, model, killed=completed.timed_out)

A failed call is charged too (it was paid for), and a call killed before it reported any usage is
charged its worst-case estimate rather than nothing.
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
