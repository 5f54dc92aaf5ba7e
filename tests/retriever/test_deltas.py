"""A retriever delta's encoder loads into a token classifier (``--init-encoder``); a partial one is refused."""

from __future__ import annotations

import pytest

from retriever.deltas import DELTA_FILE, apply_encoder_delta
from retriever.embeddings import CONDENSER_RETRIEVER_DIR as RETRIEVER

torch = pytest.importorskip("torch")


def _token_model():
    from transformers import AutoModelForTokenClassification

    from retriever.embeddings import default_model_path

    return AutoModelForTokenClassification.from_pretrained(default_model_path(), num_labels=2)


def test_encoder_tensors_are_the_retrievers():
    from safetensors.torch import load_file

    model = _token_model()
    head = model.classifier.weight.detach().clone()
    apply_encoder_delta(model, RETRIEVER, "retriever")
    delta = load_file(str(RETRIEVER / DELTA_FILE))
    for name in ("encoder.layer.0.attention.self.query.weight", "encoder.layer.5.output.dense.bias",
                 "embeddings.LayerNorm.weight"):
        assert torch.equal(model.bert.get_parameter(name).detach(), delta[f"0.model.{name}"].float())
    assert torch.equal(model.classifier.weight, head)  # the task head is left as initialised


def test_partial_delta_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"0.model.embeddings.LayerNorm.bias": torch.zeros(384)}, str(tmp_path / DELTA_FILE))
    with pytest.raises(ValueError, match="unfilled"):
        apply_encoder_delta(_token_model(), tmp_path, "partial")
