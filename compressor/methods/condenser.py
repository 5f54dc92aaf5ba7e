"""``condenser``: the default method.

Until Condenser's own trained model ships (see ``compressor/models``), this is the strongest model-free
method we measured: extractive hybrid relevance, with each sentence also credited a share of its
neighbours' relevance so that evidence spread over adjacent sentences is kept together.
"""

from __future__ import annotations

import numpy as np

from compressor.methods.base import Request, SentenceScorer
from retriever.hybrid import HybridScorer


class Condenser(SentenceScorer):
    """Hybrid relevance with neighbour smoothing. Options: ``dense_weight`` (default 0.6)."""

    name = "condenser"
    options = frozenset({"dense_weight"})

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        base = HybridScorer(dense_weight=float(request.options.get("dense_weight", 0.6))).scores(texts, query)
        same_doc = np.asarray([u.doc for u in request.units])
        left = np.r_[0.0, base[:-1]] * np.r_[False, same_doc[1:] == same_doc[:-1]]
        right = np.r_[base[1:], 0.0] * np.r_[same_doc[1:] == same_doc[:-1], False]
        return base + 0.15 * (left + right)
