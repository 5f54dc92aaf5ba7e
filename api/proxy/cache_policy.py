"""Provider prompt caching: which parts of a request form the provider-cached prefix, and how to treat it.

Anthropic caches up to the last block carrying ``cache_control`` (tools, then system, then messages) and bills
reading it at a tenth of the input price; OpenAI caches any repeated prefix of 1,024 tokens or more on its own.
Compressing that prefix for each question changes its bytes every time, so the cache never hits again and the
bill can rise. The policy (``X-Condenser-Cache-Policy``, ``condenser.cache_policy``, ``CONDENSER_CACHE_POLICY``):

- ``preserve``: the prefix goes as sent; only the parts after it are compressed for the question.
- ``stable``: the prefix is compressed without the question: the same input gives the same bytes every time,
  so the provider caches the compressed prefix.
- ``aggressive``: every long part is compressed for the question (the prefix is not cached).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from api.metrics import Metrics
from api.pricing import input_cost, price_table
from api.proxy.messages import Part

HEADER = "x-condenser-cache-policy"
#: string fields that hold message text, in request bodies of both APIs
_TEXT_KEYS = frozenset({"system", "content", "text"})
Slot = tuple[int, Any]


def _walk(node: Any, slots: list[Slot], breakpoints: list[int]) -> None:
    """Text slots ``(id(container), key)`` in document order; after each node carrying ``cache_control``,
    the number of slots up to and including that node (its nested blocks count as inside it)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key in _TEXT_KEYS:
                    slots.append((id(node), key))
            elif isinstance(value, dict | list) and key != "cache_control":
                _walk(value, slots, breakpoints)
        if node.get("cache_control"):
            breakpoints.append(len(slots))
    elif isinstance(node, list):
        for item in node:
            _walk(item, slots, breakpoints)


def prefix_slots(body: dict, anthropic: bool) -> set[Slot]:
    """The text slots of the provider-cached prefix.

    Anthropic: everything up to the last ``cache_control`` breakpoint (none: no prefix). OpenAI: system and
    developer messages and earlier turns, i.e. every message before the last user message.
    """
    slots: list[Slot] = []
    breakpoints: list[int] = []
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    if anthropic:
        _walk(body.get("tools"), slots, breakpoints)
        if isinstance(body.get("system"), str):
            slots.append((id(body), "system"))
        else:
            _walk(body.get("system"), slots, breakpoints)
        _walk(messages, slots, breakpoints)
        return set(slots[:max(breakpoints, default=0)])
    users = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]
    _walk(messages[:users[-1]] if users else [], slots, breakpoints)
    return set(slots)


@dataclass
class CachePlan:
    """One request's prefix and policy, and the token counts behind its cost estimate."""

    policy: str
    prefix: set[Slot]
    #: tokens per part, as received and as sent (parts of ``parts`` only)
    before: dict[int, int] = field(default_factory=dict)
    after: dict[int, int] = field(default_factory=dict)
    prefix_changed: bool = False

    @classmethod
    def of(cls, body: dict, anthropic: bool, policy: str) -> CachePlan:
        return cls(policy, prefix_slots(body, anthropic))

    def in_prefix(self, part: Part) -> bool:
        return (id(part.container), part.key) in self.prefix

    def compressible(self, long_parts: list[tuple[Part, int]]) -> list[tuple[Part, int]]:
        """``preserve`` leaves the prefix's parts out; the other policies compress them too."""
        if self.policy != "preserve":
            return long_parts
        return [(p, n) for p, n in long_parts if not self.in_prefix(p)]

    def query_for(self, part: Part, query: str | None) -> str | None:
        """``stable`` compresses the prefix without the question, so its bytes do not depend on it."""
        return None if self.policy == "stable" and self.in_prefix(part) else query

    def compressed(self, part: Part, tokens_before: int, tokens_after: int) -> None:
        """Note one compressed part's token counts."""
        self.before[id(part)], self.after[id(part)] = tokens_before, tokens_after
        self.prefix_changed = self.prefix_changed or (self.policy == "aggressive" and self.in_prefix(part))

    def report(self, parts: Iterable[Part], model: str | None, count: Callable[[str], int]) -> PrefixReport:
        """Prefix tokens as sent and, for a model in the price table, the estimated input cost both ways."""
        prefix_after = rest_before = rest_after = prefix_before = 0
        for part in parts:
            after = self.after.get(id(part))
            if after is None:  # not compressed: counted once (the counts are memoised by content)
                after = count(part.text)
            before = self.before.get(id(part), after)
            if self.in_prefix(part):
                prefix_before, prefix_after = prefix_before + before, prefix_after + after
            else:
                rest_before, rest_after = rest_before + before, rest_after + after
        report = PrefixReport(self.policy, prefix_after)
        table = price_table()
        price = table.price_of(model)
        if price is not None:
            # without the proxy a repeated prefix is a cache hit; compressed for each question it never is
            report.cost_uncompressed = input_cost(price, prefix_before, rest_before, True, table.cache_min_tokens)
            report.cost_sent = input_cost(price, prefix_after, rest_after, not self.prefix_changed,
                                          table.cache_min_tokens)
            report.prices_as_of = table.as_of
        return report


@dataclass
class PrefixReport:
    """What the policy did to the cacheable prefix, and the estimated input cost in USD."""

    policy: str
    prefix_tokens: int
    cost_uncompressed: float | None = None
    cost_sent: float | None = None
    prices_as_of: str | None = None

    def headers(self) -> dict[str, str]:
        out = {HEADER: self.policy, "x-condenser-prefix-tokens": str(self.prefix_tokens)}
        if self.cost_uncompressed is not None and self.cost_sent is not None:
            out["x-condenser-est-cost-saved-usd"] = f"{self.cost_uncompressed - self.cost_sent:.6f}"
            out["x-condenser-prices-as-of"] = str(self.prices_as_of)
        return out

    def record(self, metrics: Metrics) -> None:
        """Add this request to ``/metrics`` (saved = uncompressed - sent, which may be negative)."""
        metrics.prefix_tokens.labels(self.policy).inc(self.prefix_tokens)
        if self.cost_uncompressed is not None and self.cost_sent is not None:
            metrics.est_input_cost.labels("uncompressed").inc(self.cost_uncompressed)
            metrics.est_input_cost.labels("sent").inc(self.cost_sent)
