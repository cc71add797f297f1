"""The budget: worst-case estimates, the cap enforced before each call, real charges after."""

from __future__ import annotations

import random

import pytest

from gitorch.errors import GitorchError
from gitorch.services.budget import Budget, BudgetExceeded, estimate_call_cost, estimate_tokens
from gitorch.services.pricing import make_usage, price_table


def test_estimate_is_bytes_over_three_rounded_up() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 2
    assert estimate_tokens("é") == 1  # 2 bytes
    # sonnet: 9000 bytes -> 3000 tokens at $3/M + 1000 output at $15/M
    assert estimate_call_cost("x" * 9000, "claude-sonnet-4-5", 1000) == pytest.approx(0.009 + 0.015)


def test_estimate_for_unknown_or_missing_model_uses_the_highest_rate() -> None:
    ceiling = price_table().ceiling()
    expected = (100 * ceiling.input + 50 * ceiling.output) / 1e6
    assert estimate_call_cost("x" * 300, None, 50) == pytest.approx(expected)
    assert estimate_call_cost("x" * 300, "brand-new-model", 50) == pytest.approx(expected)


def test_estimate_is_an_upper_bound_of_the_priced_call() -> None:
    prompt = "def f(x):\n    return x * 2\n" * 200
    estimate = estimate_call_cost(prompt, "gpt-4o", 2000)
    # the real call: ~4 bytes per token, half of it cached, output within the bound
    real = make_usage("gpt-4o", len(prompt) // 4, len(prompt) // 8, 2000).cost_usd
    assert real <= estimate


def test_budget_exceeded_is_a_gitorch_error_with_its_own_exit_code() -> None:
    assert issubclass(BudgetExceeded, GitorchError)
    assert BudgetExceeded.exit_code not in (0, 1, 2, 3)


def test_check_refuses_what_does_not_fit_and_charges_accumulate() -> None:
    budget = Budget(1.0)
    budget.check(0.6, "audit")
    budget.charge(make_usage("gpt-4o", reported_cost_usd=0.5))
    assert budget.spent_usd == pytest.approx(0.5) and budget.left_usd == pytest.approx(0.5)
    budget.check(0.5, "fits exactly")
    with pytest.raises(BudgetExceeded) as info:
        budget.check(0.5000001, "fix finding abc")
    assert "fix finding abc" in str(info.value) and "\n" not in str(info.value)
    assert info.value.left_usd == pytest.approx(0.5)
    assert budget.spent_usd == pytest.approx(0.5)  # a refusal costs nothing


def test_resumed_budget_starts_from_what_was_spent() -> None:
    budget = Budget(2.0, spent_usd=1.9)
    with pytest.raises(BudgetExceeded):
        budget.check(0.2, "call")
    assert Budget(3.0, spent_usd=1.9).left_usd == pytest.approx(1.1)


@pytest.mark.parametrize("seed", range(20))
def test_a_run_never_ends_above_its_cap(seed: int) -> None:
    """Random sequences of calls whose real cost stays within their estimate: the cap holds."""
    rng = random.Random(seed)
    cap = rng.uniform(0.05, 2.0)
    budget = Budget(cap)
    models = ["claude-sonnet-4-5", "gpt-4o", "gemini-2.5-flash", None, "unheard-of"]
    stopped = False
    for _ in range(500):
        prompt = "y" * rng.randint(100, 60_000)
        model = rng.choice(models)
        bound = rng.randint(100, 8000)
        try:
            budget.check_call(prompt, model, bound, "call")
        except BudgetExceeded:
            stopped = True
            break
        in_tokens = rng.randint(0, estimate_tokens(prompt))
        usage = make_usage(model, in_tokens, rng.randint(0, in_tokens), rng.randint(0, bound))
        budget.charge(usage, "call")
        assert budget.spent_usd <= cap + 1e-9
    assert stopped, "the sequence was long enough to reach the cap"
    assert budget.usage.calls == len(budget.history)


def test_overshoot_is_bounded_by_one_estimate_error() -> None:
    """A call that costs more than estimated can overshoot, but only by that call's error."""
    budget = Budget(1.0)
    budget.check(0.3, "a")
    budget.charge(make_usage(None, reported_cost_usd=0.3))
    budget.check(0.6, "b")
    budget.charge(make_usage(None, reported_cost_usd=0.75))  # 0.15 above its estimate
    assert budget.spent_usd == pytest.approx(1.05)
    assert budget.spent_usd - budget.cap_usd <= 0.75 - 0.6 + 1e-9
    with pytest.raises(BudgetExceeded):
        budget.check(0.0001, "c")
    assert budget.history[-1].estimate_usd == 0.6


def test_calls_running_at_once_reserve_their_estimates_so_together_they_never_pass_the_cap():
    import threading

    from gitorch.models import Usage
    from gitorch.services.budget import Budget, BudgetExceeded

    budget = Budget(1.00)
    checked = threading.Event()
    release = threading.Event()
    errors: list[Exception] = []

    def first_call():
        budget.check(0.60, "job 1")  # reserved until charged
        checked.set()
        release.wait(10)
        budget.charge(Usage(calls=1, cost_usd=0.25), "job 1")

    worker = threading.Thread(target=first_call)
    worker.start()
    assert checked.wait(10)
    assert budget.reserved_usd == 0.60 and budget.spent_usd == 0
    try:
        budget.check(0.50, "job 2")  # 0.60 reserved + 0.50 > 1.00: refused while job 1 runs
    except BudgetExceeded as exc:
        errors.append(exc)
    assert errors and "reserved by calls running now" in str(errors[0])
    assert budget.fits(0.40)  # what is left beside the reservation still fits
    release.set()
    worker.join(10)
    assert budget.reserved_usd == 0 and budget.spent_usd == 0.25
    assert budget.thread_spent_usd == 0  # job 1's money was charged from its own thread
    assert budget.history[0].estimate_usd == 0.60  # the charge knows its own call's estimate
    budget.check(0.50, "job 2")  # the charge freed the reservation: now it fits
    budget.release()  # never ran: the reservation goes back without a charge
    assert budget.reserved_usd == 0 and budget.spent_usd == 0.25
