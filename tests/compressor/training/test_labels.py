"""Token targets: evidence KEEP, function words soft, answers weighted, windows like inference."""

import numpy as np
import pytest

pytest.importorskip("transformers")
from transformers import BertTokenizerFast

from compressor.training.data import Example
from compressor.training.labels import ANSWER_WEIGHT, FUNCTION_TARGET, encode
from retriever.embeddings import default_model_path


@pytest.fixture(scope="module")
def tok():
    return BertTokenizerFast.from_pretrained(default_model_path())


def _by_token(tok, row):
    tokens = tok.convert_ids_to_tokens(row.ids)
    return {t: (float(x), float(w)) for t, x, w in zip(tokens, row.targets, row.weights) if not np.isnan(x)}


def test_evidence_keep_function_words_soft_answer_weighted(tok):
    text = "Paris is the capital of France. Bananas grow in warm places."
    evidence = [(0, 31)]
    ex = Example("What is the capital of France?", text, evidence, [(0, 5)])
    (row,) = encode(tok, ex, 64, use_query=True)
    labels = _by_token(tok, row)
    assert labels["paris"] == (1.0, ANSWER_WEIGHT)
    assert labels["capital"] == (1.0, 1.0)
    assert labels["the"] == (FUNCTION_TARGET, 1.0)
    assert labels["bananas"] == (0.0, 1.0)
    # the query and special tokens carry no target
    assert row.ids[0] == tok.cls_token_id and np.isnan(row.targets[0]) and row.weights[0] == 0
    q_len = len(tok("What is the capital of France?", add_special_tokens=False)["input_ids"])
    assert np.isnan(row.targets[1 : 2 + q_len]).all()


def test_without_query_only_the_context_is_encoded(tok):
    ex = Example("ignored question", "One sentence here.", [(0, 18)], [])
    (row,) = encode(tok, ex, 64, use_query=False)
    assert "ignored" not in tok.convert_ids_to_tokens(row.ids)
    assert np.nansum(row.targets) > 0


def test_long_context_becomes_several_windows_covering_every_token(tok):
    text = " ".join(f"Sentence number {i} says something." for i in range(60))
    ex = Example("q", text, [(0, 30)], [])
    rows = encode(tok, ex, 64, use_query=True)
    n_context = len(tok(text, add_special_tokens=False)["input_ids"])
    assert len(rows) > 1 and all(len(r.ids) <= 64 for r in rows)
    assert sum(int((~np.isnan(r.targets)).sum()) for r in rows) == n_context


def test_sentences_numbered_per_window_and_only_with_a_query(tok):
    text = "Paris is the capital of France. Bananas grow in warm places. Rain falls."
    ex = Example("What is the capital of France?", text, [(0, 31)], [(0, 5)])
    (row,) = encode(tok, ex, 64, use_query=True)
    tokens = tok.convert_ids_to_tokens(row.ids)
    sentence = dict(zip(tokens, row.sentences.tolist()))
    assert (sentence["paris"], sentence["bananas"], sentence["rain"]) == (0, 1, 2)
    assert sentence["[CLS]"] == -1 and row.sentences[1] == -1  # specials and query tokens: none
    (agnostic,) = encode(tok, ex, 64, use_query=False)
    assert agnostic.sentences is None
    # a window that starts mid-context numbers its sentences from 0 again
    rows = encode(tok, ex, 24, use_query=True)
    assert len(rows) > 1 and all(r.sentences[r.sentences >= 0].min() == 0 for r in rows)
