"""BM25 lexical scoring (bm25s), for query-aware ranking of pages or sentences."""

from __future__ import annotations

import numpy as np


def bm25_scores(texts: list[str], query: str) -> np.ndarray:
    """BM25 score of each text for ``query`` (English stopwords removed); zeros when nothing matches."""
    import bm25s

    if not texts:
        return np.zeros(0)
    corpus = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    if not corpus.vocab:
        return np.zeros(len(texts))
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    q = [w for w in bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]]
    q = [w for w in q if w in corpus.vocab]
    if not q:
        return np.zeros(len(texts))
    return np.asarray(index.get_scores(q), dtype=float)
