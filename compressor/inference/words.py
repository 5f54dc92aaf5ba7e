"""Words of a text with character offsets: runs of non-space characters, each CJK character alone.

Token-classification methods score words; the shared assembler joins words separated by no whitespace
with nothing, so CJK output never gains spaces.
"""

from __future__ import annotations

import re

import numpy as np

from retriever.sentences import CJK_CHARS

_WORD = re.compile(f"[{CJK_CHARS}]|[^\\s{CJK_CHARS}]+")


def word_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` character offsets of the words of ``text``."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not spans:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.asarray(spans, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def span_index(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the sorted, non-overlapping ``[start, end)`` span holding each point, -1 where none does."""
    points = np.asarray(points)
    if len(starts) == 0:
        return np.full(len(points), -1, dtype=np.int64)
    idx = np.searchsorted(starts, points, side="right") - 1
    inside = (idx >= 0) & (points < np.asarray(ends)[np.clip(idx, 0, None)])
    return np.where(inside, idx, -1)


def mean_per_span(points: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  fill: float = 0.0) -> np.ndarray:
    """Mean of ``values`` whose ``points`` (character offsets) fall in each ``[start, end)``; vectorised."""
    if len(starts) == 0:
        return np.zeros(0)
    idx = span_index(points, starts, ends)
    inside = idx >= 0
    sums = np.bincount(idx[inside], weights=values[inside], minlength=len(starts))
    counts = np.bincount(idx[inside], minlength=len(starts))
    out = np.full(len(starts), fill, dtype=float)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def max_per_span(points: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 fill: float = 0.0) -> np.ndarray:
    """Largest of ``values`` whose ``points`` fall in each non-overlapping ``[start, end)`` (any order)."""
    if len(starts) == 0:
        return np.zeros(0)
    order = np.argsort(starts, kind="stable")
    idx = span_index(points, np.asarray(starts)[order], np.asarray(ends)[order])
    inside = idx >= 0
    best = np.full(len(starts), -np.inf)
    np.maximum.at(best, idx[inside], values[inside])
    out = np.empty(len(starts))
    out[order] = np.where(np.isfinite(best), best, fill)
    return out


_PUNCT = np.frombuffer("".join(chr(c) for c in range(33, 127) if not chr(c).isalnum()).encode("utf-32-le"),
                       dtype=np.uint32)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def model_word_groups(text: str, starts: np.ndarray, ends: np.ndarray, words: np.ndarray,
                      atoms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Word index of each token, as LLMLingua-2 groups sub-tokens into words, with no model-name rules.

    A token starts a new word where the tokenizer's pre-tokenizer starts one (``word_ids``: whitespace,
    and for BERT also punctuation and each CJK character) or where it is a lone ASCII punctuation mark
    (what LLMLingua-2 does for XLM-R's ``,`` after a word). Tokens inside one ``atoms`` span (URLs,
    numbers, inline code) form a single word, so such a span is kept or dropped whole.
    """
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cps = _codepoints(text)
    lone = (ends - starts == 1) & np.isin(cps[np.clip(starts, 0, max(len(cps) - 1, 0))], _PUNCT)
    new = np.ones(n, dtype=bool)
    new[1:] = (words[1:] != words[:-1]) | lone[1:]
    if atoms is not None and len(atoms[0]):
        key = span_index(starts, np.asarray(atoms[0]), np.asarray(atoms[1]))
        inside = key >= 0
        same = np.zeros(n, dtype=bool)
        same[1:] = inside[1:] & (key[1:] == key[:-1])
        first = inside.copy()
        first[1:] &= ~same[1:]
        new = (new & ~same) | first
    return np.cumsum(new) - 1


def group_spans(text: str, groups: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, ends, mean value)`` of each group of tokens, spans trimmed of whitespace."""
    if len(groups) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    first = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    g_start = np.minimum.reduceat(starts, first)
    g_end = np.maximum.reduceat(ends, first)
    counts = np.diff(np.r_[first, len(groups)])
    means = np.add.reduceat(values.astype(float), first) / counts
    space = np.isin(_codepoints(text), np.frombuffer(" \t\n\r\u3000\u00a0".encode("utf-32-le"), dtype=np.uint32))
    for _ in range(2):  # XLM-R's "▁" may claim the space before a word: move starts past it
        move = (g_start < g_end) & space[np.clip(g_start, 0, max(len(space) - 1, 0))]
        g_start = g_start + move
    return g_start, g_end, means


def has_digit(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each ``[start, end)`` span of ``text`` contains a decimal digit (vectorised)."""
    cps = _codepoints(text)
    digit = np.r_[0, np.cumsum((cps >= 48) & (cps <= 57))]
    return digit[ends] - digit[starts] > 0
