"""The spending cap: checked with a worst-case estimate before each agent call, charged after it.

An agent does, for every external call::

    estimate = estimate_call_cost(prompt, model, output_bound_tokens, config.pricing)
    budget.check(estimate, f"{agent} {task}")      # raises BudgetExceeded, nothing is run
    ... run the CLI ...
    budget.charge(call.usage)                       # the real figure, even when the call failed

Because nothing starts unless ``spent + estimate <= cap``, a run ends above its cap by at most the
amount one call overshot its estimate (the estimate's error), never by a whole unchecked call.

Calls may run at once (``gitorch fix --jobs N``, one per thread): the estimate a call was checked with
stays reserved until that call is charged (or released), and a new call must fit beside every reserved
one — ``spent + reserved + estimate <= cap`` — so N calls together can never pass the cap.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitorch.errors import ExitCode, GitorchError
from gitorch.models import Usage
from gitorch.services.pricing import price_table

# A rough but pessimistic bytes-per-token ratio: English and code average about 4 bytes per token with
# the common tokenizers, so counting one token per 3 bytes over-estimates the prompt.
BYTES_PER_TOKEN = 3
# Floating-point slack so that spending exactly the cap is allowed.
_EPSILON = 1e-9


class BudgetExceeded(GitorchError):
    """The next agent call could cost more than what is left of the budget; it was not started.

    Exit code 75 (``EX_TEMPFAIL`` in sysexits.h: try again later, here with a larger ``--budget``).
    The fix loop catches it, stops cleanly with a partial report and its own "stopped by budget" code.
    """

    exit_code = ExitCode.BUDGET_REFUSED

    def __init__(self, message: str, *, what: str = "", estimate_usd: float = 0.0, left_usd: float = 0.0):
        super().__init__(message)
        self.what = what
        self.estimate_usd = estimate_usd
        self.left_usd = left_usd


def estimate_tokens(text: str) -> int:
    """A pessimistic token count: UTF-8 bytes / 3, rounded up."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_call_cost(
    prompt: str,
    model: str | None,
    output_bound_tokens: int,
    overrides: Mapping[str, Any] | None = None,
    *,
    overhead_tokens: int = 0,
) -> float:
    """Worst-case USD for one call: every prompt token uncached, plus ``output_bound_tokens`` of output.

    ``model`` None or unknown is priced at the highest known rate. ``overhead_tokens`` lets an agent
    add the input its CLI sends besides the prompt (system prompt, tool definitions, files it reads).
    """
    price, _unknown = price_table(overrides).price(model)
    input_tokens = estimate_tokens(prompt) + max(0, overhead_tokens)
    return (input_tokens * price.input + max(0, output_bound_tokens) * price.output) / 1_000_000


@dataclass(frozen=True)
class Charge:
    """One entry of a budget's history."""

    what: str
    cost_usd: float
    estimate_usd: float | None
    overshoot_usd: float = 0.0  # how far this charge took the run past its cap (the target is 0)


class Budget:
    """A spending cap in USD shared by every agent call of a run (thread-safe).

    ``spent_usd`` starts at what a resumed run already spent. ``check`` refuses a call whose estimate
    does not fit; ``charge`` adds what a call really cost, even past the cap (the money is gone).
    """

    def __init__(self, cap_usd: float, spent_usd: float = 0.0) -> None:
        if cap_usd < 0 or spent_usd < 0:
            raise ValueError("budget amounts must not be negative")
        self.cap_usd = float(cap_usd)
        self._spent = float(spent_usd)
        self._lock = threading.Lock()
        self._reserved: dict[int, float] = {}  # thread id → the estimate of its call in flight
        self._by_thread: dict[int, float] = {}  # thread id → what the calls made from it cost
        self.history: list[Charge] = []
        self.usage = Usage()

    @property
    def spent_usd(self) -> float:
        return self._spent

    @property
    def left_usd(self) -> float:
        return max(0.0, self.cap_usd - self._spent)

    @property
    def thread_spent_usd(self) -> float:
        """What the calls charged from the current thread cost: one call's cost is the difference around
        it, whatever calls in other threads were charged meanwhile."""
        return self._by_thread.get(threading.get_ident(), 0.0)

    @property
    def reserved_usd(self) -> float:
        """The estimates of the calls running now (checked, not yet charged)."""
        return sum(self._reserved.values())

    def fits(self, estimate_usd: float) -> bool:
        """Whether a call estimated at ``estimate_usd`` fits beside the calls running in other threads."""
        others = sum(v for tid, v in self._reserved.items() if tid != threading.get_ident())
        return self._spent + others + max(0.0, estimate_usd) <= self.cap_usd + _EPSILON

    def check(self, estimate_usd: float, what: str) -> None:
        """Raise :class:`BudgetExceeded` unless ``spent + reserved + estimate_usd <= cap``; else reserve
        ``estimate_usd`` for this thread's call until it is charged (or released)."""
        with self._lock:
            if not self.fits(estimate_usd):
                others = sum(v for tid, v in self._reserved.items() if tid != threading.get_ident())
                running = f" (${others:.4f} reserved by calls running now)" if others else ""
                left = max(0.0, self.left_usd - others)
                raise BudgetExceeded(
                    f"budget: {what} could cost up to ${estimate_usd:.4f} but only ${left:.4f} "
                    f"of ${self.cap_usd:.2f} is left{running} (raise it with --budget)",
                    what=what,
                    estimate_usd=estimate_usd,
                    left_usd=left,
                )
            self._reserved[threading.get_ident()] = max(0.0, estimate_usd)

    def release(self) -> None:
        """Drop this thread's reservation without a charge (its call never ran, or was charged elsewhere)."""
        with self._lock:
            self._reserved.pop(threading.get_ident(), None)

    def check_call(
        self,
        prompt: str,
        model: str | None,
        output_bound_tokens: int,
        what: str,
        overrides: Mapping[str, Any] | None = None,
        *,
        overhead_tokens: int = 0,
    ) -> float:
        """Estimate a call (see :func:`estimate_call_cost`), check it, and return the estimate."""
        estimate = estimate_call_cost(
            prompt, model, output_bound_tokens, overrides, overhead_tokens=overhead_tokens
        )
        self.check(estimate, what)
        return estimate

    def charge(self, usage: Usage, what: str = "") -> float:
        """Add a finished call's cost; returns the new total spent."""
        with self._lock:
            before = self._spent
            self._spent = round(self._spent + max(0.0, usage.cost_usd), 9)
            over = round(max(0.0, self._spent - max(self.cap_usd, before)), 9)
            self.usage = self.usage + usage
            tid = threading.get_ident()
            self._by_thread[tid] = round(self._by_thread.get(tid, 0.0) + max(0.0, usage.cost_usd), 9)
            estimate = self._reserved.pop(tid, None)
            self.history.append(
                Charge(what=what, cost_usd=usage.cost_usd, estimate_usd=estimate, overshoot_usd=over)
            )
            return self._spent

    @property
    def overshoot_usd(self) -> float:
        """How far past its cap the run went, over all its charges."""
        return round(sum(c.overshoot_usd for c in self.history), 9)

    def __repr__(self) -> str:
        return f"Budget(cap_usd={self.cap_usd}, spent_usd={self._spent:.6f})"
