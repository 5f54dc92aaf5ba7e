"""Sentence reranker: a small cross-encoder reading (question, titled sentence) pairs.

MiniLM layers (started from the token model's cross-encoder, ``INITS``), mean-pooled, with a linear
relevance head, trained listwise on groups of one evidence sentence and hard negatives
(``python -m compressor.training.reranker``). It rescores only the best candidates of the hybrid
retriever, so its cost does not grow with the input. Weights are stored as an fp16 delta over the base
MiniLM without its frozen word embeddings (``retriever.deltas``); they are not shipped (model card).
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from retriever.deltas import DELTA_FILE, apply_delta, save_delta

RERANKER_RECORD = "reranker.json"
CONDENSER_RERANKER_DIR = Path(__file__).parent / "models" / "condenser-reranker"
#: rerankers a request may name (never a path): the shipped one, plus any an evaluation registers
RERANKERS: dict[str, Path] = {"condenser-reranker": CONDENSER_RERANKER_DIR}
#: layers of a reranker whose record does not say (the encoders it starts from have six)
LAYERS = 6
#: question + sentence, in model tokens: a titled sentence rarely needs more, and a long MuSiQue piece is
#: judged on its opening as the retriever reads it
MAX_LENGTH = 160
BATCH = 32
#: (query, text) scores remembered per reranker, oldest forgotten first
CACHE_PAIRS = 20_000


def register_reranker(name: str, folder: str | Path) -> None:
    """Make a trained reranker in ``folder`` available to ``compress(..., reranker=name)`` in this process."""
    RERANKERS[name] = Path(folder)


def build_model(layers: int = LAYERS):
    """The reranker module on the base MiniLM's first ``layers`` layers (weights to be replaced)."""
    import torch
    from transformers import AutoModel

    from compressor.models import quiet_transformers
    from retriever.embeddings import default_model_path

    class Reranker(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            with quiet_transformers():
                self.encoder = AutoModel.from_pretrained(default_model_path(), num_hidden_layers=layers,
                                                         local_files_only=True, add_pooling_layer=False)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)).squeeze(-1)

    return Reranker()


#: encoders a reranker can start from: the folder of their delta and the prefix of its encoder tensors
INITS = {"fast-retriever": ("retriever/models/condenser-retriever-fast", "0.model."),
         "retriever": ("retriever/models/condenser-retriever", "0.model."),
         "token-model": ("compressor/models/condenser-minilm", "bert.")}


def init_encoder(model, init: str, layers: list[int] | None = None) -> None:
    """Copy the encoder of one of ``INITS`` into ``model.encoder``; ``layers``: which of its layers fill
    the model's (default: the first ones, in order)."""
    import re

    from retriever.deltas import _tensors

    folder, prefix = INITS[init]
    own = model.encoder.state_dict()
    mapping = {src: dst for dst, src in enumerate(layers or range(model.encoder.config.num_hidden_layers))}
    state = {}
    for key, value in _tensors(Path(__file__).parents[1] / folder).items():
        if not key.startswith(prefix):
            continue
        key = key[len(prefix):]
        m = re.match(r"encoder\.layer\.(\d+)\.", key)
        if m:
            if int(m.group(1)) not in mapping:
                continue
            key = f"encoder.layer.{mapping[int(m.group(1))]}.{key[m.end():]}"
        if key in own:
            state[key] = value
    if not any(k.startswith("encoder.layer.") for k in state):
        raise ValueError(f"no encoder layers taken from {init}")
    model.encoder.load_state_dict(state, strict=False)


def save_reranker(model, folder: str | Path, record: dict) -> None:
    save_delta(model, folder, RERANKER_RECORD, record)


class SentenceReranker:
    """Scores (query, text) pairs; one shared instance per folder (``get_reranker``)."""

    def __init__(self, folder: str | Path, device: str = "cpu", int8: bool = False) -> None:
        import torch
        from transformers import AutoTokenizer

        from retriever.embeddings import default_model_path

        folder = Path(folder)
        if not (folder / DELTA_FILE).is_file():
            raise FileNotFoundError(f"no reranker weights in {folder}: build them with "
                                    "python -m compressor.training.reranker")
        self.record = json.loads((folder / RERANKER_RECORD).read_text())
        self.model = build_model(int(self.record.get("layers", LAYERS)))
        apply_delta(self.model, folder, f"reranker weights in {folder}")
        self.model.eval().to(device)
        if int8 and device == "cpu":
            from compressor.models import quantize_int8

            self.model = quantize_int8(self.model)
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)
        self._torch = torch
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], float] = {}

    def scores(self, query: str, texts: list[str]) -> np.ndarray:
        """Relevance logits of ``texts`` for ``query`` (higher is more relevant). Pairs scored before are
        not run again: the same context is often compressed at several budgets, or asked again."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (query, t) not in self._cache))
            if missing:
                self._cache.update(zip(((query, t) for t in missing), self._run(query, missing)))
                while len(self._cache) > CACHE_PAIRS:
                    self._cache.pop(next(iter(self._cache)))
            return np.array([self._cache[(query, t)] for t in texts], dtype=float)

    def _run(self, query: str, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        out = []
        order = np.argsort([len(t) for t in texts], kind="stable")
        with self._torch.inference_mode():
            for i in range(0, len(texts), BATCH):
                batch = [texts[j] for j in order[i : i + BATCH]]
                enc = self.tokenizer([query] * len(batch), batch, truncation="longest_first",
                                     max_length=MAX_LENGTH, padding=True, return_tensors="pt").to(self.device)
                out.append(self.model(**enc).float().cpu().numpy())
        scores = np.empty(len(texts))
        scores[order] = np.concatenate(out)
        return scores


_LOADED: list[SentenceReranker] = []


@lru_cache(maxsize=4)
def _shared(folder: str, device: str, int8: bool) -> SentenceReranker:
    reranker = SentenceReranker(folder, device, int8)
    _LOADED.append(reranker)
    return reranker


def get_reranker(name: str = "condenser-reranker", device: str = "cpu", int8: bool = False) -> SentenceReranker:
    """The shared reranker called ``name`` (one of ``RERANKERS``); ``int8``: dynamic int8 quantisation of
    its Linear layers (CPU only)."""
    if name not in RERANKERS:
        raise ValueError(f"reranker must be one of {sorted(RERANKERS)}, got {name!r}")
    return _shared(str(RERANKERS[name]), device, bool(int8))


def clear_reranker_caches() -> None:
    """Forget the remembered scores of every reranker loaded so far (benchmarks time cold documents)."""
    for reranker in _LOADED:
        with reranker._lock:
            reranker._cache.clear()


def reranker_available(name: str = "condenser-reranker") -> bool:
    return name in RERANKERS and (RERANKERS[name] / DELTA_FILE).is_file()
