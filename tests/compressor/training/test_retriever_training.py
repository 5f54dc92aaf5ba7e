"""Condenser's retriever training: triplets from labelled examples, a short run, the delta round trip."""

import json

import numpy as np

from compressor.training.data import Example
from compressor.training.retriever import dev_ranking, train, triplets
from retriever.embeddings import Embedder, is_delta_folder, save_retriever_delta


def _examples() -> list[Example]:
    out = []
    for i in range(6):
        text = (f"Town {i} lies on a river. The mayor of town {i} is Ada {i}. "
                f"Its bakery sells rye bread. Trains stop there twice a day.")
        start = text.index("The mayor")
        end = text.index("Its bakery")
        answer = text.index(f"Ada {i}")
        out.append(Example(f"Who is the mayor of town {i}?", text, [(start, end)], [(answer, answer + 5)],
                           "hotpotqa"))
    return out


def test_triplets_pair_the_answer_sentence_with_a_sentence_of_the_same_text():
    rows = triplets(_examples())
    assert len(rows) == 6
    for question, positive, negative in rows:
        assert "mayor" in positive and "mayor" not in negative
        assert question.split()[-1].rstrip("?") in positive


def test_hop_triplets_point_from_one_supporting_passage_to_the_other(tmp_path):
    import gzip

    from compressor.training.retriever import hop_triplets

    row = {"_id": "x", "question": "Which city is the band behind Reflektor from?", "answer": "Montreal",
           "supporting_facts": [["Reflektor", 0], ["Arcade Fire", 1]],
           "context": [["Reflektor", ["Reflektor is an album by Arcade Fire.", "It was recorded in 2013."]],
                       ["Arcade Fire", ["Arcade Fire is a rock band with seven members.",
                                        "The band was formed in Montreal, Quebec."]],
                       ["Parks", ["The city council approved a new park downtown."]]]}
    (tmp_path / "hotpotqa").mkdir()
    with gzip.open(tmp_path / "hotpotqa" / "distractor.jsonl.gz", "wt") as f:
        f.write(json.dumps(row) + "\n")
    rows = hop_triplets(tmp_path, dev=_is_dev("x"))
    album = "Reflektor: Reflektor is an album by Arcade Fire."
    band = "Arcade Fire: The band was formed in Montreal, Quebec."
    assert {(q.split("? ", 1)[1], p) for q, p, _ in rows} == {(album, band), (band, album)}
    for _, positive, negative in rows:
        assert negative not in (positive, *(q.split("? ", 1)[1] for q, _, _ in rows))


def _is_dev(item_id: str) -> bool:
    from compressor.training.splits import is_dev

    return is_dev("hotpotqa", item_id)


def test_dev_ranking_scores_a_perfect_and_an_inverted_encoder():
    examples = _examples()

    def oracle(texts):  # mayor sentences and questions share one direction, the rest another
        return np.array([[1.0, 0.0] if "mayor" in t else [0.0, 1.0] for t in texts])

    good = dev_ranking(oracle, examples)["hotpotqa"]
    def inverted(texts):  # the question points at the non-evidence sentences
        return np.array([[0.0, 1.0] if t.endswith("?") else v for t, v in zip(texts, oracle(texts))])

    bad = dev_ranking(inverted, examples)["hotpotqa"]
    assert good == {"items": 6, "auc": 1.0, "p_at_1": 1.0}
    assert bad["auc"] == 0.0 and bad["p_at_1"] == 0.0


def test_a_short_run_saves_a_delta_that_loads_as_the_trained_model(tmp_path):
    model, loss, count = train(_examples(), steps=2, batch_size=4, threads=1)
    assert count == 6 and np.isfinite(loss)
    save_retriever_delta(model, tmp_path, {"steps": 2})
    assert is_delta_folder(tmp_path) and json.loads((tmp_path / "retriever.json").read_text()) == {"steps": 2}
    texts = ["The mayor of town 1 is Ada 1.", "Trains stop there twice a day."]
    loaded = Embedder(str(tmp_path), backend="torch").encode(texts)
    direct = model.encode(texts, normalize_embeddings=True)
    assert np.abs(loaded - direct).max() < 2e-3  # fp16 storage
    base = Embedder(backend="torch").encode(texts)
    assert np.abs(loaded - base).max() > 1e-4  # the fine-tuned weights were applied, not the base ones


def test_a_fast_student_keeps_the_chosen_layers_and_loads_shrunk(tmp_path):
    model, loss, _ = train(_examples(), steps=2, batch_size=4, threads=1, layers=[0, 5])
    assert np.isfinite(loss) and len(model[0].auto_model.encoder.layer) == 2
    save_retriever_delta(model, tmp_path, {"steps": 2, "layers": [0, 5]})
    texts = ["The mayor of town 1 is Ada 1.", "Trains stop there twice a day."]
    loaded = Embedder(str(tmp_path), backend="torch")
    assert len(loaded.model[0].auto_model.encoder.layer) == 2
    assert np.abs(loaded.encode(texts) - model.encode(texts, normalize_embeddings=True)).max() < 2e-3
    resumed, _, _ = train(_examples(), steps=1, batch_size=4, threads=1, layers=[0, 5], init=str(tmp_path))
    assert len(resumed[0].auto_model.encoder.layer) == 2  # goes on from the saved student
