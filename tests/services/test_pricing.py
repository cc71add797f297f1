"""The price table: matching, overrides, unknown models, cached-input arithmetic."""

from __future__ import annotations

import pytest

from gitorch.config import Price
from gitorch.errors import ConfigError
from gitorch.services.pricing import make_usage, price_table, price_usage, shipped_date, shipped_prices


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("sonnet", "claude-sonnet-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("gpt-5.1-codex-max", "gpt-5.1-codex"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("o1-pro", "o1-pro"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite-preview-06-17", "gemini-2.5-flash-lite"),
        ("gemini-2.0-flash-exp", "gemini-2.0-flash"),
        ("qwen3-coder-plus", "qwen3-coder-plus"),
    ],
)
def test_models_match_their_family(model: str, family: str) -> None:
    found = price_table().lookup(model)
    assert found is not None and found.name == family


@pytest.mark.parametrize("model", ["gpt-4x", "claude-sonnet-45", "totally-new-model", "o", ""])
def test_no_partial_word_matches(model: str) -> None:
    assert price_table().lookup(model) is None


def test_known_model_cost_counts_cached_tokens_at_cached_rate() -> None:
    # sonnet 4.5: $3 in, $0.30 cached, $15 out per million. 1234 input of which 1000 cached, 7 out.
    cost, unknown = price_usage("claude-sonnet-4-5", 1234, 1000, 7)
    assert not unknown
    assert cost == pytest.approx((234 * 3 + 1000 * 0.3 + 7 * 15) / 1e6)
    # the claude CLI's own figure for that call (README of agent-clis) was $0.001107
    assert cost == pytest.approx(0.001107, abs=1e-6)


def test_unknown_model_is_charged_the_highest_rate_and_flagged() -> None:
    table = price_table()
    ceiling = table.ceiling()
    assert ceiling.output == max(e.output for e in shipped_prices() if e.ceiling)
    cost, unknown = price_usage("mystery-9000", 1_000_000, 0, 1_000_000)
    assert unknown
    assert cost == pytest.approx(ceiling.input + ceiling.output)
    assert cost > price_usage("claude-opus-4-5", 1_000_000, 0, 1_000_000)[0]
    # premium models are priced but do not set the ceiling
    assert table.lookup("o1-pro").output > ceiling.output  # type: ignore[union-attr]


def test_config_overrides_win_and_extend() -> None:
    overrides = {"gpt-4o": Price(input=1.0, output=2.0), "my-local-model": {"input": 0, "output": 0}}
    cost, unknown = price_usage("gpt-4o-2024-08-06", 1_000_000, 500_000, 1_000_000, overrides)
    assert not unknown
    assert cost == pytest.approx(1.0 + 2.0)  # cached_input unset: charged at the input rate
    assert price_usage("my-local-model", 10_000, 0, 10_000, overrides) == (0.0, False)
    # an override can raise the ceiling for unknown models
    assert price_table({"big": {"input": 1000, "output": 2000}}).ceiling().output == 2000


def test_bad_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="pricing.x"):
        price_table({"x": {"input": 1}})


def test_make_usage_prefers_the_reported_cost() -> None:
    reported = make_usage("gpt-4o", 1000, 0, 10, reported_cost_usd=0.5)
    assert reported.cost_usd == 0.5 and reported.cost_source == "reported"
    priced = make_usage("gpt-4o", 1000, 0, 10)
    assert priced.cost_source == "priced" and priced.cost_usd == pytest.approx((1000 * 2.5 + 10 * 10) / 1e6)
    unknown = make_usage("who-knows", 1000, 0, 10)
    assert unknown.unknown_price and unknown.models == ["who-knows"]
    assert make_usage(None).cost_source == "none"


def test_table_is_dated() -> None:
    assert shipped_date().startswith("20")
