"""Estimated input cost of a proxied request, with the providers' prompt-cache prices.

One price table (``api/static/prices.json``) serves this module and the playground. Estimates only: list
prices of a dated snapshot, input tokens only, and a warm provider cache (the prefix was sent before, within
the cache's lifetime). A prefix shorter than ``cache_min_tokens`` is never cached (OpenAI's and Anthropic's
minimum for most models).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "static" / "prices.json"


@dataclass(frozen=True)
class Price:
    """USD per million input tokens of one model family: full, cache read, and (Anthropic) cache write."""

    model: str
    usd_per_mtok: float
    cached_usd_per_mtok: float
    cache_write_usd_per_mtok: float | None = None


@dataclass(frozen=True)
class PriceTable:
    """The dated price list: model family prefix -> ``Price``."""

    as_of: str
    cache_min_tokens: int
    prices: tuple[Price, ...]

    def price_of(self, model: str | None) -> Price | None:
        """The longest family name ``model`` starts with (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``)."""
        if not model:
            return None
        model = model.rsplit("/", 1)[-1]  # "openai/gpt-4o" as gateways spell it
        matches = [p for p in self.prices if model.startswith(p.model)]
        return max(matches, key=lambda p: len(p.model), default=None)


@lru_cache(maxsize=1)
def price_table() -> PriceTable:
    """The table shipped in ``api/static/prices.json``."""
    raw = json.loads(TABLE.read_text(encoding="utf-8"))
    prices = tuple(Price(m["model"], float(m["usd_per_mtok"]), float(m["cached_usd_per_mtok"]),
                         m.get("cache_write_usd_per_mtok")) for m in raw["models"])
    return PriceTable(raw["as_of"], int(raw["cache_min_tokens"]), prices)


def input_cost(price: Price, prefix_tokens: int, rest_tokens: int, prefix_cached: bool, min_tokens: int) -> float:
    """USD for one request's input: a cacheable prefix (read from the cache when ``prefix_cached`` and long
    enough; else written to it at Anthropic's write price, or paid in full) and the rest at the full price."""
    if prefix_tokens < min_tokens:  # too short for the provider to cache at all
        prefix_price = price.usd_per_mtok
    elif prefix_cached:
        prefix_price = price.cached_usd_per_mtok
    else:
        prefix_price = price.cache_write_usd_per_mtok or price.usd_per_mtok
    return (prefix_tokens * prefix_price + rest_tokens * price.usd_per_mtok) / 1e6
