"""int8 dynamic quantisation of the embedded model: faster on CPU, nearly the same sentence ranking."""

import numpy as np
import pytest

from compressor.methods.base import Region, Request
from compressor.methods.condenser import Condenser
from compressor.models import load_condenser_model, weights_available
from retriever.chunker import chunk

pytestmark = pytest.mark.skipif(not weights_available(), reason="embedded model weights not built")

QUESTION = "Who designed the lighthouse at Cape Morrow, and when was it lit?"
SENTENCES = [
    "Cape Morrow lies at the northern tip of the peninsula and is known for its strong currents.",
    "The lighthouse at Cape Morrow was designed by the engineer Ada Kellgren.",
    "Fishing boats from three villages shelter in the bay during autumn storms.",
    "Its lamp was first lit on 4 October 1887, after two years of construction.",
    "The keeper's cottage is now a small museum with a cafe.",
    "Seals can be seen on the rocks below the cliffs at low tide.",
    "A ferry to the outer islands runs twice a week in summer.",
    "The tower is 31 metres tall and painted with red and white bands.",
    "Local legend says a shipwreck in 1850 prompted the building of the light.",
    "Birdwatchers come for puffins and gannets from May to July.",
]
TEXT = " ".join(SENTENCES)


def _scores(dtype: str) -> np.ndarray:
    model, tokenizer, info = load_condenser_model(None, "cpu", dtype)
    units = chunk([TEXT]).units
    request = Request([TEXT], QUESTION, 40, "cl100k_base", [Region(0, 0, len(TEXT))], units, {})
    return Condenser.unit_scores(model, tokenizer, info, request, QUESTION)


def test_int8_model_ranks_sentences_nearly_as_fp32():
    fp32, int8 = _scores("auto"), _scores("int8")
    rho = np.corrcoef(np.argsort(np.argsort(fp32)), np.argsort(np.argsort(int8)))[0, 1]
    assert rho > 0.85
    assert set(np.argsort(-fp32)[:3]) & set(np.argsort(-int8)[:3])
    # the shipped model (sentence-ranking term) is sharp: on 8 HotpotQA dev contexts its int8 scores
    # differ from fp32 by at most 0.19 (Spearman 0.97), so the bound is on gross drift, not noise
    assert np.abs(fp32 - int8).max() < 0.3


def test_int8_quantises_the_encoder_linears_only():
    import torch

    model, _, _ = load_condenser_model(None, "cpu", "int8")
    linears = [m for name, m in model.named_modules() if name.startswith("bert.encoder") and "Linear" in type(m).__name__]
    assert linears and all("quantized" in type(m).__module__ for m in linears)
    assert type(model.classifier) is torch.nn.Linear
