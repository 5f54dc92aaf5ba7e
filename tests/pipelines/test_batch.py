"""Batch mode: ``compress_many`` gives each input what ``compress`` gives it, with one batched model pass."""

import pytest

from compressor import compress, compress_many
from tests.fixtures.model_calls import count_model_calls

PASSAGES = [
    ("Passage 1:\nArcade Fire\nArcade Fire are a Canadian indie rock band based in Montreal, Quebec. "
     "The band was formed in 2001. Its members include Win Butler and Régine Chassagne."),
    ("Passage 2:\nReflektor\nReflektor is the fourth studio album by Arcade Fire. It was released in 2013. "
     "It was co-produced by James Murphy."),
    ("Passage 3:\nMontreal Metro\nThe Montreal Metro is a rubber-tyred rapid transit system. "
     "It opened in 1966. It has four lines and sixty-eight stations."),
]
CONTEXT = "\n\n".join(PASSAGES)
QUESTIONS = ["Which city is Arcade Fire based in?", "Who co-produced Reflektor?",
             "How many stations does the Montreal Metro have?"]


def _recorded_model_calls(monkeypatch) -> list[int]:
    from compressor.methods.condenser import EMBEDDER, _embedder

    embedder = _embedder(EMBEDDER)
    embedder.clear_cache()
    return count_model_calls(monkeypatch, embedder)


def test_batch_results_equal_one_call_each():
    contexts = [CONTEXT, CONTEXT.replace("sixty-eight", "68"), PASSAGES[0] + "\n\n" + PASSAGES[2]]
    single = [compress(c, q, target_tokens=40) for c, q in zip(contexts, QUESTIONS)]
    batch = compress_many(contexts, QUESTIONS, target_tokens=40)
    assert [r.text for r in batch] == [r.text for r in single]
    assert all(r.compressed_tokens <= 40 for r in batch)
    assert "prepare" in batch[0].timings and batch[0].timings["total"] >= batch[0].timings["prepare"]


def test_every_input_is_embedded_in_one_pass_and_their_second_hops_in_another(monkeypatch):
    calls = _recorded_model_calls(monkeypatch)
    contexts = [CONTEXT.replace("Montreal", f"Montreal{i}") for i in range(3)]  # nothing cached yet
    compress_many(contexts, QUESTIONS, target_tokens=40)
    # ~10 sentences per input plus the questions, at once; then the second hop's queries (2 per input)
    assert len(calls) == 2 and calls[0] > 3 * 9 and calls[1] == 3 * 2


def test_large_batches_go_through_in_slices(monkeypatch):
    from pipelines import pipeline

    monkeypatch.setattr(pipeline, "BATCH_INPUTS", 2)
    calls = _recorded_model_calls(monkeypatch)
    contexts = [CONTEXT.replace("Montreal", f"Quebec{i}") for i in range(3)]
    out = compress_many(contexts, QUESTIONS, target_tokens=40)
    assert len(calls) == 4 and len(out) == 3  # inputs 0-1 together, then input 2 (sentences, then hops)
    single = [compress(c, q, target_tokens=40).text for c, q in zip(contexts, QUESTIONS)]
    assert [r.text for r in out] == single


def test_inputs_within_budget_come_back_unchanged_and_others_are_compressed():
    out = compress_many(["short text", CONTEXT], ["q", QUESTIONS[0]], target_tokens=40)
    assert out[0].text == "short text" and out[0].ratio == 1.0
    assert out[1].compressed_tokens <= 40 and "Montreal" in out[1].text


def test_without_queries_each_input_is_compressed_question_agnostic():
    out = compress_many([CONTEXT, CONTEXT], rate=0.5)
    assert len(out) == 2 and out[0].text == out[1].text and out[0].compressed_tokens <= out[0].budget


def test_document_lists_keep_their_boundaries():
    out = compress_many([PASSAGES], [QUESTIONS[1]], target_tokens=40)
    assert out[0].documents is not None and len(out[0].documents) == 3


@pytest.mark.parametrize(("contexts", "queries", "error", "message"), [
    ("one string", None, TypeError, "contexts must be a list"),
    ([CONTEXT, CONTEXT], ["only one"], ValueError, "expected 2"),
    ([CONTEXT, 5], None, TypeError, r"contexts\[1\]"),
])
def test_bad_batches_name_the_argument(contexts, queries, error, message):
    with pytest.raises(error, match=message):
        compress_many(contexts, queries, target_tokens=40)


def test_a_bad_input_in_a_later_slice_fails_before_any_input_is_compressed(monkeypatch):
    from pipelines import pipeline

    monkeypatch.setattr(pipeline, "BATCH_INPUTS", 2)
    calls = _recorded_model_calls(monkeypatch)
    contexts = [CONTEXT.replace("Montreal", f"Laval{i}") for i in range(3)]
    with pytest.raises(TypeError, match=r"contexts\[2\]"):
        compress_many([*contexts[:2], None], QUESTIONS, target_tokens=40)
    with pytest.raises(TypeError, match=r"contexts\[2\]: .*query"):
        compress_many(contexts, [*QUESTIONS[:2], 7], target_tokens=40)
    assert calls == []  # the first slice was not embedded either


def test_an_empty_batch_gives_no_results():
    assert compress_many([]) == []


@pytest.mark.gpu
def test_the_embedder_runs_in_float16_on_a_gpu():
    import torch

    out = compress_many([CONTEXT], [QUESTIONS[0]], target_tokens=40, device="cuda")
    from compressor.methods.condenser import EMBEDDER, _embedder

    embedder = _embedder(EMBEDDER, device="cuda")
    assert next(embedder.model.parameters()).dtype == torch.float16 and embedder.batch_size >= 256
    assert "Montreal" in out[0].text
