"""A two-step training run writes loadable weights; a resumed run continues from them and keeps the record."""

from __future__ import annotations

import pytest

from compressor.training.data import Example
from compressor.training.train import TrainConfig, train

torch = pytest.importorskip("torch")

TEXT = "Paris is the capital of France. The Seine flows through it. Bananas are yellow."
EXAMPLES = [Example("What is the capital of France?", TEXT, [(0, 31)], [(0, 5)], "toy"),
            Example("What colour are bananas?", TEXT, [(60, 80)], [(72, 78)], "toy")] * 2


def test_train_then_resume(tmp_path):
    from compressor.models import load_condenser_model, model_info

    first, second = tmp_path / "a", tmp_path / "b"
    cfg = TrainConfig(max_length=64, batch_size=2, max_steps=2, threads=1, warmup=1)
    record = train(EXAMPLES, first, cfg, EXAMPLES[:2])
    assert record["steps"] == 2 and model_info(first)["steps"] == 2
    resumed = train(EXAMPLES, second, TrainConfig(max_length=64, batch_size=2, max_steps=1, threads=1, warmup=1,
                                                  init=str(first), seed=1), EXAMPLES[:2])
    assert resumed["steps"] == 3 and [s["steps"] for s in resumed["stages"]] == [2, 1]
    model, _, info = load_condenser_model(str(second))
    assert info["stages"][1]["init"] is True and not model.training


def test_sentence_loss_rewards_ranking_the_evidence_first():
    from compressor.training.train import sentence_loss

    logits = torch.zeros(2, 6, 2)
    logits[0, 1:3, 1] = 3.0  # the tokens of sentence 0 lean KEEP
    sentences = torch.tensor([[-1, 0, 0, 1, 1, -1], [-1] * 6])  # the second row has no query: ignored
    first = torch.tensor([[0, 1, 1, 0, 0, 0], [0] * 6]).float()
    second = torch.tensor([[0, 0, 0, 1, 1, 0], [0] * 6]).float()
    assert sentence_loss(logits, sentences, first) < 0.1
    assert sentence_loss(logits, sentences, second) > 3.0
    assert sentence_loss(logits, torch.full((2, 6), -1), first) == 0


def test_training_with_the_sentence_term_writes_its_weight(tmp_path):
    cfg = TrainConfig(max_length=64, batch_size=2, max_steps=1, threads=1, warmup=1, sentence_weight=1.0)
    record = train(EXAMPLES, tmp_path / "s", cfg, EXAMPLES[:2])
    assert record["stages"][0]["sentence_weight"] == 1.0
