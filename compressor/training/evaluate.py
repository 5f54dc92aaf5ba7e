"""Dev score printed by training: how well sentence scores separate evidence from the rest."""

from __future__ import annotations

import numpy as np

from compressor.inference import score_tokens, span_scores
from compressor.training.data import Example
from retriever.sentences import sentence_offsets


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = np.argsort(np.argsort(np.r_[pos, neg])) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def dev_auc(model, tokenizer, dev: list[Example], max_length: int, limit: int = 150) -> float:
    """ROC AUC of evidence vs other sentences, pooled over up to ``limit`` dev examples with evidence."""
    pos, neg = [], []
    for ex in [e for e in dev if e.evidence][:limit]:
        sents = np.asarray(sentence_offsets(ex.text))
        tokens = score_tokens(model, tokenizer, ex.text, ex.query, max_length=max_length)
        scores = span_scores(tokens, sents[:, 0], sents[:, 1])
        is_ev = np.asarray([any(s < e2 and s2 < e for s2, e2 in ex.evidence) for s, e in sents])
        pos.extend(scores[is_ev])
        neg.extend(scores[~is_ev])
    return round(_auc(np.asarray(pos), np.asarray(neg)), 4)
