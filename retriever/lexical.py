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


def centrality_scores(texts: list[str], terms: int = 24) -> np.ndarray:
    """Question-agnostic BM25 relevance: each text scored against the corpus's ``terms`` most widespread
    content words (in the most texts, English stopwords removed), i.e. what the documents are about.

    The lexical counterpart of dense centrality, for when there is no query and no embedding budget.
    """
    import bm25s

    if not texts:
        return np.zeros(0)
    index, vocab = _index(tuple(texts))
    if index is None:
        return np.zeros(len(texts))
    tokenised = bm25s.tokenize(list(texts), stopwords="en", show_progress=False, return_ids=False)
    spread: dict[str, int] = {}
    for words in tokenised:
        for w in set(words):
            if len(w) > 2 and not w.isdigit():
                spread[w] = spread.get(w, 0) + 1
    common = [w for w, n in sorted(spread.items(), key=lambda kv: (-kv[1], kv[0])) if n > 1][:terms]
    if not common:
        return np.zeros(len(texts))
    return np.asarray(index.get_scores([w for w in common if w in vocab]), dtype=float)
