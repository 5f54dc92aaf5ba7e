"""The cascade: cheap page retrieval narrows long inputs before the embedded model reads them."""

import pytest

from compressor import count_tokens
from compressor.models import weights_available
from pipelines import Pipeline, PipelineConfig
from pipelines.config import CoarseConfig
from tests.fixtures.model_calls import count_model_calls

TOPICS = ["harbour cranes", "mountain railways", "river ferries", "tram depots", "canal locks"]
FACTS = [f"The {TOPICS[i % 5]} of district {i} were inspected in spring and found in fair order, "
         f"with report number {1000 + i} filed by the regional office." for i in range(400)]
NEEDLE = "The night ferry to Varnholm leaves pier 7 at 23:40 and carries up to 310 passengers."
LONG = " ".join(FACTS[:230] + [NEEDLE] + FACTS[230:])
QUESTION = "When does the night ferry to Varnholm leave?"

needs_model = pytest.mark.skipif(not weights_available(), reason="embedded model weights not built")


def test_coarse_target_adapts_to_the_rate_and_is_bounded():
    cfg = CoarseConfig()
    assert cfg.target_tokens(2000) == 3000          # 10k tokens at 5x: 1.5x the budget, capped
    assert cfg.target_tokens(1000) == 3000          # 10x: the multiple grows to 3x
    assert cfg.target_tokens(500) == 2000           # 20x: 4x at most
    assert cfg.target_tokens(3333) == int(1.25 * 3333)   # 3x: the budget itself needs more
    assert cfg.target_tokens(10_000) == 12_500      # 50k at 5x: min_multiple x the budget
    assert CoarseConfig(max_tokens=0).target_tokens(2000) == 2500


@pytest.fixture
def model_inputs(monkeypatch):
    """Every text the condenser model scores, recorded on the way in."""
    seen: list[str] = []
    from compressor import inference

    real = inference.score_texts

    def recording(model, tokenizer, texts, query, **kwargs):
        seen.extend(texts)
        return real(model, tokenizer, texts, query, **kwargs)

    monkeypatch.setattr(inference, "score_texts", recording)
    return seen


@needs_model
def test_cascade_narrows_what_the_model_reads(model_inputs):
    cfg = PipelineConfig()
    n = count_tokens(LONG)
    r = Pipeline(cfg).run(LONG, QUESTION, rate=0.1, dense_weight=0.0, blend=0.5)  # the token model runs
    read = sum(count_tokens(t) for t in model_inputs)
    assert n > 5000 and read <= cfg.coarse.target_tokens(r.budget) < n / 2
    assert "23:40" in r.text
    assert r.budget * 0.9 <= r.compressed_tokens <= r.budget
    assert {"chunk", "retrieve", "compress", "compress.score", "compress.relevance", "fit",
            "total"} <= set(r.timings)


@needs_model
def test_without_the_cascade_the_model_reads_everything(model_inputs):
    r = Pipeline().run(LONG, QUESTION, rate=0.1, dense_weight=0.0, coarse=False, blend=0.5)
    assert sum(len(t) for t in model_inputs) >= len(LONG) - 10
    assert "retrieve" not in r.timings and r.compressed_tokens <= r.budget


def test_by_default_the_retriever_embeds_only_what_the_cascade_keeps(monkeypatch, model_inputs):
    from retriever.embeddings import Embedder

    embedded: list[str] = []
    real = Embedder.encode

    def recording(self, texts):
        embedded.extend(texts)
        return real(self, texts)

    monkeypatch.setattr(Embedder, "encode", recording)
    cfg = PipelineConfig()
    r = Pipeline(cfg).run(LONG, QUESTION, rate=0.1)
    sentences = {t for t in embedded if not t.startswith(QUESTION)}  # the question and its second hops
    assert sentences and sum(count_tokens(t) for t in sentences) <= cfg.coarse.target_tokens(r.budget)
    assert "23:40" in r.text and not model_inputs  # blend=1: the token model is not run
    assert {"retrieve", "compress.relevance"} <= set(r.timings) and "compress.score" not in r.timings


@needs_model
def test_cascade_without_a_query_is_question_agnostic_and_exact():
    r = Pipeline().run(LONG, None, target_tokens=300, dense_weight=0.0)
    assert "retrieve" in r.timings and 270 <= r.compressed_tokens <= 300


def test_kept_pages_that_touch_form_one_region():
    from pipelines.pipeline import _merge_adjacent
    from retriever.chunker import Page

    pages = [Page(0, 0, 10, (0, 1), 5), Page(0, 11, 20, (2,), 5), Page(0, 40, 50, (5,), 5), Page(1, 0, 9, (6,), 5)]
    regions = _merge_adjacent(pages)
    assert [(g.doc, g.start, g.end) for g in regions] == [(0, 0, 20), (0, 40, 50), (1, 0, 9)]


def test_second_question_reuses_chunks_bm25_and_embeddings(monkeypatch):
    """The same context asked again: chunking and the BM25 index come from cache, and only the new
    query is embedded."""
    from retriever.chunker import _chunk
    from retriever.embeddings import get_embedder
    from retriever.lexical import _index

    calls = count_model_calls(monkeypatch, get_embedder())
    text = LONG.replace("district", "ward")  # content no other test has cached
    pipe = Pipeline(PipelineConfig(coarse={"enabled": False}))
    pipe.run(text, QUESTION, rate=0.2, method="extractive")
    first = sum(calls)
    chunk_hits, index_hits = _chunk.cache_info().hits, _index.cache_info().hits
    calls.clear()
    pipe.run(text, "Which report did the regional office file for ward 12?", rate=0.2, method="extractive")
    assert first > 100 and sum(calls) == 1  # only the new question
    assert _chunk.cache_info().hits > chunk_hits and _index.cache_info().hits > index_hits



def test_config_sets_default_method_options_and_calls_override_them(tmp_path, monkeypatch):
    from compressor.methods.extractive import Extractive

    path = tmp_path / "fast.yaml"
    path.write_text("method_options:\n  extractive:\n    dense_weight: 0.0\n")
    cfg = PipelineConfig.from_file(path)
    assert cfg.method_options == {"extractive": {"dense_weight": 0.0}}
    seen = []
    real = Extractive.score

    def spy(self, texts, query, request):
        seen.append(request.options.get("dense_weight"))
        return real(self, texts, query, request)

    monkeypatch.setattr(Extractive, "score", spy)
    Pipeline(cfg).run(LONG, QUESTION, rate=0.1, method="extractive")
    Pipeline(cfg).run(LONG, QUESTION, rate=0.1, method="extractive", dense_weight=0.5)
    assert seen == [0.0, 0.5]
