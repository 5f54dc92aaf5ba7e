"""Sentence splitting with character offsets (blingfire: fast, handles abbreviations, URLs and CJK).

CJK text is also split after a full-width semicolon (``；``, which blingfire leaves inside a sentence),
and a closing quote or bracket after ``。！？`` stays with the sentence it closes: CJK text is cut only at
these sentence boundaries (and at line breaks, which the chunker splits on first).
"""

from __future__ import annotations

import re

import blingfire

#: CJK characters (kana, CJK ideographs and extension A, Hangul syllables, compatibility ideographs), as a
#: regex character-class body: text of them has no spaces between words
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
#: where a CJK sentence ends: after ``。！？；`` and any closing quotes or brackets that follow them
_CJK_END = re.compile(r"[。！？；]+[”’」』）》】〉\"']*")
#: closers blingfire moves to the start of the next sentence ("他说：“好。" + "”然后走了。")
_CJK_CLOSERS = "”’」』）》】〉"
#: what ends a sentence, and the closing quotes and brackets that may follow it (``compressor.budget``
#: and ``retriever.repeats`` tell sentence ends by these)
SENTENCE_END_MARKS = ".!?。！？；…"
CLOSING_MARKS = "\"'”’」』）》】〉)]"


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
            spans.append((start, end))
    spans = _cjk_boundaries(text, spans) if _has_cjk_end(text) else spans
    return [(base + s, base + e) for s, e in spans] or [(base, base + len(text))]


def _has_cjk_end(text: str) -> bool:
    return any(mark in text for mark in "。！？；")


def _cjk_boundaries(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with closers moved back to the sentence they close and split after every ``；``."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        lead = start
        while lead < end and text[lead] in _CJK_CLOSERS:
            lead += 1
        if lead > start and joined:  # "”然后走了。": the quote closes the previous sentence
            joined[-1] = (joined[-1][0], lead)
            start = lead
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            joined.append((start, end))
    out = []
    for start, end in joined:
        for match in _CJK_END.finditer(text, start, end):
            cut = match.end()
            if start < cut < end:
                out.append((start, cut))
                start = cut
                while start < end and text[start].isspace():
                    start += 1
        if end > start:
            out.append((start, end))
    return out
