"""Loading third-party checkpoints (LLMLingua-2, Provence, causal LMs) by hub name or local path.

Every loader checks the checkpoint before building anything, so a wrong folder fails with a
``CheckpointError`` that names the path and the problem (missing files, wrong head, wrong kind of model)
instead of a deep transformers traceback. Nothing runs remote code. Loaded models are cached per process,
keyed by checkpoint, device and dtype.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_lock = threading.Lock()


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the path and what is wrong."""


@dataclass(frozen=True)
class Loaded:
    """A model ready for inference, its tokenizer, and the longest sequence it reads (model tokens)."""

    model: Any
    tokenizer: Any
    max_length: int
    path: str


def resolve(name_or_path: str) -> Path:
    """A local folder for ``name_or_path``: the folder itself, or the hub snapshot (cache or download)."""
    if not isinstance(name_or_path, str) or not name_or_path:
        raise CheckpointError(f"checkpoint must be a non-empty path or hub name, got {name_or_path!r}")
    local = Path(name_or_path).expanduser()
    if local.exists():
        if not local.is_dir():
            raise CheckpointError(f"checkpoint {name_or_path}: not a folder")
        return local
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") != 1:
        raise CheckpointError(f"checkpoint {name_or_path}: no such folder")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name_or_path))
    except Exception as exc:  # offline, unknown repo, no network: one clear message
        raise CheckpointError(f"checkpoint {name_or_path}: not a local folder and could not be fetched "
                              f"from the Hugging Face hub ({type(exc).__name__}: {exc})") from exc


def local_folder(name_or_path: str) -> Path | None:
    """The folder ``resolve`` would load for ``name_or_path`` if it is already on this machine (a folder, or a
    hub snapshot in the local cache), else None; never downloads. Servers use it so that no request can start
    a hub download."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    if not name_or_path or name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name_or_path, local_files_only=True))
    except Exception:  # noqa: BLE001 - not in the cache (or no hub library): not available here
        return None


def read_config(folder: Path) -> dict:
    """``config.json`` of a checkpoint folder, checked to exist and parse."""
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {folder}: config.json is missing")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {folder}: config.json is not valid JSON ({exc})") from exc


def weights_path(folder: Path) -> Path:
    """The weights file of a checkpoint folder (safetensors preferred)."""
    for name in _WEIGHTS:
        if (folder / name).is_file():
            return folder / name
    raise CheckpointError(f"checkpoint {folder}: no weights file (looked for {', '.join(_WEIGHTS)})")


def load_state_dict(folder: Path) -> dict:
    """All tensors of a checkpoint (single file or shards), on CPU."""
    import torch

    path = weights_path(folder)
    files = [path]
    if path.name.endswith(".index.json"):
        files = [folder / f for f in sorted(set(json.loads(path.read_text())["weight_map"].values()))]
    state: dict = {}
    for f in files:
        if f.suffix == ".safetensors":
            from safetensors.torch import load_file

            state.update(load_file(str(f)))
        else:  # weights_only: a pickle never runs code
            state.update(torch.load(f, map_location="cpu", weights_only=True))
    return state


def load_tokenizer(folder: Path):
    """The checkpoint's fast tokenizer (offsets and word ids are required)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:
        raise CheckpointError(f"checkpoint {folder}: tokenizer could not be loaded ({exc})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(f"checkpoint {folder}: needs a fast tokenizer (tokenizer.json)")
    return tokenizer


def resolve_dtype(device: str, dtype: str = "auto"):
    """``auto``: bfloat16 on a CUDA GPU that supports it, else float16 on GPU, float32 on CPU."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device == "mps" else torch.float32
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype must be auto, float32, float16 or bfloat16, got {dtype!r}")
    return getattr(torch, dtype)


def num_labels(config: dict) -> int:
    return len(config["id2label"]) if config.get("id2label") else int(config.get("num_labels", 2))


def max_positions(config: dict, tokenizer) -> int:
    """Longest input in model tokens: the position table, capped at 512 and at the tokenizer's limit."""
    positions = int(config.get("max_position_embeddings") or config.get("max_length") or 512)
    limit = getattr(tokenizer, "model_max_length", positions) or positions
    return int(min(positions, limit if limit < 1e9 else positions, 512))


def _quiet():
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()


@lru_cache(maxsize=4)
def load_token_classifier(name_or_path: str, device: str = "cpu", dtype: str = "auto",
                          quantize: bool = False) -> Loaded:
    """An LLMLingua-2-style token classifier (2 labels: drop, keep), loaded once per process.

    ``quantize`` (CPU only): int8 dynamic quantisation of the linear layers (VNNI), faster, scores
    differ slightly from float32.
    """
    from transformers import AutoModelForTokenClassification

    folder = resolve(name_or_path)
    config = read_config(folder)
    archs = config.get("architectures") or []
    if not any(a.endswith("ForTokenClassification") for a in archs):
        raise CheckpointError(f"checkpoint {folder}: not a token-classification model "
                              f"(architectures: {archs or 'none'})")
    if num_labels(config) != 2:
        raise CheckpointError(f"checkpoint {folder}: token head has {num_labels(config)} labels, "
                              "expected 2 (drop, keep)")
    weights_path(folder)
    tokenizer = load_tokenizer(folder)
    with _lock:
        _quiet()
        model = AutoModelForTokenClassification.from_pretrained(str(folder), dtype=resolve_dtype(device, dtype))
    model.eval().to(device)
    if quantize:
        if device != "cpu":
            raise ValueError("quantize is for CPU inference; use dtype=float16/bfloat16 on a GPU")
        import torch

        model = torch.ao.quantization.quantize_dynamic(model.float(), {torch.nn.Linear}, dtype=torch.qint8)
    return Loaded(model, tokenizer, max_positions(config, tokenizer), str(folder))


@lru_cache(maxsize=4)
def load_causal_lm(name_or_path: str, device: str = "cpu", dtype: str = "auto") -> Loaded:
    """A causal language model and its tokenizer (padding on the left, for batched last-token logits)."""
    from transformers import AutoModelForCausalLM

    folder = resolve(name_or_path)
    config = read_config(folder)
    archs = config.get("architectures") or []
    if archs and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise CheckpointError(f"checkpoint {folder}: not a causal language model (architectures: {archs})")
    weights_path(folder)
    tokenizer = load_tokenizer(folder)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    with _lock:
        _quiet()
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=resolve_dtype(device, dtype))
    model.eval().to(device)
    positions = int(config.get("max_position_embeddings") or 2048)
    return Loaded(model, tokenizer, positions, str(folder))
