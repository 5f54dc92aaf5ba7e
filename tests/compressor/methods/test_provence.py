"""``provence`` on tiny random naver-Provence (DeBERTa-v2) and OpenProvence (ModernBERT) checkpoints."""

import json

import pytest

pytest.importorskip("torch")
from compressor import compress
from compressor.models.checkpoints import CheckpointError
from tests.fixtures import tiny_models

PROSE = " ".join(f"Sentence {i} says the bus contractor needs notice at weekends." for i in range(150))
QUERY = "How much notice does the bus contractor need?"


@pytest.fixture(scope="module")
def deberta(tmp_path_factory):
    return str(tiny_models.provence_deberta(tmp_path_factory.mktemp("m") / "provence-deberta"))


@pytest.fixture(scope="module")
def modernbert(tmp_path_factory):
    return str(tiny_models.open_provence_modernbert(tmp_path_factory.mktemp("m") / "open-provence"))


def run(text, path, query=QUERY, **kw):
    if "target_tokens" not in kw:
        kw.setdefault("rate", 0.3)
    return compress(text, query, method="provence", model_path=path, device="cpu", **kw)


@pytest.mark.parametrize("which", ["deberta", "modernbert"])
def test_loads_both_layouts_windows_long_input_and_reports_rerank_scores(which, request):
    path = request.getfixturevalue(which)
    result = run([PROSE, "A short second document about trains."], path, target_tokens=300, coarse=False,
                 threshold=0.0)
    assert 0.9 * 300 <= result.compressed_tokens <= 300
    scores = result.info["rerank_scores"]
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    assert max(s.end for s in result.kept if s.doc == 0) > len(PROSE) * 0.5 or any(s.doc == 1 for s in result.kept)


def test_windows_cover_more_than_512_tokens(deberta):
    from compressor.inference import score_texts
    from compressor.models.provence import load_provence

    loaded = load_provence(deberta, "cpu")
    tokens = score_texts(loaded.model, loaded.tokenizer, [PROSE], QUERY, max_length=loaded.max_length)[0]
    assert len(tokens.scores) > 1024 and len(tokens.window_scores) >= 3
    assert (tokens.scores > 0).all()


def test_threshold_drops_sentences_below_it(modernbert):
    kept_all = run(PROSE, modernbert, rate=0.9, coarse=False, threshold=0.0).kept
    strict = run(PROSE, modernbert, rate=0.9, coarse=False, threshold=0.99).kept
    assert len(strict) < len(kept_all)
    with pytest.raises(ValueError, match="threshold"):
        run(PROSE, modernbert, threshold=2)


def test_runs_question_agnostic_and_keeps_json_valid(deberta):
    doc = json.dumps({f"key{i}": {"v": i, "note": "some words here " * 3} for i in range(50)})
    out = run(doc, deberta, query=None, rate=0.3, threshold=0.0).text
    assert isinstance(json.loads(out), dict)


def test_bad_checkpoints_fail_clearly(tmp_path):
    headless = tiny_models.provence_deberta(tmp_path / "headless", with_head=False)
    with pytest.raises(CheckpointError, match=r"headless.*no per-token relevance head"):
        run(PROSE, str(headless))
    three = tiny_models.provence_deberta(tmp_path / "three", head_labels=3)
    with pytest.raises(CheckpointError, match=r"three.*3 labels"):
        run(PROSE, str(three))
    (three / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no weights file"):
        run(PROSE, str(three))
