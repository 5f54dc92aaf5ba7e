"""Provence-style reranker-pruners without remote code: a sequence-classification cross-encoder (the
rerank score) plus a 2-label token head on its encoder's last hidden state (the pruning score).

Two checkpoint layouts are understood, both read from their ``config.json`` and state dict:

- naver Provence (``naver/provence-reranker-debertav3-v1``): a DeBERTa-v2 config; weights ``deberta.*``,
  ``pooler.*``, ``classifier.*`` (rerank, 1 label) and ``token_classifier.*`` (2 labels).
- OpenProvence (``hotchpotch/open-provence-*``, ModernBERT and others): ``model_type: open_provence`` with
  the encoder's config under ``base_model_config``; weights ``ranking_model.*`` (a sequence-classification
  model) and ``pruning_head.classifier.*`` (2 labels).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from compressor.models.checkpoints import (
    CheckpointError,
    Loaded,
    _lock,
    _quiet,
    load_state_dict,
    load_tokenizer,
    max_positions,
    read_config,
    resolve,
    resolve_dtype,
)

_HEADS = ("token_classifier", "pruning_head.classifier")


def _layout(folder: Path, config: dict) -> tuple[dict, str, str]:
    """``(encoder config, prefix of the reranker's weights, name of the token head)``."""
    if config.get("model_type") == "open_provence":
        base = dict(config.get("base_model_config") or {})
        if "model_type" not in base:
            raise CheckpointError(f"checkpoint {folder}: open_provence config without base_model_config.model_type")
        return base, "ranking_model.", "pruning_head.classifier"
    if "model_type" not in config:
        raise CheckpointError(f"checkpoint {folder}: config.json has no model_type")
    return config, "", "token_classifier"


def _split(folder: Path, state: dict, prefix: str, head: str):
    weight, bias = state.get(f"{head}.weight"), state.get(f"{head}.bias")
    if weight is None:
        raise CheckpointError(f"checkpoint {folder}: no per-token relevance head (looked for "
                              f"{' / '.join(h + '.weight' for h in _HEADS)}); not a Provence checkpoint")
    if weight.ndim != 2 or weight.shape[0] != 2:
        raise CheckpointError(f"checkpoint {folder}: token head {head} has {weight.shape[0]} labels, expected 2")
    body = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and not k.startswith(head)}
    return body, weight, bias


class RerankPruner:
    """Callable like a token classifier: ``(input_ids, attention_mask) -> .logits`` (per token, 2 labels)
    and ``.ranking`` (one rerank logit per sequence), from ONE forward pass of the encoder."""

    def __init__(self, reranker, head):
        self.reranker, self.head, self.config = reranker, head, reranker.config
        self._local = threading.local()  # the encoder output of this thread's current call
        encoder = getattr(reranker, reranker.base_model_prefix)
        encoder.register_forward_hook(lambda _m, _i, out: setattr(self._local, "hidden", out[0]))

    def parameters(self):
        return self.reranker.parameters()

    def __call__(self, input_ids, attention_mask):
        out = self.reranker(input_ids=input_ids, attention_mask=attention_mask)
        hidden = self._local.hidden
        self._local.hidden = None
        return SimpleNamespace(logits=self.head(hidden.to(self.head.weight.dtype)), ranking=out.logits[:, 0])


@lru_cache(maxsize=4)
def load_provence(name_or_path: str, device: str = "cpu", dtype: str = "auto") -> Loaded:
    """A Provence or OpenProvence checkpoint as a ``RerankPruner``, loaded once per process."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    folder = resolve(name_or_path)
    config = read_config(folder)
    base, prefix, head_name = _layout(folder, config)
    state = load_state_dict(folder)
    body, weight, bias = _split(folder, state, prefix, head_name)
    fields = {k: v for k, v in base.items() if k not in ("model_type", "architectures", "auto_map")}
    fields.update(num_labels=1, id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0})
    try:
        enc_config = AutoConfig.for_model(base["model_type"], **fields)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {folder}: unknown encoder type {base['model_type']!r}") from exc
    tokenizer = load_tokenizer(folder)
    with _lock:
        _quiet()
        reranker = AutoModelForSequenceClassification.from_config(enc_config)
    missing, unexpected = reranker.load_state_dict(body, strict=False)
    missing = [k for k in missing if not k.endswith(("position_ids", "num_batches_tracked"))]
    if missing or unexpected:
        raise CheckpointError(f"checkpoint {folder}: weights do not fit a {base['model_type']} reranker "
                              f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    head = torch.nn.Linear(weight.shape[1], 2, bias=bias is not None)
    with torch.no_grad():
        head.weight.copy_(weight)
        if bias is not None:
            head.bias.copy_(bias)
    torch_dtype = resolve_dtype(device, dtype)
    reranker.eval().to(device=device, dtype=torch_dtype)
    head.eval().to(device=device, dtype=torch_dtype)
    return Loaded(RerankPruner(reranker, head), tokenizer, max_positions({**base, **config}, tokenizer),
                  str(folder))
