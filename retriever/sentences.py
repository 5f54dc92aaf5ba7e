"""Sentence splitting with character offsets (blingfire: fast, handles abbreviations, URLs and CJK)."""

from __future__ import annotations

import blingfire


def sentence_offsets(text: str, base: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the sentences of ``text``, shifted by ``base``.

    Offsets are trimmed of surrounding whitespace; empty input gives no sentences.
    """
    if not text.strip():
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans = []
    for start, end in offsets:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((base + start, base + end))
    return spans or [(base, base + len(text))]
