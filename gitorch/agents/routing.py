"""Retries and fallback across a chain of agents.

``config.routing.chain(task, dimension)`` names the agents for a task, best first.
:func:`call_with_fallback` runs ``fn(agent)`` with the first available agent; an
:class:`~gitorch.errors.AgentError` (a failed call, a timeout, unusable output) is retried up to
``attempts`` times with the agent's timeout growing ``timeout_growth``× each time, then the next
agent of the chain takes over. :class:`~gitorch.services.budget.BudgetExceeded` is never retried: the run
has to stop. Every try is kept in ``tries`` (and on the final :class:`RoutingError`)::

    tries: list[Try] = []
    result = call_with_fallback(
        config.routing.chain("fix", finding.dimension),
        lambda name: make_agent(plugins, name, config, context),
        lambda agent: agent.fix(request),
        tries=tries,
    )
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_none

from gitorch.errors import AgentError, GitorchError

T = TypeVar("T")


@dataclass(frozen=True)
class Try:
    """One attempt of one agent."""

    agent: str
    attempt: int
    timeout_factor: float
    ok: bool
    error: str | None = None
    duration_s: float = 0.0


class RoutingError(AgentError):
    """Every agent of the chain failed (or none was available); ``tries`` says what happened."""

    def __init__(self, message: str, tries: list[Try]) -> None:
        super().__init__(message)
        self.tries = tries


def _retryable(exc: BaseException) -> bool:
    from gitorch.services.budget import BudgetExceeded

    return isinstance(exc, AgentError) and not isinstance(exc, BudgetExceeded)


def call_with_fallback(
    chain: list[str],
    make: Callable[[str], Any],
    fn: Callable[[Any], T],
    *,
    attempts: int = 3,
    timeout_growth: float = 1.5,
    tries: list[Try] | None = None,
    on_try: Callable[[Try], None] | None = None,
) -> T:
    """``fn(agent)`` with the first agent of ``chain`` that succeeds, retrying each up to ``attempts``.

    ``make(name)`` builds the agent; an agent whose ``availability()`` is false is skipped (and
    noted in ``tries`` with attempt 0). Before a retry the agent's ``timeout_factor`` (used by
    :class:`~gitorch.agents.ExternalCliAgent`) is multiplied by ``timeout_growth``. Errors other
    than :class:`AgentError` (BudgetExceeded, ConfigError, bugs) propagate at once.
    """
    kept: list[Try] = tries if tries is not None else []

    def note(entry: Try) -> None:
        kept.append(entry)
        if on_try is not None:
            on_try(entry)

    if not chain:
        raise RoutingError("no agent configured for this task", kept)
    last: BaseException | None = None
    for name in chain:
        agent = make(name)
        availability = agent.availability()  # on an instance: its configured executable
        if not availability:
            factor = getattr(agent, "timeout_factor", 1.0)
            note(Try(name, 0, factor, False, f"unavailable: {availability.reason}"))
            continue
        retrying = Retrying(
            stop=stop_after_attempt(max(1, attempts)),
            retry=retry_if_exception(_retryable),
            wait=wait_none(),
            reraise=True,
            before_sleep=lambda state, agent=agent: _grow(agent, timeout_growth),
        )
        original = getattr(agent, "timeout_factor", None)
        try:
            for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    factor = getattr(agent, "timeout_factor", 1.0)
                    started = time.monotonic()
                    try:
                        result = fn(agent)
                    except GitorchError as exc:
                        note(Try(name, number, factor, False, str(exc), round(time.monotonic() - started, 3)))
                        raise
                    note(Try(name, number, factor, True, None, round(time.monotonic() - started, 3)))
            return result
        except AgentError as exc:
            if not _retryable(exc):
                raise
            last = exc
        finally:
            if original is not None:  # the caller may keep the agent: the next call starts at ×1 again
                agent.timeout_factor = original
    tried = sorted({t.agent for t in kept})
    reason = f": {last}" if last is not None else ""
    raise RoutingError(f"every agent failed or was unavailable ({', '.join(tried)}){reason}", kept)


def _grow(agent: Any, factor: float) -> None:
    if hasattr(agent, "timeout_factor"):
        agent.timeout_factor *= factor
