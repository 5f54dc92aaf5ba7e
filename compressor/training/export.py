"""Saving the fine-tuned weights without the frozen word embeddings, in fp16."""

from __future__ import annotations

import json
from pathlib import Path


def save_delta(model, out: Path, record: dict) -> None:
    from safetensors.torch import save_file

    from compressor.models import FROZEN, WEIGHTS

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if k != FROZEN}
    save_file(state, str(out / WEIGHTS))
    (out / "condenser.json").write_text(json.dumps(record, indent=2) + "\n")
