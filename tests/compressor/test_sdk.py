"""The compress() contract: validation, budgets, unchanged inputs, documents, offsets."""

import math

import pytest

from compressor import available_methods, compress, count_tokens

TEXT = " ".join(
    f"Sentence number {i} talks about topic {i % 7} and mentions the value {i * 13}." for i in range(120)
)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"context": ""}, ValueError, "context"),
        ({"context": ["", "  "]}, ValueError, "context"),
        ({"context": 42}, TypeError, "context"),
        ({"context": ["ok", 3]}, TypeError, "context"),
        ({"context": TEXT, "query": 5}, TypeError, "query"),
        ({"context": TEXT, "rate": 0}, ValueError, "rate"),
        ({"context": TEXT, "rate": 1.5}, ValueError, "rate"),
        ({"context": TEXT, "rate": -0.1}, ValueError, "rate"),
        ({"context": TEXT, "rate": math.nan}, ValueError, "rate"),
        ({"context": TEXT, "rate": "0.5"}, TypeError, "rate"),
        ({"context": TEXT, "target_tokens": -3}, ValueError, "target_tokens"),
        ({"context": TEXT, "target_tokens": 0}, ValueError, "target_tokens"),
        ({"context": TEXT, "target_tokens": 2.5}, TypeError, "target_tokens"),
        ({"context": TEXT, "target_tokens": True}, TypeError, "target_tokens"),
        ({"context": TEXT, "rate": 0.5, "target_tokens": 10}, ValueError, "rate or target_tokens"),
        ({"context": TEXT, "method": "nope"}, ValueError, "method"),
        ({"context": TEXT, "method": "truncate", "colour": "red"}, TypeError, "colour"),
        ({"context": TEXT, "method": "truncate", "encoding": "r50k_base"}, ValueError, "encoding"),
    ],
)
def test_bad_input_raises_clear_error(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        compress(**kwargs)


def test_methods_are_registered():
    assert {"truncate", "extractive", "retrieve", "cfic", "condenser"} <= set(available_methods())


@pytest.mark.parametrize("method", ["truncate", "extractive", "retrieve", "cfic", "condenser"])
@pytest.mark.parametrize("target", [40, 150, 600])
def test_target_tokens_is_a_ceiling_and_mostly_used(method, target):
    r = compress(TEXT, "Which sentence mentions the value 650?", target_tokens=target, method=method)
    assert r.compressed_tokens == count_tokens(r.text)
    assert r.compressed_tokens <= target
    assert r.compressed_tokens >= 0.9 * target
    assert r.budget == target and r.method == method
    assert r.ratio == pytest.approx(r.original_tokens / r.compressed_tokens, rel=1e-3)


def test_default_rate_is_a_third():
    r = compress(TEXT, method="truncate")
    assert r.budget == int(r.original_tokens * 0.33)


def test_within_budget_comes_back_unchanged():
    r = compress("A short note.", "anything", target_tokens=100, method="extractive")
    assert r.text == "A short note." and r.ratio == 1.0
    assert r.kept[0].start == 0 and r.kept[0].end == len("A short note.")


def test_offsets_point_into_the_original():
    r = compress(TEXT, "value 650", rate=0.2, method="extractive")
    pos = 0
    for span in r.kept:
        piece = TEXT[span.start : span.end]
        found = r.text.find(piece, pos)
        assert found >= 0, piece
        pos = found + len(piece)


def test_documents_keep_their_boundaries():
    docs = [f"Document {d}. " + " ".join(f"Fact {d}-{i} is about rivers." for i in range(40)) for d in range(3)]
    r = compress(docs, "Fact 1-7", rate=0.3, method="extractive")
    assert r.documents is not None and len(r.documents) == 3
    assert r.text == "\n\n".join(d for d in r.documents if d)
    for span in r.kept:
        assert docs[span.doc][span.start : span.end] in r.documents[span.doc]


def test_target_model_selects_tokenizer():
    r = compress(TEXT, rate=0.5, method="truncate", model="gpt-4o")
    assert r.encoding == "o200k_base"
    assert r.compressed_tokens == count_tokens(r.text, "o200k_base")
