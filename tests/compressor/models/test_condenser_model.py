"""The shipped embedded model: offline load, determinism, budgets, and that it finds the evidence."""

import warnings

import numpy as np
import pytest

from compressor import compress
from compressor.models import MODEL_DIR, ModelMissingError, load_condenser_model, weights_available

pytestmark = pytest.mark.skipif(not weights_available(), reason="embedded model weights not built")

CASES = [
    ("When does the last train leave Ostrava Pass?",
     "The last train leaves Ostrava Pass at 23:05 every day of the week.",
     ["The fleet consists of 38 electric multiple units built in 2016.",
      "Refunds for delays are handled by the customer service team.",
      "Snow ploughs are fitted to the two diesel locomotives in winter."]),
    ("Who founded the Acme Rocket Company?",
     "The Acme Rocket Company was founded by Lena Virtanen in 1952.",
     ["Rockets burn propellant to produce thrust.",
      "The company's headquarters moved to a new building in 1990.",
      "Bananas are a popular fruit in many countries."]),
    ("What is the capital of the fictional country Brelia?",
     "Brelia's capital and largest city is Kostamar, on the northern coast.",
     ["Brelia has a temperate climate with mild winters.",
      "The national sport is a form of field hockey.",
      "Its currency is pegged to the euro."]),
]


def test_loads_offline_and_is_deterministic():
    model, tok, info = load_condenser_model()
    assert info["max_length"] > 0 and not model.training
    text = " ".join([CASES[0][1], *CASES[0][2]])
    a = compress(text, CASES[0][0], target_tokens=25)
    b = compress(text, CASES[0][0], target_tokens=25)
    assert a.text == b.text and a.compressed_tokens <= 25


@pytest.mark.parametrize("question, answer_sentence, others", CASES)
def test_answer_sentence_ranks_first(question, answer_sentence, others):
    from compressor.methods.condenser import Condenser

    sentences = [*others[:1], answer_sentence, *others[1:]]
    text = " ".join(sentences)
    r = compress(text, question, target_tokens=len(answer_sentence.split()) + 8, method="condenser", coarse=False)
    assert answer_sentence in r.text
    assert Condenser().model_version().startswith("condenser-minilm")


def test_missing_weights_fall_back_to_extractive_with_a_warning(tmp_path):
    with pytest.raises(ModelMissingError, match="python -m compressor.training"):
        load_condenser_model(str(tmp_path))
    text = " ".join(f"Sentence {i} about the value {i}." for i in range(60))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = compress(text, "value 7", rate=0.2, model_path=str(tmp_path))
    assert any("falling back to 'extractive'" in str(w.message) for w in caught)
    assert r.compressed_tokens <= r.budget


def test_shipped_file_is_small():
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir()) / 2**20
    assert size <= 30, f"{size:.1f} MB"
    assert np.isfinite(size)
