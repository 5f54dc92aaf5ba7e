"""Turning scored candidate spans into an output that meets a token budget exactly.

Shared by every method: greedy selection by score (ties: earlier first; with ``repeat_words``, what an
earlier pick already holds is cut out of later ones, ``retriever.repeats``), exact recount of the
assembled text, removal of the weakest spans if the joins cost more than estimated, then filling the last
tokens from the best unkept, non-atomic candidates: their whole sentences while they fit, then one
sentence shortened at word level (``compressor.word_pruning``) into what is left. When the budget cannot
hold the best candidate at all, that candidate is shortened first, rather than swapped for shorter, less
relevant ones. Text cut out of a sentence is marked with ``…`` (``MARKER``); a piece never runs into the
next sentence unmarked. The output lands within [min_fill * budget, budget] whenever the input allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from compressor.methods.base import Candidate
from compressor.result import Span
from compressor.tokens import count_tokens, get_encoding
from compressor.word_pruning import MARKER, prune_sentence
from retriever.repeats import SeenText, take_novel
from retriever.sentences import CLOSING_MARKS, SENTENCE_END_MARKS, sentence_offsets
from retriever.structure import json_container

DOC_SEPARATOR = "\n\n"
#: a ``rate`` never asks for fewer tokens than this (an input this short comes back whole): compressing a
#: note of a sentence or two saves next to nothing and costs its facts; ``target_tokens`` is always obeyed
MIN_RATE_BUDGET = 32
#: the fewest tokens worth a shortened sentence in the final fill (a word or two between ``…``)
MIN_PRUNED_TOKENS = 4
#: what ends a sentence (a cut right after one needs no ``…``), before any closing quotes or brackets
_SENTENCE_END = frozenset(SENTENCE_END_MARKS)
_CLOSERS = frozenset(CLOSING_MARKS)

#: character positions ``(doc, offset)`` where a kept span borders text cut out of its sentence
Cuts = frozenset[tuple[int, int]]


def resolve_budget(original_tokens: int, rate: float | None, target_tokens: int | None) -> int:
    """The token budget for ``rate`` (fraction kept, default 0.33) or ``target_tokens`` (hard ceiling).

    A rate's budget is at least ``MIN_RATE_BUDGET`` tokens, or the whole input when it is shorter."""
    if target_tokens is not None:
        return target_tokens
    by_rate = max(1, int(original_tokens * (rate if rate is not None else 0.33)))
    return max(by_rate, min(original_tokens, MIN_RATE_BUDGET))


def _separator(gap: str) -> str:
    if not gap or gap.isspace():
        return gap
    if "\n\n" in gap:
        return "\n\n"
    if "\n" in gap:
        return "\n"
    return " " if any(ch.isspace() for ch in gap) else ""


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sort spans by (doc, start) and merge overlapping ones (keeping the higher score)."""
    merged: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.doc, s.start, s.end)):
        last = merged[-1] if merged else None
        if last is not None and last.doc == s.doc and s.start < last.end:
            scores = [x for x in (last.score, s.score) if x is not None]
            merged[-1] = Span(doc=s.doc, start=last.start, end=max(last.end, s.end),
                              score=max(scores) if scores else None)
        else:
            merged.append(s)
    return merged


def assemble(documents: list[str], spans: list[Span], json_docs: frozenset[int] = frozenset(),
             cuts: Cuts = frozenset()) -> list[str]:
    """Per-document output text for the kept ``spans`` (original gaps' whitespace becomes the joint);
    ``MARKER`` goes where a span borders text cut out of its sentence (``cuts``)."""
    by_doc: dict[int, list[Span]] = {}
    for s in merge_spans(spans):
        by_doc.setdefault(s.doc, []).append(s)
    outputs = []
    for d, text in enumerate(documents):
        kept = by_doc.get(d, [])
        if not kept:
            outputs.append("")
        elif d in json_docs:
            opener, closer = json_container(text)
            outputs.append(opener + ", ".join(text[s.start : s.end] for s in kept) + closer)
        else:
            parts = [MARKER + " " if (d, kept[0].start) in cuts else "", text[kept[0].start : kept[0].end]]
            for prev, cur in pairwise(kept):
                parts.append(_joint(_separator(text[prev.end : cur.start]), (d, prev.end) in cuts,
                                    (d, cur.start) in cuts))
                parts.append(text[cur.start : cur.end])
            parts.append(" " + MARKER if (d, kept[-1].end) in cuts else "")
            outputs.append("".join(parts))
    return outputs


def _joint(separator: str, cut_after: bool, cut_before: bool) -> str:
    """What joins two kept spans: their ``separator``, with one ``MARKER`` for the text cut between them
    (one each side of a line break)."""
    if not (cut_after or cut_before):
        return separator
    if not separator:  # text without spaces (CJK)
        return MARKER
    if separator == " ":
        return f" {MARKER} "
    return (f" {MARKER}" if cut_after else "") + separator + (f"{MARKER} " if cut_before else "")


def join_documents(texts: list[str]) -> str:
    return DOC_SEPARATOR.join(t for t in texts if t)


@dataclass
class Fitted:
    """The output of ``fit``: per-document texts, the joined text, its token count, the kept spans and
    where they border text cut out of a sentence."""

    documents: list[str]
    text: str
    tokens: int
    spans: list[Span]
    cuts: Cuts = frozenset()


class _Assembler:
    def __init__(self, documents: list[str], json_docs: frozenset[int], encoding: str):
        self.documents, self.json_docs, self.encoding = documents, json_docs, encoding

    def __call__(self, spans: list[Span], cuts: Cuts = frozenset()) -> Fitted:
        docs = assemble(self.documents, spans, self.json_docs, cuts)
        text = join_documents(docs)
        return Fitted(docs, text, count_tokens(text, self.encoding), merge_spans(spans), cuts)


def fit(
    documents: list[str],
    candidates: list[Candidate],
    budget: int,
    encoding: str,
    *,
    json_docs: frozenset[int] = frozenset(),
    min_fill: float = 0.9,
    protected: list[tuple[int, int, int]] = (),
    repeat_words: int = 0,
    query: str | None = None,
) -> Fitted:
    """Keep the best candidates so that the assembled output has at most ``budget`` tokens.

    ``protected`` spans ``(doc, start, end)`` (code blocks, tables) are never cut by the final fill.
    ``repeat_words`` > 0: a candidate's runs of at least that many words that an already-kept candidate
    holds too (overlapping chunks, ``retriever.repeats``) are cut out of it, so no budget buys the same
    text twice; atomic candidates and JSON members are kept whole. ``query`` tells the word-level pruner
    which words the question asks for (``compressor.word_pruning``).
    """
    build = _Assembler(documents, json_docs, encoding)
    if not candidates or budget <= 0:
        return build([])
    costs = _costs(documents, candidates, encoding, json_docs)
    scores = np.asarray([c.score for c in candidates], dtype=float)
    positions = np.asarray([(c.doc, c.start) for c in candidates])
    order = np.lexsort((positions[:, 1], positions[:, 0], -np.nan_to_num(scores, nan=-np.inf)))

    seen = SeenText(repeat_words) if repeat_words else None
    best = candidates[int(order[0])]
    if costs[order[0]] > budget and not best.atomic and best.doc not in json_docs:
        # the budget cannot hold the best candidate: shorten it, rather than keep shorter, less relevant ones
        picks, repeated, result = [], set(), build([])
    else:
        picks, repeated = _greedy(documents, candidates, costs, order, budget, encoding, json_docs, seen)
        result = build(*_kept(picks, candidates, scores, documents))
        while result.tokens > budget and picks:  # joins cost more than estimated: drop the weakest
            del picks[-max(1, min(len(picks), (result.tokens - budget) // 2)) :]
            result = build(*_kept(picks, candidates, scores, documents))
    taken = {i for i, _ in picks} | repeated  # the fill takes nothing already kept
    fill = _Filler(build, documents, budget, protected, query)
    for i in order:
        if result.tokens >= min_fill * budget or budget - result.tokens < 2:
            break
        cand = None if int(i) in taken else _unkept_part(candidates[i], seen, documents, json_docs)
        if cand is None:
            continue
        if costs[i] > budget - result.tokens and budget - result.tokens < MIN_PRUNED_TOKENS:
            continue
        filled = fill(result, cand, candidates[i], float(scores[i]))
        if filled is not None:
            result = filled
            if seen is not None:  # a copy of it further down the order is a repeat too
                seen.add(documents[cand.doc], cand.start, cand.end)
    return result


def _greedy(documents: list[str], candidates: list[Candidate], costs: np.ndarray, order: np.ndarray,
            budget: int, encoding: str, json_docs: frozenset[int],
            seen: SeenText | None) -> tuple[list[tuple[int, list[tuple[int, int]]]], set[int]]:
    """(candidate, kept pieces) of the candidates taken in ``order`` while their estimated cost fits, and
    the candidates left out because those taken before hold all their text (``retriever.repeats.take_novel``;
    with ``seen``, atomic candidates and JSON members are kept whole, see ``fit``)."""
    def piece_cost(i: int, pieces: list[tuple[int, int]]) -> int:
        c = candidates[i]
        marks = len(_cuts_of(documents[c.doc], c, pieces))  # about a token per ``…``
        return marks + int(_costs(documents, [Candidate(c.doc, s, e, 0.0) for s, e in pieces], encoding,
                                  json_docs).sum())

    spans = [(documents[c.doc], c.start, c.end) for c in candidates]
    return take_novel(order, spans, costs, budget, seen, piece_cost,
                      cuttable=lambda i: not candidates[i].atomic and candidates[i].doc not in json_docs)


def _unkept_part(cand: Candidate, seen: SeenText | None, documents: list[str],
                 json_docs: frozenset[int]) -> Candidate | None:
    """What the final fill may take a prefix of: ``cand``, or with ``seen`` its first piece not kept yet;
    None for an atomic candidate or one whose text is all kept."""
    if cand.atomic:
        return None
    if seen is None or cand.doc in json_docs:
        return cand
    pieces = seen.novel(documents[cand.doc], cand.start, cand.end)
    return Candidate(cand.doc, *pieces[0], cand.score) if pieces else None


def _kept(picks: list[tuple[int, list[tuple[int, int]]]], candidates: list[Candidate], scores: np.ndarray,
          documents: list[str]) -> tuple[list[Span], Cuts]:
    """The kept spans of ``picks`` (see ``_greedy``), scored as their candidates, and where a piece of a
    candidate borders text cut out of its sentence."""
    spans, cuts = [], set()
    for i, pieces in picks:
        c = candidates[i]
        spans.extend(Span(doc=c.doc, start=s, end=e, score=float(scores[i])) for s, e in pieces)
        if pieces != [(c.start, c.end)]:
            cuts.update((c.doc, p) for p in _cuts_of(documents[c.doc], c, pieces))
    return spans, frozenset(cuts)


def _cuts_of(text: str, cand: Candidate, pieces: list[tuple[int, int]]) -> list[int]:
    """The ends of ``pieces`` (of ``cand``'s span of ``text``) that cut a sentence: inside the span, and
    not at a sentence end or a line break."""
    edges = [p for s, e in pieces for p in (s, e) if cand.start < p < cand.end]
    return [p for p in edges if not at_sentence_boundary(text, p)]


def at_sentence_boundary(text: str, pos: int) -> bool:
    """Whether a cut at character ``pos`` of ``text`` falls between sentences (or lines), not inside one."""
    before, after = pos, pos
    while before > 0 and text[before - 1].isspace():
        before -= 1
    while after < len(text) and text[after].isspace():
        after += 1
    if before == 0 or after == len(text) or "\n" in text[before:after]:
        return True
    while before > 0 and text[before - 1] in _CLOSERS:
        before -= 1
    return before > 0 and text[before - 1] in _SENTENCE_END


def _costs(documents: list[str], candidates: list[Candidate], encoding: str,
           json_docs: frozenset[int]) -> np.ndarray:
    """Estimated tokens each candidate adds: its text counted with the joint that precedes it in the
    input (a word after a space costs what `` word`` costs, usually one token; a paragraph after a blank
    line pays for the ``\n\n``). JSON members pay one more for the ``", "`` between members."""
    texts = []
    for c in candidates:
        text = documents[c.doc]
        lead = c.start
        while lead > 0 and c.start - lead < 4 and text[lead - 1].isspace():
            lead -= 1
        texts.append(_separator(text[lead : c.start]) + text[c.start : c.end])
    enc = get_encoding(encoding)  # short texts: a plain loop beats the batch API's thread pool
    costs = np.fromiter((len(enc.encode_ordinary(t)) for t in texts), dtype=np.int64, count=len(texts))
    return costs + np.asarray([1 if c.doc in json_docs else 0 for c in candidates])


class _Filler:
    """The final fill: adds to an output as much of one candidate as the budget has room for."""

    def __init__(self, build: _Assembler, documents: list[str], budget: int,
                 protected: list[tuple[int, int, int]], query: str | None):
        self.build, self.documents, self.budget = build, documents, budget
        self.protected, self.query = protected, query

    def __call__(self, current: Fitted, part: Candidate, cand: Candidate, score: float) -> Fitted | None:
        """``current`` plus the whole sentences of ``part`` (of candidate ``cand``, whole or its first
        piece not kept yet) from its start while they fit, then the next one shortened at word level
        (``prune_sentence``) into the room left; None when nothing fits."""
        text = self.documents[part.doc]
        result = None
        for s, e in sentence_offsets(text[part.start : part.end], base=part.start):
            base = result or current
            if count_tokens(text[s:e], self.build.encoding) <= self.budget - base.tokens:  # may fit whole
                span = Span(doc=part.doc, start=s, end=e, score=score)
                cuts = {(part.doc, p) for p in _cuts_of(text, cand, [(s, e)])}
                trial = self.build(base.spans + [span], base.cuts | cuts)
                if trial.tokens <= self.budget:
                    result = trial
                    continue
            if not self._inside_protected(part.doc, s, e):
                result = self._pruned(base, part.doc, s, e, score) or result
            break
        return result

    def _pruned(self, base: Fitted, doc: int, start: int, end: int, score: float) -> Fitted | None:
        """``base`` plus the sentence ``[start, end)`` of ``doc`` shortened into the room left."""
        text = self.documents[doc]
        room = self.budget - base.tokens - (1 if base.spans else 0)  # about a token for the joint
        for _ in range(4):  # the pruner estimates: recount the assembled text, retry with less room
            if room < MIN_PRUNED_TOKENS - 1:
                return None
            runs = prune_sentence(text, start, end, room, self.query, self.build.encoding)
            if runs is None:
                return None
            cuts = {p for s, e in runs for p in (s, e) if start < p < end}  # every cut, even after "Corp."
            spans = [Span(doc=doc, start=s, end=e, score=score) for s, e in runs]
            trial = self.build(base.spans + spans, base.cuts | {(doc, p) for p in cuts})
            if trial.tokens <= self.budget:
                return trial
            room -= trial.tokens - self.budget
        return None

    def _inside_protected(self, doc: int, start: int, end: int) -> bool:
        return any(d == doc and p_start < end and start < p_end for d, p_start, p_end in self.protected)
