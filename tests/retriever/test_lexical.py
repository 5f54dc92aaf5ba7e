"""BM25 scoring and its question-agnostic fallback (lexical centrality)."""

import numpy as np

from retriever.hybrid import HybridScorer
from retriever.lexical import bm25_scores, centrality_scores

PAGES = [
    "The harbour cranes were repaired and the harbour office reopened for ferry traffic.",
    "Ferry traffic in the harbour doubled after the new cranes arrived at the harbour.",
    "My grandmother's apple pie recipe uses cinnamon, butter and brown sugar.",
    "The harbour master reported that ferry traffic and crane work resumed.",
]


def test_bm25_scores_the_matching_text_highest():
    scores = bm25_scores(PAGES, "apple pie recipe")
    assert int(np.argmax(scores)) == 2


def test_centrality_prefers_what_the_documents_are_about():
    scores = centrality_scores(PAGES)
    assert scores.shape == (4,) and int(np.argmin(scores)) == 2


def test_bm25_only_scorer_without_query_uses_centrality_and_needs_no_embedder():
    scorer = HybridScorer(dense_weight=0.0)
    scores = scorer.scores(PAGES, None)
    assert scorer._embedder is None  # nothing was embedded
    assert scores.min() >= 0.0 and scores.max() == 1.0 and int(np.argmin(scores)) == 2
    assert centrality_scores([]).shape == (0,)
