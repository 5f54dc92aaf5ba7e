"""Dev score printed by training: how well sentence scores separate evidence from the rest."""

from __future__ import annotations

import re

import numpy as np

from compressor.inference import score_tokens, span_scores
from compressor.training.data import Example
from retriever.sentences import sentence_offsets

_LINE = re.compile(r"[^\n]*\S[^\n]*")


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC: the chance that a random positive scores above a random negative (ties count half)."""
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = _ranks(np.r_[pos, neg])
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def units(text: str) -> np.ndarray:
    """Sentence spans, also cut at line breaks (JSON records, lists), as ``(n, 2)`` character offsets."""
    out = []
    for s, e in sentence_offsets(text):
        for line in _LINE.finditer(text, s, e):
            out.append((line.start(), line.end()))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def dev_scores(model, tokenizer, dev: list[Example], max_length: int, per_source: int = 40) -> dict:
    """Sentence ROC AUC (evidence vs other sentences) per source, on dev examples that have evidence."""
    out = {}
    for source in sorted({e.source for e in dev}):
        pos, neg = [], []
        for ex in [e for e in dev if e.source == source and e.evidence][:per_source]:
            sents = units(ex.text)
            tokens = score_tokens(model, tokenizer, ex.text, ex.query, max_length=max_length)
            scores = span_scores(tokens, sents[:, 0], sents[:, 1])
            is_ev = np.asarray([any(s < e2 and s2 < e for s2, e2 in ex.evidence) for s, e in sents])
            pos.extend(scores[is_ev])
            neg.extend(scores[~is_ev])
        score = auc(np.asarray(pos), np.asarray(neg))
        out[f"sentence_auc_{source}"] = None if np.isnan(score) else round(score, 4)
    return out
