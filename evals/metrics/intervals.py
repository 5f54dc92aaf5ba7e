"""How much a recall measured on a few dozen items can be trusted.

A dev set of 20 items moves 5 points per item, so a table of recalls alone invites reading noise as
progress. ``wilson`` gives the 95 % interval of one recall; ``paired`` compares two methods on the same
items the way McNemar's exact test does, counting only the items where they disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binomtest


def wilson(kept: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (in %) of the recall ``kept / total``; (0, 100) for an empty set."""
    if total <= 0:
        return 0.0, 100.0
    ci = binomtest(kept, total).proportion_ci(confidence_level=level, method="wilson")
    return 100.0 * float(ci.low), 100.0 * float(ci.high)


@dataclass(frozen=True)
class Paired:
    """Two methods on the same items: items only ``a`` kept (``wins``), only ``b`` kept (``losses``),
    and the two-sided exact p-value of that split under "neither is better" (McNemar's exact test)."""

    wins: int
    losses: int
    p: float


def paired(a: Sequence[bool], b: Sequence[bool]) -> Paired:
    """McNemar's exact test of method ``a`` against ``b`` from their per-item outcomes (same order)."""
    if len(a) != len(b):
        raise ValueError(f"paired outcomes differ in length: {len(a)} and {len(b)}")
    wins = sum(1 for x, y in zip(a, b) if x and not y)
    losses = sum(1 for x, y in zip(a, b) if y and not x)
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return Paired(wins, losses, float(p))
