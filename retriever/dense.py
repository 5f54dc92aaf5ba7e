"""FAISS inner-product index over unit vectors (cosine similarity)."""

from __future__ import annotations

import numpy as np


class DenseIndex:
    """Exact cosine search; small enough per request that a flat index beats any approximate one."""

    def __init__(self, vectors: np.ndarray):
        import faiss

        self.size = len(vectors)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        if self.size:
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every indexed vector to ``query``, in index order."""
        if not self.size:
            return np.zeros(0)
        sims, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), self.size)
        out = np.empty(self.size)
        out[ids[0]] = sims[0]
        return out
