"""``extractive``: RECOMP-style extractive selection of the sentences most relevant to the query."""

from __future__ import annotations

import numpy as np

from compressor.methods.base import Request, SentenceScorer
from retriever.hybrid import HybridScorer


class Extractive(SentenceScorer):
    """Ranks units by hybrid relevance (MiniLM cosine + BM25) and keeps the best, in order.

    Options: ``dense_weight`` (0..1, default 0.7), ``hops`` (query-expansion rounds for multi-hop
    questions, default 1: see ``HybridScorer.multi_hop``).
    """

    name = "extractive"
    options = frozenset({"dense_weight", "hops"})

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        weight = float(request.options.get("dense_weight", 0.7))
        hops = int(request.options.get("hops", 1))
        return HybridScorer(dense_weight=weight).multi_hop(texts, query, hops=hops)
