"""``llmlingua2`` on tiny random BERT and XLM-R token classifiers built offline (tests/fixtures/tiny_models)."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
from compressor import compress
from compressor.models.checkpoints import CheckpointError
from tests.fixtures import tiny_models

PROSE = " ".join(f"Sentence {i} says the bus contractor needs notice at weekends and holidays." for i in range(150))


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return str(tiny_models.bert_token_classifier(tmp_path_factory.mktemp("m") / "bert"))


@pytest.fixture(scope="module")
def xlmr(tmp_path_factory):
    return str(tiny_models.xlmr_token_classifier(tmp_path_factory.mktemp("m") / "xlmr"))


def run(text, path, **kw):
    if "target_tokens" not in kw:
        kw.setdefault("rate", 0.3)
    return compress(text, kw.pop("query", None), method="llmlingua2", model_path=path, device="cpu", **kw)


@pytest.mark.parametrize("which", ["bert", "xlmr"])
def test_loads_from_a_local_path_and_honours_the_budget(which, request):
    path = request.getfixturevalue(which)
    result = run(PROSE, path, target_tokens=400, coarse=False)
    assert 0.9 * 400 <= result.compressed_tokens <= 400
    assert result.method == "llmlingua2"
    for span in result.kept:  # word spans over the input
        assert PROSE[span.start : span.end].strip() == PROSE[span.start : span.end]


def test_windows_past_512_positions_instead_of_truncating(bert):
    from compressor.inference import score_texts
    from compressor.models.checkpoints import load_token_classifier

    loaded = load_token_classifier(bert, "cpu")
    n_tokens = len(loaded.tokenizer(PROSE, add_special_tokens=False)["input_ids"])
    assert n_tokens > 3 * 512
    tokens = score_texts(loaded.model, loaded.tokenizer, [PROSE], None, max_length=loaded.max_length)[0]
    assert len(tokens.scores) == n_tokens and np.all(tokens.scores > 0)
    result = run(PROSE, bert, rate=0.5, coarse=False)
    assert max(s.end for s in result.kept) > len(PROSE) * 0.9  # the tail was scored and can be kept


def test_no_spaces_inserted_into_cjk(xlmr, bert):
    text = "東京は日本の首都です。会議は午後三時に始まります。" * 30
    for path in (xlmr, bert):
        out = run(text, path, rate=0.4, coarse=False).text
        assert " " not in out and out


def test_force_tokens_and_digits_are_kept(bert):
    text = " ".join(f"Item {i} costs money and time in the plan." for i in range(60))
    out = run(text, bert, rate=0.5, coarse=False, force_reserve_digit=True, force_tokens=["plan"]).text
    words = out.split()
    assert all(str(i) in words for i in range(0, 60, 7))
    assert words.count("plan.") + words.count("plan") >= 50


def test_structure_json_stays_valid_and_atoms_stay_whole(bert):
    doc = json.dumps({f"key{i}": {"v": i, "note": "some words here " * 3} for i in range(50)})
    out = run(doc, bert, rate=0.3).text
    assert isinstance(json.loads(out), dict)
    text = " ".join(f"See https://example.com/docs/page{i}?x=1 and pay $1,250.50 by 2024-05-0{i % 9 + 1} now."
                    for i in range(60))
    result = run(text, bert, rate=0.5, coarse=False)
    for span in result.kept:
        piece = text[span.start : span.end]
        assert not piece.startswith(("example", "//", ",250", ".50")), piece
    code = "Intro words here.\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n" + PROSE
    out = run(code, bert, rate=0.4, coarse=False).text
    assert ("def add(a, b):" in out) == ("return a + b" in out)


def test_protection_off_scores_every_word_alone(bert):
    text = " ".join(f"Pay $1,250.50 now {i}." for i in range(80))
    on = run(text, bert, rate=0.5, coarse=False).kept
    off = run(text, bert, rate=0.5, coarse=False, protect_structure=False).kept
    assert any(text[s.start : s.end] == "250" for s in off)
    assert not any(text[s.start : s.end] == "250" for s in on)


def test_bad_checkpoints_fail_clearly(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    with pytest.raises(CheckpointError, match="no such folder"):
        run(PROSE, str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="config.json is missing"):
        run(PROSE, str(tmp_path / "empty"))
    three = tiny_models.bert_token_classifier(tmp_path / "three", num_labels=3)
    with pytest.raises(CheckpointError, match=r"three.*3 labels"):
        run(PROSE, str(three))
    seq = tmp_path / "seq"
    BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1,
                                             num_attention_heads=2, intermediate_size=64)).save_pretrained(seq)
    with pytest.raises(CheckpointError, match="not a token-classification model"):
        run(PROSE, str(seq))
    nowts = tiny_models.bert_token_classifier(tmp_path / "nowts")
    (nowts / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no weights file"):
        run(PROSE, str(nowts))
    assert issubclass(CheckpointError, ValueError)
