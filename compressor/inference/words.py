"""Words of a text with character offsets: runs of non-space characters, each CJK character alone.

Token-classification methods score words; the shared assembler joins words separated by no whitespace
with nothing, so CJK output never gains spaces.
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def word_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` character offsets of the words of ``text``."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not spans:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.asarray(spans, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def mean_per_span(points: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  fill: float = 0.0) -> np.ndarray:
    """Mean of ``values`` whose ``points`` (character offsets) fall in each ``[start, end)``; vectorised."""
    if len(starts) == 0:
        return np.zeros(0)
    idx = np.searchsorted(starts, points, side="right") - 1
    inside = (idx >= 0) & (points < ends[np.clip(idx, 0, None)])
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
    s, e = np.asarray(starts)[order], np.asarray(ends)[order]
    idx = np.searchsorted(s, points, side="right") - 1
    inside = (idx >= 0) & (points < e[np.clip(idx, 0, None)])
    best = np.full(len(s), -np.inf)
    np.maximum.at(best, idx[inside], values[inside])
    out = np.empty(len(s))
    out[order] = np.where(np.isfinite(best), best, fill)
    return out
