"""compress(list_of_docs) with absolute document relevance, top_n and min_relevance (issue 32.2)."""

import pytest

from compressor import compress, count_tokens
from compressor.document_filter import document_relevance, kept_documents

DOCS = [
    "The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair.",
    "Bananas are rich in potassium. They grow in tropical climates.",
    "Gustave Eiffel's company designed and built the tower in Paris.",
    "The stock market closed higher on Friday after strong earnings reports.",
]
QUESTION = "When was the Eiffel Tower completed?"
FAST = {"method": "extractive", "dense_weight": 0.0, "coarse": False}


def test_relevance_is_absolute():
    full = document_relevance(DOCS, QUESTION)
    assert document_relevance(DOCS[:1], QUESTION) == pytest.approx(full[:1])
    assert document_relevance(DOCS[::-1], QUESTION) == pytest.approx(full[::-1])
    assert full[0] == max(full) and full[1] < full[0] and full[3] < full[0]


def test_kept_documents_rules():
    scores = [0.5, 0.1, 0.4, 0.4]
    assert kept_documents(scores, 4, 2, None) == [0, 2]  # ties: earlier first
    assert kept_documents(scores, 4, None, 0.4) == [0, 2, 3]
    assert kept_documents(scores, 4, 1, 0.45) == [0]
    assert kept_documents(None, 4, 2, None) == [0, 1]  # no question: the first documents


def test_top_n_drops_whole_documents_and_reports_them():
    r = compress(DOCS, QUESTION, rate=0.6, top_n=2, **FAST)
    assert r.info["dropped_documents"] == [1, 3]
    assert r.documents[1] == "" and r.documents[3] == "" and "1889" in r.documents[0]
    assert r.budget == int(count_tokens("\n\n".join(DOCS)) * 0.6)  # the whole input's budget
    assert r.compressed_tokens <= r.budget and len(r.info["document_relevance"]) == 4
    assert all(s.doc in (0, 2) for s in r.kept)


def test_min_relevance_alias_and_errors():
    scores = document_relevance(DOCS, QUESTION)
    cut = sorted(scores)[2]
    r = compress(DOCS, QUESTION, rate=0.5, min_relevance=cut, **FAST)
    alias = compress(DOCS, QUESTION, rate=0.5, similarity_threshold=cut, **FAST)
    assert r.text == alias.text
    assert r.info["dropped_documents"] == [i for i, s in enumerate(scores) if s < cut]
    with pytest.raises(ValueError, match="min_relevance needs a query"):
        compress(DOCS, None, min_relevance=0.3, **FAST)
    with pytest.raises(ValueError, match="top_n"):
        compress(DOCS, QUESTION, top_n=0, **FAST)
    with pytest.raises(ValueError, match="not both"):
        compress(DOCS, QUESTION, min_relevance=0.1, similarity_threshold=0.2, **FAST)


def test_everything_dropped_gives_an_empty_result():
    r = compress(DOCS, QUESTION, rate=0.5, min_relevance=0.99, **FAST)
    assert r.text == "" and r.documents == [""] * 4 and r.compressed_tokens == 0
    assert r.info["dropped_documents"] == [0, 1, 2, 3]
