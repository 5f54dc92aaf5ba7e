"""CFIC-style chunking-free evidence: score sentences in place and grow the best into evidence spans.

No pre-chunking into pages: every sentence is scored where it stands, the top ones seed spans, and a
seed grows over its neighbours while they stay relevant, so evidence that runs across sentences comes
back as one span with offsets into the original text, on sentence boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compressor.tokens import DEFAULT_ENCODING
from retriever.chunker import Unit, chunk
from retriever.hybrid import HybridScorer


@dataclass(frozen=True)
class Evidence:
    """A span ``[start, end)`` of document ``doc`` on sentence boundaries, with its relevance."""

    doc: int
    start: int
    end: int
    score: float
    tokens: int


class EvidenceFinder:
    """Finds evidence spans for a query; ``grow`` is the share of a seed's score a neighbour needs."""

    def __init__(self, scorer: HybridScorer | None = None, *, grow: float = 0.6, max_seeds: int = 8,
                 encoding: str = DEFAULT_ENCODING):
        self.scorer = scorer or HybridScorer()
        self.grow = grow
        self.max_seeds = max_seeds
        self.encoding = encoding

    def spans(self, documents: list[str], units: list[Unit], query: str | None) -> list[Evidence]:
        """Evidence spans over ``units`` (consecutive units in document order), best first."""
        if not units:
            return []
        scores = self.scorer.scores([documents[u.doc][u.start : u.end] for u in units], query)
        taken = np.zeros(len(units), dtype=bool)
        found = []
        for seed in np.argsort(-scores, kind="stable")[: self.max_seeds]:
            if taken[seed]:
                continue
            lo, hi = self._grow(units, scores, int(seed), taken)
            taken[lo : hi + 1] = True
            tokens = sum(u.tokens for u in units[lo : hi + 1])
            found.append(Evidence(units[lo].doc, units[lo].start, units[hi].end, float(scores[seed]), tokens))
        return found

    def _grow(self, units: list[Unit], scores: np.ndarray, seed: int, taken: np.ndarray) -> tuple[int, int]:
        floor = scores[seed] * self.grow
        lo = hi = seed
        while lo > 0 and not taken[lo - 1] and units[lo - 1].doc == units[seed].doc and scores[lo - 1] >= floor:
            lo -= 1
        while (hi + 1 < len(units) and not taken[hi + 1] and units[hi + 1].doc == units[seed].doc
               and scores[hi + 1] >= floor):
            hi += 1
        return lo, hi

    def find(self, context: str | list[str], query: str | None, budget: int | None = None) -> list[Evidence]:
        """Evidence spans for ``query``; with ``budget``, the best spans that fit, in document order."""
        documents = [context] if isinstance(context, str) else list(context)
        units = chunk(documents, encoding=self.encoding).units
        found = self.spans(documents, units, query)
        if budget is None:
            return found
        kept, used = [], 0
        for ev in found:
            if used + ev.tokens <= budget:
                kept.append(ev)
                used += ev.tokens
        return sorted(kept, key=lambda e: (e.doc, e.start))
