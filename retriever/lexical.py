"""BM25 lexical scoring (bm25s), for query-aware ranking of pages or sentences."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=256)
def _index(texts: tuple[str, ...]):
    """BM25 index and vocabulary of a corpus, cached by content: a second question on the same
    document reuses the index."""
    import bm25s

    corpus = bm25s.tokenize(list(texts), stopwords="en", show_progress=False)
    if not corpus.vocab:
        return None, {}
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    return index, corpus.vocab


def bm25_scores(texts: list[str], query: str) -> np.ndarray:
    """BM25 score of each text for ``query`` (English stopwords removed); zeros when nothing matches."""
    import bm25s

    if not texts:
        return np.zeros(0)
    index, vocab = _index(tuple(texts))
    if index is None:
        return np.zeros(len(texts))
    q = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]
    q = [w for w in q if w in vocab]
    if not q:
        return np.zeros(len(texts))
    return np.asarray(index.get_scores(q), dtype=float)
