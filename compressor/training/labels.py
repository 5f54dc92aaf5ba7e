"""Token targets of one example: ``[CLS] query [SEP] window [SEP]`` rows with soft KEEP targets.

Base labels: tokens inside evidence sentences are KEEP (1), all others DROP (0); tokens outside the
context (query, special tokens) are ignored. Documented refinement inside evidence sentences:
- function words and punctuation get a soft target of ``FUNCTION_TARGET`` (droppable at high
  compression, in the spirit of LLMLingua-2's word-level labels);
- the answer string's tokens always get target 1 and count ``ANSWER_WEIGHT`` times in the loss.
Long contexts are cut into windows exactly as at inference (``compressor.inference.plan``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from compressor.inference.plan import break_tokens, plan_windows
from compressor.inference.specials import suffix_length, with_specials
from compressor.inference.words import span_index
from compressor.training.data import Example
from compressor.training.evaluate import units

ANSWER_WEIGHT = 3.0
FUNCTION_TARGET = 0.5
MAX_QUERY_TOKENS = 48

FUNCTION_WORDS = frozenset("""
a an the and or but nor so yet if then than as of in on at by for from to into onto upon with within without
about above below under over after before during since until while through between among against toward
towards via per is are was were be been being am do does did done has have had having will would shall should
can could may might must it its it's this that these those there here he she they them his her their hers
theirs him we us our you your i me my mine who whom whose which what when where why how not no also very
just only too such each both either neither all any some most more less other another same own s
""".split())
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


@dataclass
class Row:
    """One training window: model input ids, per-token soft targets (nan = ignored) and loss weights."""

    ids: list[int]
    targets: np.ndarray
    weights: np.ndarray
    #: sentence of each token, numbered from 0 within the window (-1: query, specials, or no query given),
    #: for the sentence-level ranking term of the loss
    sentences: np.ndarray | None = None


def _inside(points: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    if not spans:
        return np.zeros(len(points), dtype=bool)
    arr = np.asarray(spans, dtype=np.int64)
    return ((points[:, None] >= arr[None, :, 0]) & (points[:, None] < arr[None, :, 1])).any(axis=1)


def _function_spans(text: str, evidence: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans of function words and punctuation inside the evidence sentences."""
    spans = []
    for s, e in evidence:
        for m in _WORD.finditer(text, s, e):
            w = m.group().lower()
            if w in FUNCTION_WORDS or not w[0].isalnum():
                spans.append((m.start(), m.end()))
    return spans


def token_targets(text: str, offsets: np.ndarray, ex: Example) -> tuple[np.ndarray, np.ndarray]:
    """Soft KEEP target and loss weight of each context token (by character start offset)."""
    starts = offsets[:, 0]
    keep = _inside(starts, ex.evidence)
    answer = _inside(starts, ex.answers) & keep
    function = _inside(starts, _function_spans(text, ex.evidence)) & keep & ~answer
    targets = keep.astype(np.float32)
    targets[function] = FUNCTION_TARGET
    weights = np.where(answer, ANSWER_WEIGHT, 1.0).astype(np.float32)
    return targets, weights


def token_sentences(text: str, starts: np.ndarray) -> np.ndarray:
    """Index of the sentence (cut also at line breaks, as the dev score cuts them) of each token."""
    spans = units(text)
    return span_index(starts, spans[:, 0], spans[:, 1])


def encode(tokenizer, ex: Example, max_length: int, use_query: bool) -> list[Row]:
    """The example as model rows: its context cut into windows beside the (optional) query."""
    q_ids = tokenizer(ex.query, add_special_tokens=False)["input_ids"][:MAX_QUERY_TOKENS] if use_query else []
    enc = tokenizer(ex.text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids, offsets = enc["input_ids"], np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    targets, weights = token_targets(ex.text, offsets, ex)
    sentences = token_sentences(ex.text, offsets[:, 0]) if q_ids and ex.evidence else None
    size = max_length - len(q_ids) - tokenizer.num_special_tokens_to_add(pair=bool(q_ids))
    tail = suffix_length(tokenizer, pair=bool(q_ids))
    rows = []
    for s, e in plan_windows(len(ids), size, break_tokens(ex.text, offsets[:, 0])):
        full = with_specials(tokenizer, q_ids, ids[s:e]) if q_ids else with_specials(tokenizer, ids[s:e])
        first = len(full) - tail - (e - s)
        t = np.full(len(full), np.nan, dtype=np.float32)
        w = np.zeros(len(full), dtype=np.float32)
        t[first : first + e - s], w[first : first + e - s] = targets[s:e], weights[s:e]
        rows.append(Row(full, t, w, _window_sentences(sentences, s, e, first, len(full))))
    return rows


def _window_sentences(sentences: np.ndarray | None, s: int, e: int, first: int, width: int) -> np.ndarray | None:
    if sentences is None:
        return None
    out = np.full(width, -1, dtype=np.int64)
    local = sentences[s:e]
    if (local >= 0).any():
        out[first : first + e - s] = np.where(local >= 0, local - local[local >= 0].min(), -1)
    return out
