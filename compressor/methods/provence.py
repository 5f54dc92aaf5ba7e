"""``provence``: Provence-style context pruning (Chirkova et al., ICLR 2025), without remote code.

The (query, context) pair goes through a cross-encoder with a per-token relevance head; a sentence's
score is the mean of its tokens' relevance; sentences under ``threshold`` are dropped and the rest are
kept in order, best first when the budget is tighter. The same forward pass gives the pair's rerank
score, reported per document in ``result.info["rerank_scores"]`` (the best window of each document).

Structure policy: the chunker's units are the choices, so code blocks, tables, headings and JSON members
are scored and kept whole (JSON stays valid); sentences are never cut inside a URL or number by this
method (``fit`` only trims the one partial sentence that fills the last tokens, at a word boundary).
"""

from __future__ import annotations

import numpy as np

from compressor.methods.base import Request, SentenceScorer

DEFAULT_CHECKPOINT = "naver/provence-reranker-debertav3-v1"
THRESHOLD = 0.1


class Provence(SentenceScorer):
    """Options: ``model_path`` (hub name or folder: naver Provence or OpenProvence), ``device``, ``dtype``,
    ``batch_size``, ``threshold`` (sentences scoring below it are dropped; default 0.1, 0 keeps the budget
    full)."""

    name = "provence"
    #: the checkpoint loaded without ``model_path`` (a server offers it only once it is on the machine)
    default_checkpoint = DEFAULT_CHECKPOINT
    options = frozenset({"model_path", "device", "dtype", "batch_size", "threshold"})
    threshold = THRESHOLD

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        """Mean token relevance of each unit (the texts are the request's units; windows are cut from
        its regions); the per-document rerank scores go to ``request.info``."""
        from compressor.inference import resolve_device
        from compressor.inference.regions import score_regions, unit_scores
        from compressor.models.provence import load_provence

        opts = request.options
        loaded = load_provence(str(opts.get("model_path") or DEFAULT_CHECKPOINT),
                               resolve_device(opts.get("device", "auto")), opts.get("dtype", "auto"))
        tokens = score_regions(loaded.model, loaded.tokenizer, request, query,
                               max_length=loaded.max_length, batch_size=int(opts.get("batch_size", 16)))
        request.info["rerank_scores"] = _rerank_per_document(request, tokens)
        return unit_scores(request, tokens)


def _rerank_per_document(request: Request, tokens) -> list[float | None]:
    """The best window's rerank logit for each document (None for a document the coarse stage dropped)."""
    best: list[float | None] = [None] * len(request.documents)
    for region, tok in zip(request.regions, tokens):
        if tok.window_scores is None or not np.isfinite(tok.window_scores).any():
            continue
        value = float(np.nanmax(tok.window_scores))
        current = best[region.doc]
        best[region.doc] = value if current is None else max(current, value)
    return best
