"""Text an input says twice: the overlap of sliding-window chunks retrieved together.

RAG chunkers cut documents into overlapping windows (LangChain's ``chunk_overlap``, fixed-stride
passages), and a retriever often returns neighbours whose overlap is the same paragraph. MuSiQue's
contexts in ``../shared/data`` are such windows: 56 % of their words repeat an earlier window. A budget
spent on the second copy buys nothing. So the coarse stage (``PageRetriever``) costs a page only by the
tokens the pages picked before it lack, and the fit (``compressor.budget.fit``) cuts out of each further
span what the spans it kept already hold; both keep that record in a ``SeenText``.

A repeat is a run of at least ``min_words`` words (lower-cased ``\\w+`` words), or a whole span, every
word of which lies in an 8-word shingle of the kept text; or, of any length, a whole sentence (ending in
``.!?。！？；…``) the kept text holds as a sentence: "The cat sat on the mat." said three times, or a Chinese
sentence (one ``\\w+`` run) said twice, costs the budget once. Lines without such an ending (titles,
labels, headings) are kept each time they come: they say what follows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from retriever.sentences import CLOSING_MARKS, SENTENCE_END_MARKS, sentence_offsets

#: words per shingle: long enough that two unrelated sentences rarely share one; a piece left with fewer
#: words than this (a window's ragged edge: "pa", "''.") is dropped with the repeat
SHINGLE = 8
_WORD = re.compile(r"\w+")
#: how a sentence ends (before closing quotes and brackets): one of these marks
_SENTENCE_END = re.compile(rf"[{re.escape(SENTENCE_END_MARKS)}][{re.escape(CLOSING_MARKS)}]*\s*$")


class SeenText:
    """The shingles of the text kept so far, to cut what a further span would only say again."""

    def __init__(self, min_words: int):
        if min_words < 1:
            raise ValueError(f"min_words must be at least 1, got {min_words}")
        self.min_words = min_words
        self._shingles: set[tuple[str, ...]] = set()
        #: the words of each kept sentence, whatever its length (sentences shorter than a shingle)
        self._sentences: set[tuple[str, ...]] = set()
        #: the span ``novel`` read last and its words: ``add`` of that span (a pick) need not read it again
        self._last: tuple[str, int, int, tuple[str, ...]] | None = None

    def novel(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The pieces of ``text[start:end]`` left once runs of at least ``min_words`` already-kept words
        are cut out: the whole span when nothing repeats, none when all of it was kept before (a
        sentence of any length from ``SHINGLE`` words). Pieces of fewer than ``SHINGLE`` words go with the
        runs they border."""
        words = list(_WORD.finditer(text, start, end))
        lowered = _lowered(words)
        self._last = (text, start, end, lowered)
        covered = [False] * len(words)
        for i in range(len(words) - SHINGLE + 1):
            if lowered[i : i + SHINGLE] in self._shingles:
                covered[i : i + SHINGLE] = [True] * SHINGLE
        if words and all(covered):  # said whole before, however short (a duplicated sentence)
            return []
        if lowered in self._sentences and _is_sentence(text, start, end):
            return []
        runs = _runs(covered, self.min_words)
        if not runs:
            return [(start, end)]
        # a cut runs to the next word, so a piece starts with a word, not with the run's ". "
        cuts = [(words[a].start(), words[b].start() if b < len(words) else end) for a, b in runs]
        pieces = (stripped(text, s, e) for s, e in without_spans(start, end, cuts))
        return [(s, e) for s, e in pieces if len(_WORD.findall(text, s, e)) >= SHINGLE]

    def add(self, text: str, start: int, end: int) -> None:
        """Record ``text[start:end]`` as kept."""
        last = self._last
        if last is not None and last[0] is text and last[1:3] == (start, end):
            lowered = last[3]
        else:
            lowered = _lowered(list(_WORD.finditer(text, start, end)))
        self._shingles.update(lowered[i : i + SHINGLE] for i in range(len(lowered) - SHINGLE + 1))
        self._sentences.update(_sentence_words(text, start, end))


Pieces = list[tuple[int, int]]


def take_novel(order: Iterable[int], spans: Sequence[tuple[str, int, int]], costs: Sequence[int],
               budget: int, seen: SeenText | None, piece_cost: Callable[[int, Pieces], int],
               cuttable: Callable[[int], bool] = lambda i: True) -> tuple[list[tuple[int, Pieces]], set[int]]:
    """Greedy selection under ``budget``, costed by what each item adds: the items of ``spans``
    (``(text, start, end)`` each) taken in ``order`` while they fit, with their kept pieces, and the items
    left out because those taken before hold all their text (among those read before the budget was
    spent).

    Without ``seen`` an item's piece is its whole span at ``costs[i]``. With it (the record of kept text,
    updated here), a ``cuttable`` item keeps only what ``seen.novel`` leaves, at ``piece_cost(i, pieces)``
    when that is less than the whole.
    """
    picks: list[tuple[int, Pieces]] = []
    repeated: set[int] = set()
    used = 0
    for i in map(int, order):
        if used >= budget:  # nothing costs less than a token: the rest need not be read for repeats
            break
        text, start, end = spans[i]
        pieces = seen.novel(text, start, end) if seen is not None and cuttable(i) else [(start, end)]
        if not pieces:
            repeated.add(i)
            continue
        cost = int(costs[i]) if pieces == [(start, end)] else piece_cost(i, pieces)
        if used + cost <= budget:
            picks.append((i, pieces))
            used += cost
            if seen is not None:
                seen.add(text, start, end)
    return picks, repeated


def _is_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends like a sentence (not a title, label or heading line)."""
    return _SENTENCE_END.search(text, max(start, end - 8), end) is not None


def _sentence_words(text: str, start: int, end: int) -> list[tuple[str, ...]]:
    """The lower-cased words of each sentence of ``text[start:end]`` (``retriever.sentences``)."""
    out = []
    for s, e in sentence_offsets(text[start:end], base=start):
        if _is_sentence(text, s, e):
            out.append(_lowered(list(_WORD.finditer(text, s, e))))
    return [words for words in out if words]


def stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` less the whitespace at its ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lowered(words: list[re.Match]) -> tuple[str, ...]:
    return tuple(w.group().lower() for w in words)


def _runs(flags: list[bool], min_len: int) -> list[tuple[int, int]]:
    """``[start, end)`` index runs of True at least ``min_len`` long."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= min_len:
                runs.append((start, i))
            start = None
    return runs


def without_spans(start: int, end: int, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``[start, end)`` less the sorted, disjoint ``spans``: the pieces left, in order."""
    pieces, pos = [], start
    for s, e in spans:
        if e <= pos or s >= end:
            continue
        if s > pos:
            pieces.append((pos, s))
        pos = max(pos, e)
    if pos < end:
        pieces.append((pos, end))
    return pieces
