"""``llmlingua2``: LLMLingua-2 token classification (Pan et al., 2024), on Condenser's shared inference.

Each word's score is the model's probability of the "keep" label averaged over the word's sub-tokens;
the best words are kept, in order, to the budget (target-LLM tokens, exact, via ``fit``). Compared with
the ``llmlingua`` package: texts longer than the model's positions are windowed (every window of every
document batched together), never truncated; special tokens are the tokenizer's own; words are re-joined
with the input's own whitespace, so Chinese/Japanese gain no spaces; word grouping comes from the
tokenizer, not from the model's name; post-processing is vectorised; nothing is ``eval``-ed.

Structure policy: code blocks, tables, headings and JSON members are scored and kept as whole units;
URLs, numbers, e-mail addresses and inline code are single words (never half kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compressor.methods.base import Candidate, Method, Request

DEFAULT_CHECKPOINT = "microsoft/llmlingua-2-xlm-roberta-large-meetingbank"
#: the smaller official checkpoint (multilingual BERT base)
SMALL_CHECKPOINT = "microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank"


class LLMLingua2(Method):
    """Options: ``model_path`` (hub name or folder, default ``DEFAULT_CHECKPOINT``), ``device``
    (auto/cpu/cuda/mps), ``dtype`` (auto/float32/float16/bfloat16), ``batch_size`` (windows per forward),
    ``force_tokens`` (words or tokens always kept), ``force_reserve_digit`` (keep every word with a
    digit), ``protect_structure`` (default True; False scores every word alone, as the reference),
    ``quantize`` (CPU: int8 dynamic quantisation, faster, scores differ slightly)."""

    name = "llmlingua2"
    #: the checkpoint loaded without ``model_path`` (a server offers it only once it is on the machine)
    default_checkpoint = DEFAULT_CHECKPOINT
    options = frozenset({"model_path", "device", "dtype", "batch_size", "force_tokens", "force_reserve_digit",
                         "protect_structure", "quantize"})

    def compress(self, request: Request) -> list[Candidate]:
        from compressor.inference import resolve_device, score_texts
        from compressor.models.checkpoints import load_token_classifier

        opts = request.options
        loaded = load_token_classifier(str(opts.get("model_path") or DEFAULT_CHECKPOINT),
                                       resolve_device(opts.get("device", "auto")), opts.get("dtype", "auto"),
                                       bool(opts.get("quantize", False)))
        texts = request.region_texts()
        tokens = score_texts(loaded.model, loaded.tokenizer, texts, None, max_length=loaded.max_length,
                             batch_size=int(opts.get("batch_size", 16)))
        protect = bool(opts.get("protect_structure", True))
        out: list[Candidate] = []
        for region, text, tok in zip(request.regions, texts, tokens):
            starts, ends, scores = word_scores(text, tok, opts, protect)
            out.extend(_candidates(request, region, starts, ends, scores, protect))
        return out

    def model_version(self) -> str:
        return "llmlingua2-1"


def word_scores(text: str, tok, opts: dict[str, Any], protect: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, ends, scores)`` of the words of ``text`` from its token KEEP probabilities.

    Forced tokens (``force_tokens``, and with ``force_reserve_digit`` every token holding a digit) count
    as probability 1 before averaging, as in LLMLingua-2; a word equal to a forced string scores 1.
    """
    from compressor.inference.words import group_spans, has_digit, model_word_groups
    from retriever.structure import inline_atoms

    t_starts, t_ends, probs = tok.offsets, tok.ends, tok.scores.astype(float).copy()
    force = _force_set(opts.get("force_tokens"))
    if opts.get("force_reserve_digit"):
        probs[has_digit(text, t_starts, t_ends)] = 1.0
    if force:
        probs[np.fromiter((text[s:e] in force for s, e in zip(t_starts, t_ends)), bool, len(t_starts))] = 1.0
    atoms = tuple(np.asarray(a, dtype=np.int64) for a in inline_atoms(text)) if protect else None
    groups = model_word_groups(text, t_starts, t_ends, tok.words, atoms)
    starts, ends, scores = group_spans(text, groups, t_starts, t_ends, probs)
    if force:
        scores[np.fromiter((text[s:e] in force for s, e in zip(starts, ends)), bool, len(starts))] = 1.0
    keep = ends > starts
    return starts[keep], ends[keep], scores[keep]


def _force_set(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError("force_tokens must be a list of strings")
    return frozenset(v for v in value if v)


def _candidates(request: Request, region, starts: np.ndarray, ends: np.ndarray, scores: np.ndarray,
                protect: bool) -> list[Candidate]:
    """Word candidates in document offsets; each atomic unit (code, table, heading, JSON member) in the
    region becomes one candidate scored by the mean of its words, and its words are not offered alone."""
    starts, ends = starts + region.start, ends + region.start
    inside = [u for u in request.units if u.atomic and u.doc == region.doc
              and u.start >= region.start and u.end <= region.end]
    is_json = any(u.kind == "json" for u in inside)  # a JSON document: only whole members, always
    atomic = inside if protect or is_json else []
    free = np.full(len(starts), not is_json)
    out = []
    if atomic:
        from compressor.inference.words import mean_per_span

        u_starts = np.asarray([u.start for u in atomic])
        u_ends = np.asarray([u.end for u in atomic])
        means = mean_per_span(starts, scores, u_starts, u_ends, fill=0.0)
        idx = np.searchsorted(u_starts, starts, side="right") - 1
        free &= ~((idx >= 0) & (starts < u_ends[np.clip(idx, 0, None)]))
        out = [Candidate(u.doc, u.start, u.end, float(m), True) for u, m in zip(atomic, means)]
    out.extend(Candidate(region.doc, int(s), int(e), float(v), False)
               for s, e, v in zip(starts[free], ends[free], scores[free]))
    return out
