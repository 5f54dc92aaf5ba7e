"""Turning scored candidate spans into an output that meets a token budget exactly.

Shared by every method: greedy selection by score (ties: earlier first; with ``repeat_words``, what an
earlier pick already holds is cut out of later ones, ``retriever.repeats``), exact recount of the
assembled text, removal of the weakest spans if the joins cost more than estimated, then filling the last
tokens with a word-boundary prefix of the best unkept, non-atomic span, so that the output lands within
[min_fill * budget, budget] whenever the input allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from compressor.methods.base import Candidate
from compressor.result import Span
from compressor.tokens import count_tokens, get_encoding
from retriever.repeats import SeenText, take_novel
from retriever.structure import json_container

DOC_SEPARATOR = "\n\n"


def resolve_budget(original_tokens: int, rate: float | None, target_tokens: int | None) -> int:
    """The token budget for ``rate`` (fraction kept) or ``target_tokens`` (hard ceiling)."""
    if target_tokens is not None:
        return target_tokens
    return max(1, int(original_tokens * (rate if rate is not None else 0.33)))


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


def assemble(documents: list[str], spans: list[Span], json_docs: frozenset[int] = frozenset()) -> list[str]:
    """Per-document output text for the kept ``spans`` (original gaps' whitespace becomes the joint)."""
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
            parts = [text[kept[0].start : kept[0].end]]
            for prev, cur in pairwise(kept):
                parts.append(_separator(text[prev.end : cur.start]))
                parts.append(text[cur.start : cur.end])
            outputs.append("".join(parts))
    return outputs


def join_documents(texts: list[str]) -> str:
    return DOC_SEPARATOR.join(t for t in texts if t)


@dataclass
class Fitted:
    """The output of ``fit``: per-document texts, the joined text, its token count and the kept spans."""

    documents: list[str]
    text: str
    tokens: int
    spans: list[Span]


class _Assembler:
    def __init__(self, documents: list[str], json_docs: frozenset[int], encoding: str):
        self.documents, self.json_docs, self.encoding = documents, json_docs, encoding

    def __call__(self, spans: list[Span]) -> Fitted:
        docs = assemble(self.documents, spans, self.json_docs)
        text = join_documents(docs)
        return Fitted(docs, text, count_tokens(text, self.encoding), merge_spans(spans))


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
) -> Fitted:
    """Keep the best candidates so that the assembled output has at most ``budget`` tokens.

    ``protected`` spans ``(doc, start, end)`` (code blocks, tables) are never cut by the final fill.
    ``repeat_words`` > 0: a candidate's runs of at least that many words that an already-kept candidate
    holds too (overlapping chunks, ``retriever.repeats``) are cut out of it, so no budget buys the same
    text twice; atomic candidates and JSON members are kept whole.
    """
    build = _Assembler(documents, json_docs, encoding)
    if not candidates or budget <= 0:
        return build([])
    costs = _costs(documents, candidates, encoding, json_docs)
    scores = np.asarray([c.score for c in candidates], dtype=float)
    positions = np.asarray([(c.doc, c.start) for c in candidates])
    order = np.lexsort((positions[:, 1], positions[:, 0], -np.nan_to_num(scores, nan=-np.inf)))

    seen = SeenText(repeat_words) if repeat_words else None
    picks, repeated = _greedy(documents, candidates, costs, order, budget, encoding, json_docs, seen)
    result = build(_spans(picks, candidates, scores))
    while result.tokens > budget and picks:  # joins cost more than estimated: drop the weakest
        del picks[-max(1, min(len(picks), (result.tokens - budget) // 2)) :]
        result = build(_spans(picks, candidates, scores))
    taken = {i for i, _ in picks} | repeated  # the fill adds no prefix of text already kept
    for i in order:
        if result.tokens >= min_fill * budget:
            break
        cand = None if int(i) in taken else _unkept_part(candidates[i], seen, documents, json_docs)
        if cand is None:
            continue
        result = _fill_with_prefix(build, result, cand, float(scores[i]), budget, documents,
                                   protected) or result
    return result


def _greedy(documents: list[str], candidates: list[Candidate], costs: np.ndarray, order: np.ndarray,
            budget: int, encoding: str, json_docs: frozenset[int],
            seen: SeenText | None) -> tuple[list[tuple[int, list[tuple[int, int]]]], set[int]]:
    """(candidate, kept pieces) of the candidates taken in ``order`` while their estimated cost fits, and
    the candidates left out because those taken before hold all their text (``retriever.repeats.take_novel``;
    with ``seen``, atomic candidates and JSON members are kept whole, see ``fit``)."""
    def piece_cost(i: int, pieces: list[tuple[int, int]]) -> int:
        c = candidates[i]
        return int(_costs(documents, [Candidate(c.doc, s, e, 0.0) for s, e in pieces], encoding,
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


def _spans(picks: list[tuple[int, list[tuple[int, int]]]], candidates: list[Candidate],
           scores: np.ndarray) -> list[Span]:
    """The kept spans of ``picks`` (see ``_greedy``), scored as their candidates."""
    return [Span(doc=candidates[i].doc, start=s, end=e, score=float(scores[i]))
            for i, pieces in picks for s, e in pieces]


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


def _fill_with_prefix(build: _Assembler, current: Fitted, cand: Candidate, score: float, budget: int,
                      documents: list[str], protected: list[tuple[int, int, int]]) -> Fitted | None:
    """Add the longest word-boundary prefix of ``cand`` that keeps the output within budget, if any."""
    room = budget - current.tokens
    if room < 2:
        return None
    text = documents[cand.doc][cand.start : cand.end]
    enc = get_encoding(build.encoding)
    ids = enc.encode_ordinary(text)
    take = min(len(ids), room - 1)
    while take > 0:
        # decode_bytes + ignore: a true character prefix of ``text`` even when a token splits a character
        prefix = enc.decode_bytes(ids[:take]).decode("utf-8", errors="ignore")
        cut = prefix.rfind(" ") if take < len(ids) and " " in prefix.strip() else len(prefix.rstrip())
        cut = _outside_protected(cand.doc, cand.start, cand.start + cut, protected) - cand.start
        if cut <= 0:
            return None
        span = Span(doc=cand.doc, start=cand.start, end=cand.start + cut, score=score)
        trial = build(current.spans + [span])
        if trial.tokens <= budget:
            return trial
        take -= max(1, trial.tokens - budget)
    return None


def _outside_protected(doc: int, start: int, end: int, protected: list[tuple[int, int, int]]) -> int:
    """Move a cut at ``end`` back to the start of any protected block it would split."""
    for d, p_start, p_end in protected:
        if d == doc and p_start < end < p_end:
            return max(start, p_start)
    return end
