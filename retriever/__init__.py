"""Chunking and retrieval: structure-aware units and pages, hybrid page retrieval, evidence spans."""

from retriever.caches import clear_caches
from retriever.chunker import Chunked, Page, Unit, chunk
from retriever.evidence import Evidence, EvidenceFinder
from retriever.hybrid import HybridScorer
from retriever.pages import PageRetriever, select_in_order
from retriever.sentences import sentence_offsets

__all__ = [
    "Chunked", "Evidence", "EvidenceFinder", "HybridScorer", "Page", "PageRetriever", "Unit", "chunk",
    "clear_caches", "select_in_order", "sentence_offsets",
]
