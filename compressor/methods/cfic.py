"""``cfic``: chunking-free in-context evidence spans (CFIC-style), then the rest by relevance."""

from __future__ import annotations

from compressor.methods.base import Candidate, Method, Request
from retriever.evidence import EvidenceFinder


class Cfic(Method):
    """Keeps evidence spans grown around the most relevant sentences, best first.

    Options: ``grow`` (share of a seed's score a neighbour needs to join its span, default 0.6).
    """

    name = "cfic"
    options = frozenset({"grow"})

    def compress(self, request: Request) -> list[Candidate]:
        finder = EvidenceFinder(grow=float(request.options.get("grow", 0.6)), max_seeds=len(request.units))
        return [Candidate(e.doc, e.start, e.end, e.score)
                for e in finder.spans(request.documents, request.units, request.query)]
