"""The reranker stage of ``condenser``: it reorders only the best candidates, and says when it cannot run."""

import numpy as np
import pytest

from compressor.methods.base import Request
from compressor.methods.condenser import reranked
from retriever import rerank


class _Fake:
    """Prefers texts that mention 'gold', by how often; records what it read."""

    def __init__(self):
        self.read: list[str] = []
        self.queries: list[str] = []

    def scores(self, query, texts):
        self.read += texts
        self.queries.append(query)
        return np.array([t.count("gold") for t in texts], dtype=float)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    model = _Fake()
    monkeypatch.setitem(rerank.RERANKERS, "fake", tmp_path)
    monkeypatch.setattr(rerank, "reranker_available", lambda name="": True)
    monkeypatch.setattr(rerank, "get_reranker", lambda name="", device="cpu", int8=False: model)
    return model


def _request(**options) -> Request:
    return Request(["x"], "q", 10, "cl100k_base", [], [], {"reranker": "fake", **options})


TEXTS = ["a", "b gold", "c gold gold", "d gold gold gold", "e"]
RELEVANCE = np.array([0.9, 0.8, 0.7, 0.1, 0.0])


def test_only_the_best_candidates_are_reordered_and_keep_the_same_scores(fake):
    out = reranked(RELEVANCE, TEXTS, "q", _request(rerank=3, rerank_weight=1.0))
    assert fake.read == TEXTS[:3]  # "d gold gold gold" is outside the top 3: never read, never lifted
    assert list(np.argsort(-out)[:3]) == [2, 1, 0]
    assert sorted(out[:3]) == sorted(RELEVANCE[:3]) and out[3] == RELEVANCE[3]


def test_the_weight_shares_the_order_with_the_relevance(fake):
    assert np.array_equal(reranked(RELEVANCE, TEXTS, "q", _request(rerank=5, rerank_weight=0.0)), RELEVANCE)
    half = reranked(RELEVANCE, TEXTS, "q", _request(rerank=5, rerank_weight=0.6))
    assert int(np.argmax(half)) in (1, 2, 3) and not np.array_equal(half, RELEVANCE)


def test_off_by_default_and_without_a_query(fake):
    from compressor.methods import condenser

    if condenser.RERANK == 0:
        assert reranked(RELEVANCE, TEXTS, "q", _request()) is RELEVANCE
    assert np.array_equal(reranked(RELEVANCE, TEXTS, None, _request(rerank=3)), RELEVANCE)
    assert fake.read == []


def test_bad_options_name_themselves(fake):
    with pytest.raises(ValueError, match="rerank_weight"):
        reranked(RELEVANCE, TEXTS, "q", _request(rerank=3, rerank_weight=2))
    with pytest.raises(ValueError, match="reranker must be one of"):
        reranked(RELEVANCE, TEXTS, "q", _request(rerank=3, reranker="/etc/passwd"))


def test_missing_weights_warn_and_leave_the_ranking(monkeypatch, tmp_path):
    monkeypatch.setitem(rerank.RERANKERS, "empty", tmp_path)
    with pytest.warns(RuntimeWarning, match="no weights for reranker 'empty'"):
        out = reranked(RELEVANCE, TEXTS, "q", _request(rerank=3, reranker="empty"))
    assert np.array_equal(out, RELEVANCE)


def test_a_second_hop_reads_only_other_sections_after_the_best_one(fake, monkeypatch):
    from compressor.methods import condenser

    sections = ["Alpha", "Beta", "Alpha", "Beta", "Gamma"]
    monkeypatch.setattr(condenser, "section_titles", lambda documents, units: sections)
    reranked(RELEVANCE, TEXTS, "q", _request(rerank=3, rerank_weight=1.0, rerank_hops=2))
    # the best of the top 3 is "c gold gold" (section Alpha): the hop reads only the Beta candidate
    assert fake.read == [*TEXTS[:3], "b gold"]
    assert fake.queries == ["q", "q c gold gold"]


def test_compress_takes_the_rerank_options_and_says_when_weights_are_missing(monkeypatch, tmp_path):
    from compressor import compress

    monkeypatch.setitem(rerank.RERANKERS, "condenser-reranker", tmp_path)  # nothing built there
    ctx = " ".join(f"Sentence {i} is about topic {i} and nothing else." for i in range(40))
    ctx += " The mayor of Springfield is Quimby."
    with pytest.warns(RuntimeWarning, match="no weights for reranker 'condenser-reranker'"):
        result = compress(ctx, "Who is the mayor of Springfield?", target_tokens=30, rerank=10, rerank_weight=0.3)
    assert "Quimby" in result.text
