"""``truncate``: keep the head of the input. A floor every other method must beat."""

from __future__ import annotations

from compressor.inference.words import word_spans
from compressor.methods.base import Candidate, Method, Request


class Truncate(Method):
    """Keeps the first ``budget`` tokens, cut at a word boundary."""

    name = "truncate"
    uses_coarse_stage = False
    drops_repeats = False  # the output is a prefix of the input

    def compress(self, request: Request) -> list[Candidate]:
        # Candidates up to and including the first unit that overflows, then that unit's word-boundary
        # prefixes, longest first: fit() keeps the longest that fits, so the output is a prefix of the input.
        out, used = [], 0
        for i, unit in enumerate(request.units):
            overflows = used + unit.tokens + 1 > request.budget
            out.append(Candidate(unit.doc, unit.start, unit.end, -float(i), atomic=overflows))
            if overflows:
                if not unit.atomic:
                    out.extend(_prefixes(request.documents[unit.doc], unit, -float(i), request.budget - used))
                break
            used += unit.tokens + 1
        return out


def _prefixes(text: str, unit, score: float, room: int) -> list[Candidate]:
    """The word-boundary prefixes of ``unit`` of at most ``room`` words (each word costs a token or
    more), longest first, scored just below ``score``; atomic, so the fit keeps them as they are."""
    _, ends = word_spans(text[unit.start : unit.end])
    ends = ends[: max(0, min(len(ends) - 1, room))]
    step = 1.0 / (len(ends) + 1)
    return [Candidate(unit.doc, unit.start, unit.start + int(e), score - step * (k + 1), atomic=True)
            for k, e in enumerate(ends[::-1])]
