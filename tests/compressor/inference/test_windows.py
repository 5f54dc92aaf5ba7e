"""Windowed token classification with a tiny random BERT: every word scored, nothing truncated."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

from compressor.inference import (
    WordScores,
    score_tokens,
    score_words,
    sentence_scores,
    span_scores,
    word_spans,
)
from compressor.inference.specials import suffix_length, with_specials
from retriever.embeddings import default_model_path


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    tok = BertTokenizerFast.from_pretrained(default_model_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, num_labels=2)
    return BertForTokenClassification(cfg).eval(), tok


def test_special_tokens_come_from_the_tokenizer(tiny):
    _, tok = tiny
    assert with_specials(tok, [7], [9]) == [tok.cls_token_id, 7, tok.sep_token_id, 9, tok.sep_token_id]
    assert with_specials(tok, [7]) == [tok.cls_token_id, 7, tok.sep_token_id]
    assert suffix_length(tok, pair=True) == 1


def test_windows_cover_a_text_longer_than_the_positions(tiny):
    model, tok = tiny
    text = " ".join(f"word{i}" for i in range(300))  # several hundred tokens, 64 positions
    scores = score_tokens(model, tok, text, "which word?", max_length=64, batch_size=3)
    n = len(tok(text, add_special_tokens=False)["input_ids"])
    assert len(scores.scores) == n and np.all(scores.scores > 0) and np.all(scores.scores < 1)
    words = score_words(model, tok, text, "which word?", max_length=64)
    assert len(words.scores) == 300 and np.all(words.scores > 0)


def test_windowing_matches_one_pass_when_text_fits(tiny):
    model, tok = tiny
    text = "a short text that fits"
    one = score_tokens(model, tok, text, None, max_length=64).scores
    ids = with_specials(tok, tok(text, add_special_tokens=False)["input_ids"])
    with torch.inference_mode():
        direct = torch.softmax(model(input_ids=torch.tensor([ids])).logits, -1)[0, 1:-1, 1].numpy()
    np.testing.assert_allclose(one, direct, rtol=1e-5)


def test_word_spans_split_cjk_per_character():
    starts, ends = word_spans("Tokyo 東京 is big.")
    assert ["Tokyo 東京 is big."[s:e] for s, e in zip(starts, ends)] == ["Tokyo", "東", "京", "is", "big."]


def test_span_scores_average_inside_spans(tiny):
    from compressor.inference import TokenScores

    tokens = TokenScores(np.array([0, 2, 5, 9]), np.array([0.2, 0.4, 0.9, 0.1]))
    out = span_scores(tokens, np.array([5, 0]), np.array([10, 4]))
    np.testing.assert_allclose(out, [0.5, 0.3])


def test_overlapping_windows_still_score_every_token_once(tiny):
    model, tok = tiny
    text = ". ".join(f"Fact {i} is here" for i in range(80))
    plain = score_tokens(model, tok, text, "which fact?", max_length=64)
    overlapped = score_tokens(model, tok, text, "which fact?", max_length=64, stride=16)
    assert len(plain.scores) == len(overlapped.scores)
    assert np.all(overlapped.scores > 0)
    assert not np.allclose(plain.scores, overlapped.scores)  # more context changes some scores


def test_output_is_deterministic_and_independent_of_batch_size(tiny):
    model, tok = tiny
    text = " ".join(f"token{i}." for i in range(200))
    a = score_tokens(model, tok, text, "q", max_length=64, batch_size=1).scores
    b = score_tokens(model, tok, text, "q", max_length=64, batch_size=7).scores
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_sentence_scores_average_word_scores():
    words = WordScores(np.array([0, 4, 10]), np.array([3, 9, 14]), np.array([0.2, 0.4, 0.9]))
    np.testing.assert_allclose(sentence_scores(words, [(0, 9), (10, 14)]), [0.3, 0.9])


def test_max_per_span_takes_the_peak_in_any_span_order():
    from compressor.inference.words import max_per_span

    out = max_per_span(np.array([0, 2, 5, 9]), np.array([0.2, 0.4, 0.9, 0.1]), np.array([5, 0, 20]),
                       np.array([10, 4, 30]))
    np.testing.assert_allclose(out, [0.9, 0.4, 0.0])
