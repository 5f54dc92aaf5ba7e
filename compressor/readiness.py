"""Which methods can run here now, and what the others need: the CLI, ``/v1/methods`` and the playground
say it, and the service refuses a method that is not ready with this message instead of downloading
gigabytes inside a request.

Methods on the embedded model (or none) are ready wherever Condenser is installed. ``llmlingua2``,
``provence`` and ``exit`` need a third-party checkpoint: ready when it is a local folder, or a hub name
whose files are already in the Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``). Nothing here touches
the network or loads a model: each check is a few file lookups.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from compressor.registry import available_methods

#: one line per built-in method, for ``condenser methods`` and the playground
DESCRIPTIONS = {
    "condenser": "Condenser's own retriever + BM25 sentence selection, question-aware, multi-hop",
    "extractive": "RECOMP-style sentence selection: MiniLM cosine + BM25",
    "retrieve": "RetroLM-style page retrieval (hybrid BM25 + dense), pages kept in order",
    "cfic": "CFIC-style evidence spans grown around the best sentences",
    "truncate": "keep the head of the text (the floor every method must beat)",
    "llmlingua2": "LLMLingua-2 token classification (third-party checkpoint)",
    "provence": "Provence sentence pruning with a reranker (third-party checkpoint)",
    "exit": "EXIT-style Yes/No sentence classification by a causal LM (third-party checkpoint)",
}
#: the method modules that name their default checkpoint (``DEFAULT_CHECKPOINT``)
CHECKPOINT_METHODS = {"llmlingua2": "compressor.methods.llmlingua2", "provence": "compressor.methods.provence",
                      "exit": "compressor.methods.exit"}
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class MethodStatus:
    """A method's name, one-line description, whether it can run now, and why (or what it needs)."""

    name: str
    description: str
    ready: bool
    detail: str
    checkpoint: str | None = None


class MethodNotReady(ValueError):
    """The method's checkpoint is not on this machine; the message names it and how to provide it."""


def default_checkpoint(name: str) -> str | None:
    """The hub name a checkpoint method loads without ``model_path``; None for the other methods."""
    module = CHECKPOINT_METHODS.get(name)
    return getattr(importlib.import_module(module), "DEFAULT_CHECKPOINT", None) if module else None


def method_status(name: str, model_path: str | None = None) -> tuple[bool, str]:
    """``(ready, detail)`` for method ``name`` (with checkpoint ``model_path``, default its own)."""
    status = describe(name, model_path)
    return status.ready, status.detail


def describe(name: str, model_path: str | None = None) -> MethodStatus:
    """The full status of method ``name``; raises ``ValueError`` for an unknown one."""
    if name not in available_methods():
        raise ValueError(f"unknown method {name!r}; available: {', '.join(available_methods())}")
    description = DESCRIPTIONS.get(name) or _first_line(name)
    if name not in CHECKPOINT_METHODS:
        if name != "truncate" and not _importable("torch", "onnxruntime"):
            return MethodStatus(name, description, False,
                                "needs the models extra: pip install 'condenser[models]'")
        detail = "no model" if name == "truncate" else "embedded model (ships with the package)"
        return MethodStatus(name, description, True, detail)
    checkpoint = model_path or default_checkpoint(name) or ""
    if not _importable("torch") or not _importable("transformers"):
        return MethodStatus(name, description, False,
                            "needs the models extra: pip install 'condenser[models]'", checkpoint)
    ready, detail = _checkpoint_status(checkpoint, name)
    return MethodStatus(name, description, ready, detail, checkpoint)


def all_statuses() -> list[MethodStatus]:
    """``describe`` for every available method, in name order."""
    return [describe(name) for name in available_methods()]


def require_ready(name: str, model_path: str | None = None) -> None:
    """Raise ``MethodNotReady`` (message starting ``method <name>``) unless method ``name`` can run now."""
    ready, detail = method_status(name, model_path)
    if not ready:
        raise MethodNotReady(f"method {name} is not ready: {detail}")


def hub_cache() -> Path:
    """Where the Hugging Face hub keeps downloads, from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _checkpoint_status(checkpoint: str, method: str) -> tuple[bool, str]:
    local = Path(checkpoint).expanduser()
    if local.is_dir():
        found = (local / "config.json").is_file() and any((local / w).is_file() for w in _WEIGHTS)
        return (True, f"checkpoint folder {checkpoint}") if found else \
            (False, f"checkpoint folder {checkpoint} lacks config.json or weights")
    if checkpoint.startswith((".", "/", "~")) or checkpoint.count("/") != 1:
        return False, f"checkpoint folder {checkpoint} does not exist"
    cache = hub_cache()
    if _in_hub_cache(checkpoint, cache):
        return True, f"checkpoint {checkpoint} (in the Hugging Face cache)"
    return False, (f"needs checkpoint {checkpoint}, which is not in the Hugging Face cache ({cache}): download it "
                   f"(hf download {checkpoint}), or give a folder holding it (model_path= in Python, "
                   f'CONDENSER_CHECKPOINTS=\'{{"{method}": "/folder"}}\' for the service), or point HF_HOME at a '
                   "cache that has it")


def _in_hub_cache(repo: str, cache: Path) -> bool:
    """Whether the hub cache holds ``repo``'s config and weights (its ``main`` snapshot)."""
    from huggingface_hub import try_to_load_from_cache

    def cached(filename: str) -> bool:
        return isinstance(try_to_load_from_cache(repo, filename, cache_dir=str(cache)), str)

    return cached("config.json") and any(cached(w) for w in _WEIGHTS)


def _importable(*modules: str) -> bool:
    return any(importlib.util.find_spec(m) is not None for m in modules)


def _first_line(name: str) -> str:
    """A plug-in method's description: the first line of its class docstring."""
    from compressor.registry import get_method

    doc = type(get_method(name)).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
