"""``retrieve``: RetroLM-style page retrieval only; whole pages kept in their original order."""

from __future__ import annotations

from compressor.methods.base import Candidate, Method, Request
from retriever.chunker import paginate
from retriever.pages import PageRetriever


class Retrieve(Method):
    """Scores token-budgeted pages with hybrid retrieval; keeps the best pages (the last may be cut).

    Options: ``page_tokens`` (default 128).
    """

    name = "retrieve"
    uses_coarse_stage = False
    options = frozenset({"page_tokens"})

    def compress(self, request: Request) -> list[Candidate]:
        pages = paginate(request.units, int(request.options.get("page_tokens", 128)))
        scores = PageRetriever().score_pages(request.documents, pages, request.query)
        return [Candidate(p.doc, p.start, p.end, float(s)) for p, s in zip(pages, scores)]
