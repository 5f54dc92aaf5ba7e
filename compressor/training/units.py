"""A training example's text as inference reads it: the chunker's units under their section titles."""

from __future__ import annotations

from dataclasses import dataclass

from compressor.training.data import Example
from retriever.chunker import document_units
from retriever.sections import titled, unit_titles

#: shorter units (titles, labels) are scored at inference but are never evidence or negatives
MIN_WORDS = 4


def unit_spans(text: str) -> list[tuple[int, int]]:
    """The units the chunker makes of ``text`` (sentences line by line): what inference scores."""
    return [(u.start, u.end) for u in document_units(text)[0] if text[u.start : u.end].strip()]


@dataclass
class Units:
    """A context's titled units (``texts``) and, per unit, whether it holds evidence / an answer."""

    texts: list[str]
    evidence: list[bool]
    answer: list[bool]


def units_of(ex: Example) -> Units:
    """``ex``'s units of at least ``MIN_WORDS`` words, read under their section titles, with their labels."""
    spans = unit_spans(ex.text)
    out = Units([], [], [])
    for (s, e), title in zip(spans, unit_titles(ex.text, [s for s, _ in spans])):
        text = ex.text[s:e].strip()
        if len(text.split()) < MIN_WORDS:
            continue
        out.texts.append(titled(title, text))
        out.evidence.append(any(s < b and a < e for a, b in ex.evidence))
        out.answer.append(any(s <= a < e for a, _ in ex.answers))
    return out
