"""Scoring the coarse stage's regions in one batched pass, and the chunker's units from those scores."""

from __future__ import annotations

import numpy as np

from compressor.inference.windows import TokenScores, score_texts, span_scores


def score_regions(model, tokenizer, request, query: str | None, *, max_length: int, batch_size: int = 16,
                  stride: int = 0) -> list[TokenScores]:
    """Token KEEP probabilities of every region of ``request`` (windows of all regions batched together)."""
    return score_texts(model, tokenizer, request.region_texts(), query, max_length=max_length,
                       batch_size=batch_size, stride=stride)


def unit_scores(request, tokens: list[TokenScores]) -> np.ndarray:
    """Mean token probability of each unit of ``request`` (Provence's sentence score); 0 outside regions."""
    starts = np.asarray([u.start for u in request.units], dtype=np.int64)
    ends = np.asarray([u.end for u in request.units], dtype=np.int64)
    docs = np.asarray([u.doc for u in request.units], dtype=np.int64)
    out = np.zeros(len(request.units))
    for region, tok in zip(request.regions, tokens):
        inside = (docs == region.doc) & (starts >= region.start) & (ends <= region.end)
        if inside.any():
            out[inside] = span_scores(tok, starts[inside] - region.start, ends[inside] - region.start)
    return out
