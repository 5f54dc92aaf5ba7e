"""``condenser``: the default method, Condenser's own question-aware model.

A MiniLM-L6 cross-encoder fine-tuned with a per-token KEEP head (LLMLingua-2 style) reads the query with
each window of the text; a sentence's relevance is the mean KEEP probability of its tokens (Provence
style) plus ``peak_weight`` times its highest token probability (a short answer inside a long sentence
still counts), and the best sentences are kept in order to the exact budget. Without shipped weights it
falls back to ``extractive`` with a warning that says how to build them.
"""

from __future__ import annotations

import warnings

import numpy as np

from compressor.methods.base import Request, SentenceScorer
from compressor.methods.extractive import Extractive

PEAK_WEIGHT = 0.0
#: share of the hybrid (MiniLM cosine + BM25) relevance blended into the model's sentence score. The
#: shipped model is under-trained (273 steps on a shared 2-core CPU) and alone retains fewer answers
#: than ``extractive``; the blend keeps the default no worse while better weights are trained.
BLEND = 0.5


class Condenser(SentenceScorer):
    """Options: ``model_path`` (weights folder), ``device`` (cpu/cuda/mps/auto), ``batch_size``,
    ``stride`` (window overlap in model tokens), ``peak_weight`` (see the module docstring), ``blend``
    (share of hybrid lexical/dense relevance, 0..1, default ``BLEND``)."""

    name = "condenser"
    options = frozenset({"model_path", "device", "batch_size", "stride", "peak_weight", "blend"})

    def _model(self, request: Request):
        from compressor.inference import resolve_device
        from compressor.models import ModelMissingError, load_condenser_model

        try:
            return load_condenser_model(request.options.get("model_path"),
                                        resolve_device(request.options.get("device", "cpu")))
        except ModelMissingError as exc:
            warnings.warn(f"{exc}; falling back to 'extractive'", RuntimeWarning, stacklevel=4)
            return None

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        loaded = self._model(request)
        if loaded is None:
            return Extractive().score(texts, query, request)
        model, tokenizer, info = loaded
        scores = self.unit_scores(model, tokenizer, info, request, query)
        blend = float(request.options.get("blend", BLEND))
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be in [0, 1], got {blend}")
        if blend:
            scores = (1 - blend) * _rank01(scores) + blend * _rank01(Extractive().score(texts, query, request))
        return scores

    @staticmethod
    def unit_scores(model, tokenizer, info: dict, request: Request, query: str | None) -> np.ndarray:
        """Score of every unit: each region's text is scored window by window, once."""
        from compressor.inference import score_tokens, span_scores
        from compressor.inference.words import max_per_span

        starts = np.asarray([u.start for u in request.units])
        ends = np.asarray([u.end for u in request.units])
        docs = np.asarray([u.doc for u in request.units])
        peak = float(request.options.get("peak_weight", PEAK_WEIGHT))
        out = np.zeros(len(request.units))
        for region in request.regions:
            inside = (docs == region.doc) & (starts >= region.start) & (ends <= region.end)
            if not inside.any():
                continue
            text = request.documents[region.doc][region.start : region.end]
            tokens = score_tokens(model, tokenizer, text, query, max_length=info.get("max_length", 320),
                                  stride=int(request.options.get("stride", 0)),
                                  batch_size=int(request.options.get("batch_size", 16)))
            s, e = starts[inside] - region.start, ends[inside] - region.start
            out[inside] = span_scores(tokens, s, e)
            if peak:
                out[inside] += peak * max_per_span(tokens.offsets, tokens.scores, s, e)
        return out

    def model_version(self) -> str:
        from compressor.models import model_info

        info = model_info()
        return f"condenser-minilm-{info.get('steps', 'untrained')}-{info.get('seed', 0)}"


def _rank01(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]: puts scores of different scales on one footing before blending."""
    if len(x) < 2:
        return np.ones_like(x, dtype=float)
    return np.argsort(np.argsort(x, kind="stable"), kind="stable") / (len(x) - 1)
