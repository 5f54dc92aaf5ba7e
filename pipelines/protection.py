"""Keeping a prompt's instructions, question and scaffolding whole while its context is compressed.

``compressor.anatomy`` says which spans are protected and which are held with their section (labels,
document tags, headings); this module turns that into what the pipeline's fit needs: the budget (a ``rate``
applies to the compressible part, protected tokens come on top; a ``target_tokens`` ceiling holds them
too), candidates that are always kept first, the method's candidates with protected and held text cut out
of them, and, after a first fit, the held pieces whose sections kept text (kept in a second fit). A
Markdown table's head (header line and ``|---|`` rule) is held with its rows, so a kept row never stands
without it and the head never stands alone.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import Any

from compressor.anatomy import Anatomy, Held, Piece, analyse, merge_pieces, overlaps
from compressor.budget import Fitted, assemble, join_documents, merge_spans, resolve_budget
from compressor.methods.base import Candidate
from compressor.result import Span
from compressor.tokens import count_tokens, get_encoding
from retriever.repeats import stripped
from retriever.structure import json_members, markdown_blocks, table_parts

#: the score of a protected candidate: above any method's, so the greedy fit takes them first
FORCED_SCORE = 1e9


@dataclass
class Protection:
    """One input's anatomy and what it costs."""

    anatomy: Anatomy
    #: tokens the protected pieces cost (each with the joint before it)
    tokens: int
    #: tokens all held pieces would cost (not context, so not under the rate)
    held_tokens: int
    encoding: str
    #: the budget grows with the held pieces a second fit adds (a rate; not a target_tokens ceiling)
    grows: bool = True
    #: tokens of the compressible part (what a rate applies to)
    context_tokens: int = 0
    #: held pieces a second fit added
    added: tuple[Held, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.anatomy.protected or self.anatomy.held)

    def budget(self, original: int, rate: float | None, target_tokens: int | None) -> int:
        """The whole output's budget: ``rate`` of the compressible tokens plus the protected ones, or
        ``target_tokens`` (raised to the protected tokens when they alone exceed it)."""
        self.grows = target_tokens is None
        self.context_tokens = max(1, original - self.tokens - self.held_tokens)
        if not self.active:
            return resolve_budget(original, rate, target_tokens)
        if target_tokens is not None:
            return max(target_tokens, self.tokens)
        return resolve_budget(self.context_tokens, rate, None) + self.tokens

    def candidates(self, method_candidates: list[Candidate]) -> list[Candidate]:
        """Protected pieces as whole candidates first, then the method's, protected and held text cut out
        of them (a held piece is added only with its section, see ``needed``)."""
        forced = [Candidate(p.doc, p.start, p.end, FORCED_SCORE, atomic=True) for p in self.anatomy.protected]
        blocked = merge_pieces(self.anatomy.protected + [h.piece for h in self.anatomy.held])
        by_doc: dict[int, list[Piece]] = {}
        for p in blocked:  # merged: sorted by start and by end within a document
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

    def needed(self, kept: list[Span]) -> list[Held]:
        """Held pieces whose section kept some text that is not itself protected."""
        protected = self._protected_keys()
        text_spans = [s for s in kept if (s.doc, s.start, s.end) not in protected]
        return [h for h in self.anatomy.held
                if any(s.doc == h.piece.doc and s.start < h.end and s.end > h.start for s in text_spans)]

    def with_held(self, held: list[Held]) -> tuple[Protection, int]:
        """This protection with ``held`` protected too, and their tokens."""
        added = _cost(self.anatomy.documents, [h.piece for h in held], self.encoding)
        anatomy = replace(self.anatomy,
                          protected=sorted(self.anatomy.protected + [h.piece for h in held],
                                           key=lambda p: (p.doc, p.start)),
                          held=[h for h in self.anatomy.held if h not in held])
        return replace(self, anatomy=anatomy, tokens=self.tokens + added, added=self.added + tuple(held)), added

    def unused(self, kept: list[Span]) -> list[Span]:
        """Kept spans of added held pieces whose section no longer keeps text (the second fit chose
        differently): left out, so no label stands alone; and table rows whose head did not fit (a
        ``target_tokens`` ceiling too small for it), so no row stands without its header."""
        added = {(h.piece.doc, h.piece.start, h.piece.end): h for h in self.added}
        protected = self._protected_keys()
        text_spans = [s for s in kept if (s.doc, s.start, s.end) not in added
                      and (s.doc, s.start, s.end) not in protected]
        out = [s for s in kept if (s.doc, s.start, s.end) in added and not any(
            t.doc == s.doc and t.start < added[(s.doc, s.start, s.end)].end
            and t.end > added[(s.doc, s.start, s.end)].start for t in text_spans)]
        kept_keys = {(s.doc, s.start, s.end) for s in kept}
        headless = [h for key, h in added.items() if h.piece.label == "table_head" and key not in kept_keys]
        out.extend(s for s in text_spans
                   if any(h.piece.doc == s.doc and h.start <= s.start and s.end <= h.end for h in headless))
        return out

    def _protected_keys(self) -> set[tuple[int, int, int]]:
        return {(p.doc, p.start, p.end) for p in self.anatomy.protected}

    def info(self, budget: int) -> dict[str, Any]:
        """``CompressionResult.info["anatomy"]``: counts, protected spans, their tokens and the context's
        share of the budget."""
        return {**self.anatomy.info(), "protected_tokens": self.tokens, "context_tokens": self.context_tokens,
                "context_budget": max(0, budget - self.tokens)}


def protect(documents: list[str], query: str | None, keep: list[str], encoding: str,
            classify: bool = True) -> Protection:
    """The anatomy of ``documents`` and the token cost of its protected and held pieces."""
    anatomy = analyse(documents, query, keep, classify=classify)
    heads = [h for h in table_heads(anatomy.documents) if not overlaps(h.piece, anatomy.protected)]
    if heads:
        anatomy = replace(anatomy, held=sorted(anatomy.held + heads, key=lambda h: (h.piece.doc, h.piece.start)))
    return Protection(anatomy, _cost(anatomy.documents, anatomy.protected, encoding),
                      _cost(anatomy.documents, [h.piece for h in anatomy.held], encoding), encoding)


def table_heads(documents: list[str]) -> list[Held]:
    """The head of each Markdown table with a header and rule, held with its rows (structure, not
    anatomy: held with ``anatomy=False`` too)."""
    out = []
    for doc, text in enumerate(documents):
        if "|" not in text or json_members(text) is not None:
            continue
        for block in markdown_blocks(text):
            parts = table_parts(text, block) if block.kind == "table" else None
            if parts is not None:
                piece = Piece(doc, *parts.head, "scaffolding", "table_head")
                out.append(Held(piece, parts.rows[0][0], parts.rows_end))
    return out


def without(fitted: Fitted, dropped: list[Span], documents: list[str], json_docs: frozenset[int],
            encoding: str) -> Fitted:
    """``fitted`` reassembled without the ``dropped`` spans."""
    gone = {(s.doc, s.start, s.end) for s in dropped}
    spans = [s for s in fitted.spans if (s.doc, s.start, s.end) not in gone]
    docs = assemble(documents, spans, json_docs, fitted.cuts)  # cuts inside sentences keep their "…"
    text = join_documents(docs)
    return Fitted(docs, text, count_tokens(text, encoding), merge_spans(spans), fitted.cuts)


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
    for s, e in (stripped(text, *piece) for piece in pieces):
        if e - s > 1:
            out.append(Candidate(cand.doc, s, e, cand.score, cand.atomic))
    return out
