"""The shipped embedded model: offline load, determinism, budgets, and that it finds the evidence."""

import warnings

import numpy as np
import pytest

from compressor import compress
from compressor.models import MODEL_DIR, ModelMissingError, load_condenser_model, weights_available
from retriever.embeddings import CONDENSER_FAST_DIR, CONDENSER_RETRIEVER_DIR

pytestmark = pytest.mark.skipif(not weights_available(), reason="embedded model weights not built")

CASES = [
    ("When does the last train leave Ostrava Pass?",
     "The last train leaves Ostrava Pass at 23:05 every day of the week.",
     ["The fleet consists of 38 electric multiple units built in 2016.",
      "Refunds for delays are handled by the customer service team.",
      "Snow ploughs are fitted to the two diesel locomotives in winter."]),
    ("Who founded the Acme Rocket Company?",
     "The Acme Rocket Company was founded by Lena Virtanen in 1952.",
     ["Rockets burn propellant to produce thrust.",
      "The company's headquarters moved to a new building in 1990.",
      "Bananas are a popular fruit in many countries."]),
    ("What is the capital of the fictional country Brelia?",
     "Brelia's capital and largest city is Kostamar, on the northern coast.",
     ["Brelia has a temperate climate with mild winters.",
      "The national sport is a form of field hockey.",
      "Its currency is pegged to the euro."]),
]


def test_loads_offline_and_is_deterministic():
    model, _, info = load_condenser_model()
    assert info["max_length"] > 0 and not model.training
    text = " ".join([CASES[0][1], *CASES[0][2]])
    a = compress(text, CASES[0][0], target_tokens=25)
    b = compress(text, CASES[0][0], target_tokens=25)
    assert a.text == b.text and a.compressed_tokens <= 25


# blend 1: the default (retriever + BM25); blend 0: the token model alone; 0.5: both by rank
@pytest.mark.parametrize("blend", [1.0, 0.0, 0.5])
@pytest.mark.parametrize("question, answer_sentence, others", CASES)
def test_answer_sentence_ranks_first(question, answer_sentence, others, blend):
    from compressor.methods.condenser import Condenser

    sentences = [*others[:1], answer_sentence, *others[1:]]
    text = " ".join(sentences)
    r = compress(text, question, target_tokens=len(answer_sentence.split()) + 8, method="condenser",
                 coarse=False, blend=blend)
    assert answer_sentence in r.text
    assert Condenser().model_version().startswith("condenser-minilm")


@pytest.mark.parametrize("name", ["condenser", "condenser-fast"])
def test_retriever_loads_offline_and_ranks_the_evidence_first(name):
    from retriever.embeddings import get_embedder

    embedder = get_embedder(name)
    for question, answer_sentence, others in CASES:
        vectors = embedder.encode([answer_sentence, *others])
        sims = vectors @ embedder.encode([question])[0]
        assert int(np.argmax(sims)) == 0
    assert embedder.encode(["a"]).shape == (1, 384)


def test_token_model_missing_weights_fall_back_with_a_warning(tmp_path):
    with pytest.raises(ModelMissingError, match="python -m compressor.training"):
        load_condenser_model(str(tmp_path))
    text = " ".join(f"Sentence {i} about the value {i}." for i in range(60))
    for blend in (0.0, 0.5):  # alone: extractive; blended: the retriever relevance alone
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = compress(text, "value 7", rate=0.2, model_path=str(tmp_path), blend=blend)
        assert any("scoring without the token model" in str(w.message) for w in caught)
        assert r.compressed_tokens <= r.budget and "value 7." in r.text


def test_missing_retriever_says_how_to_build_it_and_falls_back(tmp_path, monkeypatch):
    from retriever import embeddings

    for name in embeddings.SHIPPED:
        monkeypatch.setitem(embeddings.SHIPPED, name, tmp_path)
        with pytest.raises(FileNotFoundError, match="python -m compressor.training.retriever"):
            embeddings.resolve_model(name)
    embeddings._shared_embedder.cache_clear()
    try:
        text = " ".join(f"Sentence {i} about the value {i}." for i in range(60))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = compress(text, "value 7", rate=0.2)
        assert any("using the base MiniLM" in str(w.message) for w in caught)
        assert r.compressed_tokens <= r.budget
    finally:
        embeddings._shared_embedder.cache_clear()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="blend"):
        compress("One. Two. Three. Four.", "two", target_tokens=2, blend=1.5)
    with pytest.raises(ValueError, match="embedder"):
        compress("One. Two. Three. Four.", "two", target_tokens=2, embedder="bert")
    with pytest.raises(ValueError, match="hops"):
        compress("One. Two. Three. Four.", "two", target_tokens=2, hops=3)


BRIDGE = ("Passage 1:\nReflektor\nReflektor is the fourth studio album by the indie rock band Arcade Fire. "
          "It was released in October 2013.\n\nPassage 2:\nArcade Fire\nArcade Fire was formed in 2001. "
          "The group is based in Montreal, Quebec.\n\nPassage 3:\nRock music\nRock music is a genre of "
          "popular music. Many rock albums are recorded in studios in cities.\n\nPassage 4:\nQuebec City\n"
          "Quebec City is the capital of the province of Quebec.")


def test_a_second_hop_lifts_the_bridge_passage_evidence():
    from compressor.methods.base import Region, Request
    from compressor.methods.condenser import Condenser
    from retriever.chunker import chunk

    question = "In which city is the band that recorded the album Reflektor based?"
    units = chunk([BRIDGE]).units
    bridge = next(i for i, u in enumerate(units) if BRIDGE[u.start : u.end].startswith("The group is based"))

    def scores(hops: int) -> np.ndarray:
        request = Request([BRIDGE], question, 20, "cl100k_base", [Region(0, 0, len(BRIDGE))], units,
                          {"hops": hops, "prefetch": False, "links": 0, "title_lines": 0})
        return Condenser().score(request.unit_texts(), question, request)

    one, two = scores(1), scores(2)
    assert np.all(two >= one)  # a second hop only lifts
    rank = lambda s: int((s > s[bridge]).sum())
    assert rank(two) < rank(one)


@pytest.mark.parametrize("folder", [MODEL_DIR, CONDENSER_RETRIEVER_DIR, CONDENSER_FAST_DIR])
def test_shipped_files_are_small(folder):
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    assert 1 < size <= 30, f"{size:.1f} MB"


@pytest.fixture
def embedders_used(monkeypatch) -> list[tuple[str, bool]]:
    """(name, int8) of every sentence embedder condenser asks for, recorded on the way."""
    from compressor.methods import condenser

    used: list[tuple[str, bool]] = []
    real = condenser._embedder
    monkeypatch.setattr(condenser, "_embedder",
                        lambda name, int8=False, device="cpu": used.append((name, int8)) or real(name))
    return used


def test_a_narrowed_input_is_read_by_the_cascade_embedder_unless_one_is_given(embedders_used):
    from compressor.methods import condenser

    long = " ".join(f"Depot {i} stores {i * 7} barrels of oil." for i in range(700))
    short = " ".join(f"Depot {i} stores {i * 7} barrels of oil." for i in range(40))
    assert "retrieve" in compress(long, "Which depot stores 700 barrels?", rate=0.1).timings
    compress(short, "Which depot stores 70 barrels?", rate=0.3)
    compress(long, "Which depot stores 700 barrels?", rate=0.1, embedder="minilm")
    compress(long, "Which depot stores 700 barrels?", rate=0.1, cascade_embedder="condenser",
             cascade_int8=False)
    assert embedders_used == [(condenser.CASCADE_EMBEDDER, condenser.CASCADE_INT8),
                              (condenser.EMBEDDER, False), ("minilm", False), ("condenser", False)]


def test_a_mid_size_input_is_read_whole_by_the_cascade_embedder(embedders_used):
    from compressor import count_tokens
    from compressor.methods import condenser

    mid = " ".join(f"Depot {i} stores {i * 7} barrels of oil." for i in range(320))
    assert condenser.LONG_INPUT_TOKENS < count_tokens(mid) <= 6000
    r = compress(mid, "Which depot stores 700 barrels?", rate=0.1)
    assert "retrieve" not in r.timings and "700 barrels" in r.text  # not narrowed: read whole
    assert embedders_used == [(condenser.CASCADE_EMBEDDER, condenser.CASCADE_INT8)]


def test_the_next_question_on_a_narrowed_context_finds_every_sentence_embedded():
    from compressor.methods.condenser import CASCADE_EMBEDDER, CASCADE_INT8, _embedder
    from retriever.chunker import chunk

    text = " ".join(f"Harbour note {i}: crane {i} lifts {i * 3} tonnes on pier {i % 7}." for i in range(400))
    r = compress(text, "Which crane lifts 300 tonnes?", rate=0.1)
    assert "retrieve" in r.timings  # the coarse stage narrowed the input
    embedder = _embedder(CASCADE_EMBEDDER, int8=CASCADE_INT8)
    embedder.wait_prefetch(60)
    units = chunk([text], page_tokens=128).units
    calls: list[int] = []
    real = embedder._encode
    embedder._encode = lambda texts: calls.append(len(texts)) or real(texts)
    try:
        embedder.encode([text[u.start : u.end] for u in units])
    finally:
        embedder._encode = real
    assert calls == []


TITLED = ("Passage 1:\nArcade Fire\nThe group formed in 2001 and won a Grammy in 2011. "
          "They are based in Montreal, Quebec.\n\n"
          "Passage 2:\nToronto Blue Jays\nThe Blue Jays play baseball in Toronto. "
          "They are based in the Rogers Centre.\n\n"
          "Passage 3:\nMaple syrup\nMaple syrup is made from the sap of maple trees. "
          "It is popular in Quebec.")


def test_a_sentence_is_read_under_its_passage_title():
    from compressor.methods.base import Region, Request
    from compressor.methods.condenser import Condenser
    from retriever.chunker import chunk

    question = "Which city is the band Arcade Fire based in?"
    units = chunk([TITLED]).units
    montreal = next(i for i, u in enumerate(units)
                    if TITLED[u.start : u.end].startswith("They are based in M"))

    def scores(titles: bool) -> np.ndarray:
        request = Request([TITLED], question, 20, "cl100k_base", [Region(0, 0, len(TITLED))], units,
                          {"titles": titles, "prefetch": False, "title_lines": 0})
        return Condenser().score(request.unit_texts(), question, request)

    on, off = scores(True), scores(False)
    assert int(np.argmax(on)) == montreal  # "Arcade Fire: They are based in Montreal, Quebec."
    assert on[montreal] - np.sort(on)[-2] > off[montreal] - np.sort(off)[-2]  # by a wider margin than alone
    r = compress(TITLED, question, target_tokens=12, coarse=False)
    assert "Montreal" in r.text


def test_the_best_sentences_keep_their_title_lines():
    question = "Which band is based in Montreal?"
    on = compress(TITLED, question, target_tokens=18, coarse=False)
    off = compress(TITLED, question, target_tokens=18, coarse=False, title_lines=0)
    assert "Arcade Fire\nThey are based in Montreal" in on.text  # "They" keeps its referent
    assert "Montreal" in off.text and "Arcade Fire" not in off.text
    with pytest.raises(ValueError, match="title_lines"):
        compress(TITLED, question, target_tokens=18, coarse=False, title_lines=-1)


def test_titles_first_lifts_only_the_titles_of_the_best_units():
    from compressor.methods.condenser import titles_first

    scores = np.array([0.1, 0.9, 0.5, 0.2, 0.3, 0.95])
    heads = [-1, 0, 0, -1, 3, -1]  # units 1-2 under title 0, unit 4 under title 3
    top2 = titles_first(scores, heads, 2)
    assert 0.9 < top2[0] < 0.95 and top2[3] == 0.2  # unit 4 is the fourth best
    assert list(np.argsort(-top2))[:3] == [5, 0, 1]  # the title goes just before its sentence
    assert titles_first(scores, heads, 3)[3] == 0.2 and titles_first(scores, heads, 4)[3] > 0.3
    assert np.array_equal(titles_first(scores, heads, 0), scores)


LINKED = ("Passage 1:\nReflektor\nReflektor is the fourth studio album by the Canadian indie rock band Arcade Fire. "
          "It was released on October 28, 2013. Reflektor was co-produced by James Murphy.\n\n"
          "Passage 2:\nWe Are The City\nWe Are The City is a Canadian rock band based in Vancouver.\n\n"
          "Passage 3:\nArcade Fire\nArcade Fire are an indie group from Montreal, Quebec. The group formed in 2001.\n\n"
          "Passage 4:\nThe Strokes\nThe Strokes are a rock band based in New York City.")


def test_a_linked_section_s_first_sentence_follows_the_sentence_naming_it():
    question = "Reflektor is by a rock band based in which city?"
    on = compress(LINKED, question, target_tokens=40, coarse=False)
    off = compress(LINKED, question, target_tokens=40, coarse=False, links=0)
    assert "Arcade Fire are an indie group from Montreal" in on.text  # the bridge passage's definition
    assert "Montreal" not in off.text  # the question alone ranks Vancouver's band higher
    with pytest.raises(ValueError, match="links"):
        compress(LINKED, question, target_tokens=40, coarse=False, links=True)


def test_leads_after_ranks_linked_units_just_below_their_linker():
    from compressor.methods.condenser import best_sentences, leads_after

    scores = np.array([0.9, 0.8, 0.1, 0.5, 0.95])
    lifted = leads_after(scores, {1: [2], 4: [3]})
    assert list(np.argsort(-lifted)) == [4, 3, 0, 1, 2] and 0.8 > lifted[2] > 0.5
    assert leads_after(scores, {1: [0]})[0] == 0.9  # never lowered
    assert best_sentences(scores, [-1, 0, 0, -1, 3], 2) == [4, 1]  # title lines 0 and 3 are skipped
