"""``condenser``: the default method, Condenser's own question-aware model.

A MiniLM-L6 cross-encoder fine-tuned with a per-token KEEP head (LLMLingua-2 style) reads the query with
each window of the text; a sentence's relevance is the mean KEEP probability of its tokens (Provence
style) plus ``peak_weight`` times its highest token probability (a short answer inside a long sentence
still counts), and the best sentences are kept in order to the exact budget. Without shipped weights it
falls back to ``extractive`` with a warning that says how to build them.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from compressor.methods.base import Request, SentenceScorer
from compressor.methods.extractive import Extractive
from retriever.hybrid import HybridScorer

PEAK_WEIGHT = 0.0
#: share of the hybrid (MiniLM cosine + BM25) relevance blended into the model's sentence score. The
#: shipped model is under-trained (273 steps on a shared 2-core CPU) and alone retains fewer answers
#: than ``extractive``; the blend keeps the default no worse while better weights are trained.
BLEND = 0.5
#: dense (MiniLM cosine) share of that hybrid relevance. Embedding the sentences costs about as much as
#: the model pass on CPU, but BM25 alone (0) kept fewer answers at 5x in small dev checks (MuSiQue 55 vs
#: 70 %, HotpotQA 75 vs 80 %, 20-40 items), so the default keeps it.
DENSE_WEIGHT = 0.7
#: int8 dynamic quantisation of the model's Linear layers on CPU: ~1.3-1.5x faster model pass, sentence
#: ranking Spearman ~0.985 to fp32, but one answer fewer in 20-40 item checks; off until a larger check
#: shows it within a point.
QUANTIZE = False


class Condenser(SentenceScorer):
    """Options: ``model_path`` (weights folder), ``device`` (cpu/cuda/mps/auto), ``batch_size``,
    ``stride`` (window overlap in model tokens), ``peak_weight`` (see the module docstring), ``blend``
    (share of hybrid lexical/dense relevance, 0..1, default ``BLEND``), ``dense_weight`` (the dense share
    inside that relevance, default ``DENSE_WEIGHT``; 0 skips sentence embeddings), ``quantize`` (run the
    model with int8 dynamic quantisation on CPU, default ``QUANTIZE``).

    Reports ``score`` (the model pass) and ``relevance`` (the hybrid blend) in ``request.timings``.
    """

    name = "condenser"
    options = frozenset({"model_path", "device", "batch_size", "stride", "peak_weight", "blend",
                         "dense_weight", "quantize"})

    def _model(self, request: Request):
        from compressor.inference import resolve_device
        from compressor.models import ModelMissingError, load_condenser_model

        device = resolve_device(request.options.get("device", "cpu"))
        int8 = bool(request.options.get("quantize", QUANTIZE)) and device == "cpu"
        try:
            return load_condenser_model(request.options.get("model_path"), device,
                                        "int8" if int8 else "auto")
        except ModelMissingError as exc:
            warnings.warn(f"{exc}; falling back to 'extractive'", RuntimeWarning, stacklevel=4)
            return None

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        loaded = self._model(request)
        if loaded is None:
            return Extractive().score(texts, query, request)
        model, tokenizer, info = loaded
        blend = float(request.options.get("blend", BLEND))
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be in [0, 1], got {blend}")
        start = time.perf_counter()
        scores = self.unit_scores(model, tokenizer, info, request, query)
        request.timings["score"] = time.perf_counter() - start
        if blend:
            start = time.perf_counter()
            weight = float(request.options.get("dense_weight", DENSE_WEIGHT))
            relevance = HybridScorer(dense_weight=weight).scores(texts, query)
            scores = (1 - blend) * _rank01(scores) + blend * _rank01(relevance)
            request.timings["relevance"] = time.perf_counter() - start
        return scores

    @staticmethod
    def unit_scores(model, tokenizer, info: dict, request: Request, query: str | None) -> np.ndarray:
        """Score of every unit: the windows of all regions are scored together in one batched pass."""
        from compressor.inference import score_texts, span_scores
        from compressor.inference.words import max_per_span

        starts = np.asarray([u.start for u in request.units])
        ends = np.asarray([u.end for u in request.units])
        docs = np.asarray([u.doc for u in request.units])
        peak = float(request.options.get("peak_weight", PEAK_WEIGHT))
        out = np.zeros(len(request.units))
        inside = [(docs == r.doc) & (starts >= r.start) & (ends <= r.end) for r in request.regions]
        regions = [r for r, m in zip(request.regions, inside) if m.any()]
        inside = [m for m in inside if m.any()]
        texts = [request.documents[r.doc][r.start : r.end] for r in regions]
        all_tokens = score_texts(model, tokenizer, texts, query, max_length=info.get("max_length", 320),
                                  stride=int(request.options.get("stride", 0)),
                                  batch_size=int(request.options.get("batch_size", 16)))
        for region, mask, tokens in zip(regions, inside, all_tokens):
            s, e = starts[mask] - region.start, ends[mask] - region.start
            out[mask] = span_scores(tokens, s, e)
            if peak:
                out[mask] += peak * max_per_span(tokens.offsets, tokens.scores, s, e)
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

