"""``exit`` on a tiny random Llama-architecture causal LM built offline."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
from compressor import compress
from compressor.models.checkpoints import CheckpointError
from tests.fixtures import tiny_models

PROSE = " ".join(f"Sentence {i} says the bus contractor needs notice at weekends." for i in range(60))
QUERY = "How much notice does the bus contractor need?"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return str(tiny_models.causal_lm(tmp_path_factory.mktemp("m") / "lm"))


def run(text, path, query=QUERY, **kw):
    if "target_tokens" not in kw:
        kw.setdefault("rate", 0.3)
    return compress(text, query, method="exit", model_path=path, device="cpu", **kw)


def test_budget_and_threshold(lm):
    result = run(PROSE, lm, target_tokens=200, coarse=False, threshold=0.0)
    assert 0.9 * 200 <= result.compressed_tokens <= 200
    assert run(PROSE, lm, rate=0.9, coarse=False, threshold=1.0).text == ""


def test_batching_does_not_change_scores(lm):
    from compressor.methods.exit import build_prompts, yes_probabilities
    from compressor.models.checkpoints import load_causal_lm

    loaded = load_causal_lm(lm, "cpu")
    prompts = build_prompts(["A short one.", "A much longer sentence about the bus and the notice needed."] * 3,
                            QUERY, 1)
    one = yes_probabilities(loaded.model, loaded.tokenizer, prompts, batch_size=1)
    many = yes_probabilities(loaded.model, loaded.tokenizer, prompts, batch_size=6)
    np.testing.assert_allclose(one, many, atol=1e-4)
    assert "Question:" not in build_prompts(["x."], None, 1)[0]  # question-agnostic prompt


def test_json_stays_valid(lm):
    doc = json.dumps([{"id": i, "text": "some words here " * 3} for i in range(40)])
    assert isinstance(json.loads(run(doc, lm, threshold=0.0).text), list)


def test_not_a_causal_lm_fails_clearly(tmp_path):
    path = tiny_models.bert_token_classifier(tmp_path / "bert")
    with pytest.raises(CheckpointError, match=r"bert.*not a causal language model"):
        run(PROSE, str(path))
