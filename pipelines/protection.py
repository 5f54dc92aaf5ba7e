"""Keeping a prompt's instructions, question and scaffolding whole while its context is compressed.

``compressor.anatomy`` says which spans are protected; this module turns that into what the pipeline's
fit needs: the budget (a ``rate`` applies to the compressible part, the protected tokens come on top; a
``target_tokens`` ceiling holds them too), candidates that are always kept first, the method's candidates
with protected text cut out of them, and the Markdown headings of the sections that kept something.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from compressor.anatomy import Anatomy, Piece, analyse
from compressor.budget import resolve_budget
from compressor.methods.base import Candidate
from compressor.result import Span
from compressor.tokens import get_encoding

#: the score of a protected candidate: above any method's, so the greedy fit takes them first
FORCED_SCORE = 1e9


@dataclass
class Protection:
    """One input's anatomy and what it costs."""

    anatomy: Anatomy
    #: tokens the protected pieces cost (each with the joint before it)
    tokens: int
    encoding: str

    @property
    def active(self) -> bool:
        return bool(self.anatomy.protected or self.anatomy.headings)

    def budget(self, original: int, rate: float | None, target_tokens: int | None) -> int:
        """The whole output's budget: ``rate`` of the compressible tokens plus the protected ones, or
        ``target_tokens`` (raised to the protected tokens when they alone exceed it)."""
        if not self.anatomy.protected:
            return resolve_budget(original, rate, target_tokens)
        if target_tokens is not None:
            return max(target_tokens, self.tokens)
        return resolve_budget(max(1, original - self.tokens), rate, None) + self.tokens

    def candidates(self, method_candidates: list[Candidate]) -> list[Candidate]:
        """Protected pieces as whole candidates first, then the method's, protected text cut out of them."""
        forced = [Candidate(p.doc, p.start, p.end, FORCED_SCORE, atomic=True) for p in self.anatomy.protected]
        by_doc: dict[int, list[Piece]] = {}
        for p in self.anatomy.protected:  # merged, so sorted by start and by end within a document
            by_doc.setdefault(p.doc, []).append(p)
        starts = {d: [p.start for p in pieces] for d, pieces in by_doc.items()}
        out = forced
        for cand in method_candidates:
            pieces = by_doc.get(cand.doc, [])
            hi = bisect_left(starts.get(cand.doc, []), cand.end)
            lo = hi
            while lo > 0 and pieces[lo - 1].end > cand.start:
                lo -= 1
            out.extend(_outside(self.anatomy.documents, cand, pieces[lo:hi]) if lo < hi else [cand])
        return out

    def ranges(self) -> list[tuple[int, int, int]]:
        """``(doc, start, end)`` of the protected pieces: the fit's final fill never cuts into them."""
        return [(p.doc, p.start, p.end) for p in self.anatomy.protected]

    def missing_headings(self, kept: list[Span]) -> list[Piece]:
        """Headings not kept whose section (up to the next heading of the same or a higher level) kept
        some text."""
        out = []
        heads = self.anatomy.headings
        for i, head in enumerate(heads):
            if any(s.doc == head.doc and s.start <= head.start < s.end for s in kept):
                continue
            level = _level(self.anatomy.documents[head.doc][head.start : head.end])
            end = next((h.start for h in heads[i + 1 :] if h.doc == head.doc and _level(
                self.anatomy.documents[h.doc][h.start : h.end]) <= level), len(self.anatomy.documents[head.doc]))
            if any(s.doc == head.doc and s.start < end and s.end > head.end for s in kept):
                out.append(head)
        return out

    def info(self, budget: int) -> dict[str, Any]:
        """``CompressionResult.info["anatomy"]``: counts, protected spans, their tokens and the context's
        share of the budget."""
        return {**self.anatomy.info(), "protected_tokens": self.tokens,
                "context_budget": max(0, budget - self.tokens)}


def protect(documents: list[str], query: str | None, keep: list[str], encoding: str,
            classify: bool = True) -> Protection:
    """The anatomy of ``documents`` and the token cost of its protected pieces."""
    anatomy = analyse(documents, query, keep, classify=classify)
    return Protection(anatomy, _cost(anatomy.documents, anatomy.protected, encoding), encoding)


def with_headings(protection: Protection, headings: list[Piece]) -> Protection:
    """``protection`` with ``headings`` protected too (the second fit of a Markdown input)."""
    anatomy = Anatomy(protection.anatomy.documents,
                      sorted(protection.anatomy.protected + headings, key=lambda p: (p.doc, p.start)),
                      [h for h in protection.anatomy.headings if h not in headings],
                      protection.anatomy.keep_not_found)
    added = _cost(anatomy.documents, headings, protection.encoding)
    return Protection(anatomy, protection.tokens + added, protection.encoding)


def _cost(documents: list[str], pieces: list[Piece], encoding: str) -> int:
    enc = get_encoding(encoding)
    return sum(len(enc.encode_ordinary(" " + documents[p.doc][p.start : p.end])) for p in pieces)


def _outside(documents: list[str], cand: Candidate, protected: list[Piece]) -> list[Candidate]:
    """``cand`` less the protected pieces it overlaps (their text is kept anyway), whitespace-trimmed."""
    pieces = [(cand.start, cand.end)]
    for p in protected:
        if p.doc != cand.doc or p.end <= cand.start or p.start >= cand.end:
            continue
        if cand.atomic:  # a code block or table is kept whole or not at all
            return [] if p.start <= cand.start and cand.end <= p.end else [cand]
        pieces = [part for s, e in pieces for part in ((s, min(e, p.start)), (max(s, p.end), e)) if part[1] > part[0]]
    text = documents[cand.doc]
    out = []
    for s, e in pieces:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > 1:
            out.append(Candidate(cand.doc, s, e, cand.score, cand.atomic))
    return out


def _level(heading: str) -> int:
    return len(heading) - len(heading.lstrip("#")) if heading.lstrip().startswith("#") else 1
