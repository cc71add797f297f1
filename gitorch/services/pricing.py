"""What agent calls cost: a per-model price table (USD per million tokens) and the arithmetic.

The shipped table is data (``gitorch/data/prices.toml``); ``[pricing."<model>"]`` in the configuration
overrides or extends it. A model is matched by exact name or alias first, then by the longest known
name it starts with (followed by a separator), so dated ids such as ``claude-sonnet-4-5-20250929`` find
their family. A model nobody knows is priced at the highest known rate and flagged ``unknown``.

Token semantics follow :class:`gitorch.models.Usage`: ``input_tokens`` counts *all* input tokens, the
cached ones included; cached tokens are charged at the cached-input rate, the rest at the input rate.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from gitorch.errors import ConfigError
from gitorch.models import Usage

PER = 1_000_000
_SEPARATORS = "-.:@_ "


@dataclass(frozen=True)
class ModelPrice:
    """Prices of one model, USD per million tokens. ``ceiling`` entries set the unknown-model rate."""

    name: str
    input: float
    cached_input: float
    output: float
    aliases: tuple[str, ...] = ()
    ceiling: bool = True
    source: str = "table"

    def cost(self, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> float:
        """USD for a call; ``input_tokens`` includes the cached ones."""
        cached = max(0, min(cached_input_tokens, input_tokens))
        uncached = max(0, input_tokens - cached)
        return (
            uncached * self.input + cached * self.cached_input + max(0, output_tokens) * self.output
        ) / PER


def normalize_model(model: str) -> str:
    """Lower-case, drop provider prefixes (``openai/``, ``models/``, ``anthropic.``) and spaces."""
    name = model.strip().lower()
    name = name.rsplit("/", 1)[-1]
    name = re.sub(r"^(?:[a-z]{2}\.)?(?:anthropic|openai|google|meta|mistral)\.", "", name)
    return name


class PriceTable:
    """Model prices with alias and prefix matching. Build one with :func:`price_table`."""

    def __init__(self, entries: list[ModelPrice]) -> None:
        self.entries = entries
        self._names: dict[str, ModelPrice] = {}
        for entry in entries:  # later entries (overrides) win
            for key in (entry.name, *entry.aliases):
                self._names[normalize_model(key)] = entry
        self._by_length = sorted(self._names, key=len, reverse=True)

    def lookup(self, model: str | None) -> ModelPrice | None:
        """The entry for ``model``: exact name or alias, else the longest matching prefix; None if none."""
        if not model:
            return None
        name = normalize_model(model)
        if name in self._names:
            return self._names[name]
        for key in self._by_length:
            if name.startswith(key) and name[len(key)] in _SEPARATORS:
                return self._names[key]
        return None

    def ceiling(self) -> ModelPrice:
        """The highest known rate (each of input, cached input and output taken separately)."""
        pool = [e for e in self.entries if e.ceiling] or self.entries
        return ModelPrice(
            name="(highest known rate)",
            input=max(e.input for e in pool),
            cached_input=max(e.cached_input for e in pool),
            output=max(e.output for e in pool),
            source="ceiling",
        )

    def price(self, model: str | None) -> tuple[ModelPrice, bool]:
        """``(price, unknown)``: the model's entry, or the ceiling and ``True``."""
        found = self.lookup(model)
        if found is None:
            return self.ceiling(), True
        return found, False


@lru_cache(maxsize=1)
def shipped_prices() -> tuple[ModelPrice, ...]:
    """The table in ``gitorch/data/prices.toml``."""
    text = resources.files("gitorch.data").joinpath("prices.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out: list[ModelPrice] = []
    for name, row in data.get("models", {}).items():
        out.append(
            ModelPrice(
                name=name,
                input=float(row["input"]),
                cached_input=float(row.get("cached_input", row["input"])),
                output=float(row["output"]),
                aliases=tuple(row.get("aliases", ())),
                ceiling=bool(row.get("ceiling", True)),
            )
        )
    return tuple(out)


def shipped_date() -> str:
    """The date the shipped prices were checked (``[meta] date``)."""
    text = resources.files("gitorch.data").joinpath("prices.toml").read_text(encoding="utf-8")
    return str(tomllib.loads(text).get("meta", {}).get("date", "unknown"))


def _override_entry(name: str, value: Any) -> ModelPrice:
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if not isinstance(value, Mapping) or "input" not in value or "output" not in value:
        raise ConfigError(f"pricing.{name}: expected a table with input and output (USD per million tokens)")
    cached = value.get("cached_input")
    return ModelPrice(
        name=name,
        input=float(value["input"]),
        cached_input=float(value["input"] if cached is None else cached),
        output=float(value["output"]),
        source="config",
    )


def price_table(overrides: Mapping[str, Any] | None = None) -> PriceTable:
    """The shipped table plus ``overrides`` (``config.pricing``: model -> Price or dict), which win."""
    entries = list(shipped_prices())
    entries += [_override_entry(name, value) for name, value in (overrides or {}).items()]
    return PriceTable(entries)


def price_usage(
    model: str | None,
    input_tokens: int,
    cached_input_tokens: int,
    output_tokens: int,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[float, bool]:
    """``(cost_usd, unknown)`` for a call's tokens. ``input_tokens`` includes the cached ones."""
    price, unknown = price_table(overrides).price(model)
    return round(price.cost(input_tokens, cached_input_tokens, output_tokens), 6), unknown


def make_usage(
    model: str | None,
    input_tokens: int = 0,
    cached_input_tokens: int = 0,
    output_tokens: int = 0,
    *,
    reported_cost_usd: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    calls: int = 1,
) -> Usage:
    """A :class:`Usage` for one call: the CLI's own USD figure when it gave one, else tokens × price.

    ``input_tokens`` must count all input tokens, cached included (convert CLIs that report them apart,
    such as claude's ``input_tokens`` + ``cache_read_input_tokens``, before calling).
    """
    if reported_cost_usd is not None:
        cost, unknown, source = float(reported_cost_usd), False, "reported"
    elif input_tokens or output_tokens:
        cost, unknown = price_usage(model, input_tokens, cached_input_tokens, output_tokens, overrides)
        source = "priced"
    else:
        cost, unknown, source = 0.0, False, "none"
    return Usage(
        calls=calls,
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(cost, 6),
        cost_source=source,  # type: ignore[arg-type]
        models=[model] if model else [],
        unknown_price=unknown,
    )
