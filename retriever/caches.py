"""Forgetting cached work on documents: benchmarks time cold documents with it."""

from __future__ import annotations


def clear_caches() -> None:
    """Forget everything cached about documents seen so far in this process: sentence vectors of every
    shared embedder, reranker scores, chunkings and BM25 indexes (the next call on a known document starts
    cold)."""
    from retriever.chunker import _chunk
    from retriever.embeddings import clear_embedding_caches
    from retriever.lexical import _index
    from retriever.rerank import clear_reranker_caches

    clear_embedding_caches()
    clear_reranker_caches()
    _chunk.cache_clear()
    _index.cache_clear()
