"""``truncate``: keep the head of the input. A floor every other method must beat."""

from __future__ import annotations

from compressor.methods.base import Candidate, Method, Request


class Truncate(Method):
    """Keeps the first ``budget`` tokens, cut at a word boundary."""

    name = "truncate"
    uses_coarse_stage = False
    drops_repeats = False  # the output is a prefix of the input

    def compress(self, request: Request) -> list[Candidate]:
        # Candidates up to and including the first unit that overflows; fit() trims that one, so the
        # output is always a strict prefix of the input.
        out, used = [], 0
        for i, unit in enumerate(request.units):
            out.append(Candidate(unit.doc, unit.start, unit.end, -float(i), atomic=False))
            used += unit.tokens + 1
            if used > request.budget:
                break
        return out
