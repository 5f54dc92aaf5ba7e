"""Where to cut a long token sequence into model windows: at sentence or line starts when possible.

A window that starts mid-sentence reads that sentence without its beginning, so cuts prefer the last
sentence start in the second half of a window and fall back to a hard cut only inside a very long
sentence. Optional ``stride`` (overlap, in tokens, as in Hugging Face) gives each token more context
on both sides; a token then takes its score from the window where it sits farthest from an edge.
"""

from __future__ import annotations

import re

import numpy as np

_BREAK = re.compile(r"(?<=[.!?;:。！？])\s+|\n+")


def break_tokens(text: str, starts: np.ndarray) -> np.ndarray:
    """Indices of tokens (by character start offset) that begin a new sentence or line."""
    cuts = np.asarray([m.end() for m in _BREAK.finditer(text)], dtype=np.int64)
    if not len(cuts) or not len(starts):
        return np.zeros(0, dtype=np.int64)
    segment = np.searchsorted(cuts, starts, side="right")
    return np.flatnonzero(np.diff(segment) > 0) + 1


def plan_windows(n_tokens: int, size: int, breaks: np.ndarray | None = None,
                 stride: int = 0) -> list[tuple[int, int]]:
    """``[start, end)`` token windows of at most ``size`` covering ``0..n_tokens``, cut at ``breaks``."""
    if size < 1:
        raise ValueError("window size must be positive")
    if n_tokens == 0:
        return [(0, 0)]
    stride = max(0, min(stride, size // 2))
    breaks = np.zeros(0, dtype=np.int64) if breaks is None else np.asarray(breaks, dtype=np.int64)
    windows, start, prev_end = [], 0, 0
    while True:
        end = min(n_tokens, start + size)
        if end < n_tokens:  # the last break in the window's second half that moves past the last window
            lo = np.searchsorted(breaks, max(start + size // 2, prev_end + 1), side="left")
            hi = np.searchsorted(breaks, end, side="right")
            if hi > lo:
                end = int(breaks[hi - 1])
        windows.append((start, end))
        if end >= n_tokens:
            return windows
        start, prev_end = max(start + 1, end - stride), end


def assign(windows: list[tuple[int, int]], n_tokens: int) -> list[tuple[int, int]]:
    """For each window, the ``[lo, hi)`` tokens it owns: overlaps split at their middle."""
    owned = []
    for i, (s, e) in enumerate(windows):
        lo = s if i == 0 else (s + windows[i - 1][1]) // 2
        hi = e if i == len(windows) - 1 else (windows[i + 1][0] + e) // 2
        owned.append((max(s, lo), min(e, hi, n_tokens)))
    return owned
