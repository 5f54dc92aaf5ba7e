"""The sentence reranker's training: groups from each source, the listwise loss, a short run, reloading."""

import gzip
import json
import random

import numpy as np
import pytest

from compressor.training.data import Example
from compressor.training.rerank_data import Group, build_groups, chains, cloze_query, supervised
from compressor.training.reranker import dev_scores, listwise_loss, mix, train


def _word_overlap(texts: list[str], query: str) -> np.ndarray:
    words = set(query.lower().split())
    return np.array([len(words & set(t.lower().split())) for t in texts], dtype=float)


def _examples() -> list[Example]:
    out = []
    for i in range(4):
        text = (f"Town {i} lies on a wide river. The mayor of town {i} is Ada Lovelace {i}. "
                f"Its bakery sells rye bread daily. Trains stop there twice a day. The town hall dates from 1850.")
        start, end = text.index("The mayor"), text.index("Its bakery")
        answer = text.index("Ada")
        out.append(Example(f"Who is the mayor of town {i}?", text, [(start, end)], [(answer, answer + 5)], "hotpotqa"))
    return out


def test_supervised_groups_put_the_evidence_first_and_mine_negatives_by_the_ranker():
    groups = list(supervised(_examples(), _word_overlap, random.Random(0)))
    assert len(groups) == 4
    for g in groups:
        assert "mayor" in g.texts[0] and all("mayor" not in t for t in g.texts[1:])
        assert len(g.texts) == 5 and g.origin == "hotpotqa"
        # the hardest negative by the ranker comes first among the negatives
        overlaps = _word_overlap(list(g.texts[1:]), g.query)
        assert overlaps[0] == overlaps.max()


def test_cloze_masks_an_entity_or_number_and_drops_the_title():
    rng = random.Random(1)
    queries = {cloze_query("Arcade Fire: The band formed in Montreal in 2001.", rng) for _ in range(20)}
    assert queries <= {"The band formed in what in 2001.", "The band formed in Montreal in what."}
    assert len(queries) == 2
    assert cloze_query("no entity here at all.", rng) is None


def test_chains_ask_for_the_other_supporting_passage(tmp_path):
    row = {"_id": "x", "question": "Which city is the band behind Reflektor from?", "answer": "Montreal",
           "supporting_facts": [["Reflektor", 0], ["Arcade Fire", 0]],
           "context": [["Reflektor", ["Reflektor is an album by the band Arcade Fire.", "It was recorded in 2013 somewhere."]],
                       ["Arcade Fire", ["Arcade Fire is a rock band based in Montreal.", "They formed in the early 2000s."]],
                       ["Other", ["Another band plays music in Toronto often.", "It has four members in total."]]]}
    (tmp_path / "hotpotqa").mkdir()
    with gzip.open(tmp_path / "hotpotqa" / "distractor.jsonl.gz", "wt") as f:
        f.write(json.dumps(row) + "\n")
    from compressor.training.splits import is_dev

    groups = list(chains(tmp_path, _word_overlap, random.Random(0), dev=is_dev("hotpotqa", "x")))
    assert len(groups) == 1
    g = groups[0]
    assert g.query.startswith(row["question"]) and "Reflektor is an album" in g.query
    assert g.texts[0] == "Arcade Fire: Arcade Fire is a rock band based in Montreal."
    assert all("Montreal" not in t for t in g.texts[1:])


def test_unknown_sources_are_named(tmp_path):
    with pytest.raises(ValueError, match="quiz"):
        build_groups(tmp_path, ("supervised", "quiz"), [], rank=_word_overlap)


def test_mix_repeats_chains_and_keeps_only_the_chosen_sources():
    groups = [Group("supervised", "q", ("a", "b")), Group("chains", "q", ("a", "b")), Group("cloze", "q", ("a", "b"))]
    assert [g.source for g in mix(groups, ("supervised", "chains"))] == ["supervised", "chains", "chains", "chains"]


def test_listwise_loss_pads_groups_of_different_sizes():
    import torch

    logits = torch.tensor([5.0, 0.0, 0.0, 0.0, 5.0])  # group 1: positive wins; group 2: a negative wins
    loss = listwise_loss(logits, [3, 2])
    expected = (-torch.log_softmax(torch.tensor([5.0, 0.0, 0.0]), 0)[0]
                - torch.log_softmax(torch.tensor([0.0, 5.0]), 0)[0]) / 2
    assert torch.isclose(loss, expected)


def test_a_short_run_learns_the_groups_and_reloads_from_its_delta(tmp_path):
    from retriever.rerank import SentenceReranker, save_reranker

    groups = [g for _ in range(4) for g in supervised(_examples(), _word_overlap, random.Random(0))]
    model, _ = train(groups, 12, batch_groups=2, lr=3e-4, init="fast-retriever", layers=[0, 1, 2])
    save_reranker(model, tmp_path, {"layers": 3})
    loaded = SentenceReranker(tmp_path)
    scores = dev_scores(loaded.scores, groups[:4])
    assert scores["hotpotqa"]["p_at_1"] == 1.0
    assert (tmp_path / "delta.safetensors").stat().st_size < 12_000_000  # word embeddings left out
    # a second hop's query (question + a long candidate) is longer than the model reads: both sides are cut
    assert loaded.scores("the mayor of town one " * 100, ["Ada is the mayor.", "Trains stop twice."]).shape == (2,)
    # pairs scored once are remembered: a second budget for the same context runs nothing new
    calls = []
    run = loaded._run
    loaded._run = lambda q, texts: calls.append(list(texts)) or run(q, texts)
    first, second = loaded.scores("q", ["x y", "y z"]), loaded.scores("q", ["y z", "z w", "x y"])
    assert calls == [["x y", "y z"], ["z w"]] and first[0] == second[2]


def test_the_retriever_takes_the_hardest_mined_negative_of_chosen_sources(monkeypatch, tmp_path):
    from dataclasses import asdict

    from compressor.training import reranker
    from compressor.training.retriever import group_triplets

    monkeypatch.setattr(reranker, "CACHE", tmp_path)
    groups = [Group("supervised", "q1", ("pos", "hardest", "easy"), "nq"), Group("cloze", "q2", ("p", "n"), "nq"),
              Group("chains", "q3", ("alone",), "hotpotqa")]
    (tmp_path / "groups-train-0.jsonl").write_text("".join(json.dumps(asdict(g)) + "\n" for g in groups))
    assert group_triplets(tmp_path, ("supervised", "chains")) == [("q1", "pos", "hardest")]
