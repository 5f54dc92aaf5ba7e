"""RetroLM-style page retrieval: score token-budgeted pages, keep the best under a budget, in order."""

from __future__ import annotations

import numpy as np

from compressor.tokens import DEFAULT_ENCODING, count_many
from retriever.chunker import Page, chunk
from retriever.hybrid import HybridScorer
from retriever.repeats import SeenText, take_novel


def select_in_order(tokens: list[int], scores: np.ndarray, budget: int) -> list[int]:
    """Indices of the highest-scoring items whose tokens fit in ``budget``, returned in original order."""
    chosen, used = [], 0
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        if used + tokens[i] <= budget:
            chosen.append(int(i))
            used += tokens[i]
    return sorted(chosen)


class PageRetriever:
    """Hybrid (BM25 + dense/FAISS) page retrieval that preserves the order of the kept pages."""

    def __init__(self, scorer: HybridScorer | None = None, *, page_tokens: int = 256,
                 encoding: str = DEFAULT_ENCODING, hops: int = 1, repeat_words: int = 0):
        self.scorer = scorer or HybridScorer()
        self.page_tokens = page_tokens
        self.encoding = encoding
        self.hops = hops
        self.repeat_words = repeat_words

    def score_pages(self, documents: list[str], pages: list[Page], query: str | None) -> np.ndarray:
        texts = [documents[p.doc][p.start : p.end] for p in pages]
        return self.scorer.multi_hop(texts, query, hops=self.hops)  # one hop: plain ``scores``

    def select(self, documents: list[str], pages: list[Page], query: str | None, budget: int) -> list[Page]:
        """The best pages within ``budget`` tokens, in document order. With ``repeat_words``, a page costs
        only the tokens that the pages picked before it do not hold (``retriever.repeats``), and a page
        they hold whole is skipped: overlapping chunks do not fill the budget with one passage twice."""
        scores = self.score_pages(documents, pages, query)
        if self.repeat_words:
            return [pages[i] for i in self._select_novel(documents, pages, scores, budget)]
        return [pages[i] for i in select_in_order([p.tokens for p in pages], scores, budget)]

    def _select_novel(self, documents: list[str], pages: list[Page], scores: np.ndarray,
                      budget: int) -> list[int]:
        """``select_in_order`` with each page costed by its novel tokens (see ``select``)."""
        spans = [(documents[p.doc], p.start, p.end) for p in pages]

        def piece_cost(i: int, pieces: list[tuple[int, int]]) -> int:
            return sum(count_many([spans[i][0][s:e] for s, e in pieces], self.encoding))

        picks, _ = take_novel(np.argsort(-np.asarray(scores), kind="stable"), spans,
                              [p.tokens for p in pages], budget, SeenText(self.repeat_words), piece_cost)
        return sorted(i for i, _ in picks)

    def retrieve(self, context: str | list[str], query: str | None, budget: int) -> list[Page]:
        """Chunk ``context`` into pages and return the best ones within ``budget`` tokens, in order."""
        documents = [context] if isinstance(context, str) else list(context)
        pages = chunk(documents, page_tokens=self.page_tokens, encoding=self.encoding).pages
        return self.select(documents, pages, query, budget)
