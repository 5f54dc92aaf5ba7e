"""Parity of ``llmlingua2`` with the ``llmlingua`` package (0.2.2) on the same tiny random BERT.

llmlingua only accepts a local LLMLingua-2 model whose path contains ``bert-base-multilingual-cased`` (or
``xlm-roberta-large``), so the tiny model is saved under such a name. Intended differences are tested
below: the budget is exact in target-LLM tokens (the reference thresholds a per-window percentile), and
words are re-joined with the input's own whitespace (the reference inserts spaces, also into CJK).
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("llmlingua", reason="llmlingua not installed (pip install 'condenser[llmlingua]')")

from compressor import compress, count_tokens
from compressor.budget import _costs, fit, resolve_budget
from compressor.inference import score_texts
from compressor.methods.base import Candidate
from compressor.methods.llmlingua2 import word_scores
from compressor.models.checkpoints import load_token_classifier
from tests.fixtures import tiny_models

TEXT = ("The committee met on a quiet morning to review the plan for the new library, and members agreed "
        "that the reading rooms should open earlier, while the budget for books would grow slowly; "
        "several speakers asked whether the garden could stay open in winter, but the chair said the "
        "question needed more study before any vote. Afterwards the group walked to the old station, "
        "where volunteers described the history of the line and the people who had worked on it.")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(tiny_models.bert_token_classifier(tmp_path_factory.mktemp("m") / "tiny-bert-base-multilingual-cased"))


@pytest.fixture(scope="module")
def reference(model):
    from llmlingua import PromptCompressor

    import compressor.tokens  # noqa: F401  (offline tiktoken files for llmlingua)

    return PromptCompressor(model_name=model, use_llmlingua2=True, device_map="cpu")


def reference_words(ref, text, rate):
    out = ref.compress_prompt(text, rate=rate, use_context_level_filter=False, return_word_label=True)
    pairs = [p.rsplit(" ", 1) for p in out["fn_labeled_original_prompt"].split("\t\t|\t\t")]
    return [w for w, _ in pairs], np.asarray([int(label) for _, label in pairs]), out


def ours(model, text):
    loaded = load_token_classifier(model, "cpu")
    tok = score_texts(loaded.model, loaded.tokenizer, [text], None, max_length=loaded.max_length)[0]
    return word_scores(text, tok, {}, protect=False)


@pytest.mark.parametrize("rate", [0.3, 0.5, 0.7])
def test_same_words_same_ranking_same_kept_words(model, reference, rate):
    words, labels, _ = reference_words(reference, TEXT, rate)
    starts, ends, scores = ours(model, TEXT)
    assert [TEXT[s:e].lower() for s, e in zip(starts, ends)] == words  # same word segmentation
    k = int(labels.sum())
    top = set(np.argsort(-scores, kind="stable")[:k])
    assert top == set(np.flatnonzero(labels))  # the reference keeps exactly our top-k words
    # at the budget those words cost in our accounting, fit keeps exactly them
    cands = [Candidate(0, int(s), int(e), float(v)) for s, e, v in zip(starts, ends, scores)]
    budget = int(_costs([TEXT], [cands[i] for i in sorted(top)], "cl100k_base", frozenset()).sum())
    kept = fit([TEXT], cands, budget, "cl100k_base").spans
    assert [TEXT[s.start : s.end].lower() for s in kept] == [w for w, lab in zip(words, labels) if lab]


def test_intended_difference_exact_budget(model, reference):
    """The reference's rate is a per-window percentile of word-alone token counts; ours is exact."""
    budget = resolve_budget(count_tokens(TEXT), 0.3, None)  # a rate's budget, floor included
    result = compress(TEXT, rate=0.3, method="llmlingua2", model_path=model, device="cpu",
                      protect_structure=False)
    assert 0.9 * budget <= result.compressed_tokens <= budget


def test_intended_difference_no_inserted_spaces(model, reference):
    """The reference joins kept tokens with spaces (``word ,``, ``東 京``); we keep the input's joints."""
    text = "東京は日本の首都です。会議は午後三時に始まります。" * 8
    ref_text = reference.compress_prompt(text, rate=0.5, use_context_level_filter=False)["compressed_prompt"]
    our_text = compress(text, rate=0.5, method="llmlingua2", model_path=model, device="cpu", coarse=False).text
    assert " " in ref_text and " " not in our_text
