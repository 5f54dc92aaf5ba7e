"""CondenserNodePostprocessor inside real llama-index-core query engines over HotpotQA paragraphs.

The index uses llama-index-core's MockEmbedding (constant vectors: retrieval returns every paragraph) and
MockLLM (it echoes the prompt, so the answer shows what the LLM was given); the postprocessor runs for real.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import ValidationError

from compressor import count_tokens
from compressor.document_filter import document_relevance
from condenser.llamaindex import CondenserNodePostprocessor
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve, service_app

# Query-aware but model-free (BM25 only, no dense coarse stage), so most tests take milliseconds.
BM25 = {"method": "extractive", "additional_compress_kwargs": {"dense_weight": 0.0, "coarse": False}}
CONDENSER_KEYS = {"condenser_original_tokens", "condenser_compressed_tokens", "condenser_relevance",
                  "condenser_method", "condenser_dropped"}


@pytest.fixture(scope="module")
def items(shared_data):
    return hotpotqa_items(shared_data, 3)


def index_of(item) -> VectorStoreIndex:
    docs = [Document(text=text, metadata={"title": title}) for text, (title, _) in
            zip(item["paragraphs"], item["context"])]
    return VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))


def engine(item, postprocessor: CondenserNodePostprocessor):
    return index_of(item).as_query_engine(llm=MockLLM(), similarity_top_k=len(item["paragraphs"]),
                                          node_postprocessors=[postprocessor])


def gold_titles(item) -> set[str]:
    return {title for title, _ in item["supporting_facts"]}


def nodes_of(item) -> list[NodeWithScore]:
    return [NodeWithScore(node=TextNode(text=text, id_=f"p{i}", metadata={"title": title}), score=1.0 - i / 100)
            for i, (text, (title, _)) in enumerate(zip(item["paragraphs"], item["context"]))]


def test_query_engine_compresses_retrieved_nodes_on_the_embedded_default(items):
    """The no-argument method (Condenser's own retriever) inside a real RetrieverQueryEngine."""
    for item in items[:2]:
        response = engine(item, CondenserNodePostprocessor(target_token=150)).query(item["question"])
        kept = response.source_nodes
        assert 0 < len(kept) < len(item["paragraphs"])  # one budget for all: the least relevant vanish
        assert sum(n.node.metadata["condenser_compressed_tokens"] for n in kept) <= 150
        assert gold_titles(item) & {n.node.metadata["title"] for n in kept}
        for n in kept:
            meta = n.node.metadata
            assert CONDENSER_KEYS <= meta.keys() and meta["condenser_method"] == "condenser"
            assert meta["condenser_compressed_tokens"] == count_tokens(n.node.get_content())
            assert meta["condenser_compressed_tokens"] <= meta["condenser_original_tokens"]
            assert -1.0 <= meta["condenser_relevance"] <= 1.0
            assert meta["condenser_dropped"] == len(item["paragraphs"]) - len(kept)
        prompt = str(response)  # MockLLM echoes its prompt: the compressed context, without our bookkeeping
        assert all(n.node.get_content() in prompt for n in kept)
        assert "condenser_relevance" not in prompt and "title: " in prompt
        assert count_tokens(prompt) < 0.4 * count_tokens("\n\n".join(item["paragraphs"]))


async def test_async_query_matches_sync(items):
    item = items[2]
    query_engine = engine(item, CondenserNodePostprocessor(target_token=120, **BM25))
    sync_nodes = query_engine.query(item["question"]).source_nodes
    async_nodes = (await query_engine.aquery(item["question"])).source_nodes
    assert [(n.node.get_content(), n.node.metadata) for n in async_nodes] == \
        [(n.node.get_content(), n.node.metadata) for n in sync_nodes]
    assert sum(count_tokens(n.node.get_content()) for n in async_nodes) <= 120


def test_relevance_decides_which_nodes_keep_room(items):
    item = items[0]
    out = CondenserNodePostprocessor(target_token=150, **BM25).postprocess_nodes(
        nodes_of(item), query_str=item["question"])
    by_title = {n.node.metadata["title"]: n.node.metadata["condenser_relevance"] for n in out}
    gold = [by_title[t] for t in gold_titles(item) if t in by_title]
    assert gold and max(gold) == max(by_title.values())  # a supporting paragraph scores highest
    order = [n.node.node_id for n in nodes_of(item)]
    assert [n.node.node_id for n in out] == sorted((n.node.node_id for n in out), key=order.index)
    assert all(n.score == pytest.approx(1.0 - int(n.node.node_id[1:]) / 100) for n in out)  # scores kept


def test_top_n_and_min_relevance_drop_whole_nodes_by_absolute_relevance(items):
    item, nodes = items[1], nodes_of(items[1])
    question = item["question"]
    scores = document_relevance([n.node.get_content() for n in nodes], question)
    top = CondenserNodePostprocessor(rate=0.5, top_n=2, **BM25).postprocess_nodes(nodes, query_str=question)
    best_two = sorted(range(len(nodes)), key=lambda i: (-scores[i], i))[:2]
    assert [n.node.node_id for n in top] == [f"p{i}" for i in sorted(best_two)]
    assert all(n.node.metadata["condenser_dropped"] == len(nodes) - 2 for n in top)
    assert [n.node.metadata["condenser_relevance"] for n in top] == [scores[i] for i in sorted(best_two)]
    # the two kept nodes share the budget of all ten: at rate 0.5 they come back whole
    assert all(n.node.get_content() == nodes[int(n.node.node_id[1:])].node.get_content() for n in top)

    floor = sorted(scores)[len(scores) // 2]
    high = CondenserNodePostprocessor(rate=0.5, min_relevance=floor, **BM25).postprocess_nodes(
        nodes, query_str=question)
    assert 0 < len(high) <= len([s for s in scores if s >= floor])
    assert all(n.node.metadata["condenser_relevance"] >= floor for n in high)


def test_budget_arguments_match_longllmlingua(items):
    item = items[0]
    nodes, question = nodes_of(item), item["question"]
    total = sum(count_tokens(n.node.get_content()) for n in nodes)
    by_rate = CondenserNodePostprocessor(rate=0.2, **BM25).postprocess_nodes(nodes, query_str=question)
    assert sum(n.node.metadata["condenser_compressed_tokens"] for n in by_rate) <= 0.2 * total + len(nodes)
    instruction = "Given the context, please answer the final question. " * 5
    budget = CondenserNodePostprocessor(target_token=200, instruction_str=instruction, **BM25)
    out = budget.postprocess_nodes(nodes, query_str=question)
    assert sum(n.node.metadata["condenser_compressed_tokens"] for n in out) <= 200 - count_tokens(instruction)
    assert CondenserNodePostprocessor().target_token == -1  # LongLLMLingua's "no target" value


def test_blank_nodes_no_query_and_inputs_not_mutated(items):
    nodes = nodes_of(items[0])[:3] + [NodeWithScore(node=TextNode(text=" \n "), score=0.1)]
    before = [n.node.get_content() for n in nodes]
    out = CondenserNodePostprocessor(method="truncate", rate=0.5).postprocess_nodes(nodes)
    assert 0 < len(out) < 3  # the tail is cut; the blank node is gone
    assert [n.node.get_content() for n in nodes] == before and "condenser_method" not in nodes[0].node.metadata
    assert CondenserNodePostprocessor().postprocess_nodes([], QueryBundle("q")) == []


def test_validation_and_secret():
    with pytest.raises(ValidationError):
        CondenserNodePostprocessor(rate=1.5)
    with pytest.raises(ValidationError):
        CondenserNodePostprocessor(top_n=0)
    assert "sk-secret" not in repr(CondenserNodePostprocessor(base_url="http://x", api_key="sk-secret"))


@pytest.fixture(scope="module")
def service():
    with serve(service_app()) as url:
        yield url


async def test_remote_service_gives_the_in_process_result_sync_and_async(items, service):
    item = items[1]
    local = CondenserNodePostprocessor(target_token=100, **BM25)
    remote = CondenserNodePostprocessor(target_token=100, base_url=service, **BM25)
    expected = [(n.node.get_content(), n.node.metadata) for n in
                local.postprocess_nodes(nodes_of(item), query_str=item["question"])]
    assert [(n.node.get_content(), n.node.metadata) for n in
            remote.postprocess_nodes(nodes_of(item), query_str=item["question"])] == expected
    async_out = await remote.apostprocess_nodes(nodes_of(item), query_str=item["question"])
    assert [(n.node.get_content(), n.node.metadata) for n in async_out] == expected


def test_importable_without_the_api_or_fastapi():
    code = ("import sys; sys.modules.update(fastapi=None, uvicorn=None, api=None, redis=None)\n"
            "from condenser.llamaindex import CondenserNodePostprocessor\n"
            "print(CondenserNodePostprocessor(method='truncate', rate=0.5).method)")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "truncate"


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # litellm must not fetch its cost map: offline
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                          env=env)


def test_package_exports_the_adapters_lazily():
    import condenser
    import condenser.llamaindex

    assert condenser.CondenserNodePostprocessor is condenser.llamaindex.CondenserNodePostprocessor
    assert {"CondenserNodePostprocessor", "CondenserHook", "CondenserCompressor"} <= set(dir(condenser))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        condenser.Nope  # noqa: B018
    # a plain import loads no framework, and works with none installed (each blocked here)
    done = _python("import sys; sys.modules.update({m: None for m in ('llama_index', 'llama_index.core', "
                   "'litellm', 'langchain_core')})\n"
                   "import condenser\nfrom condenser import *\n"
                   "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                   "('llama_index', 'litellm', 'langchain_core', 'fastapi') and sys.modules[m] is not None))\n"
                   "print(compress('One. Two. Three.', rate=0.9, method='truncate').text != '')\n"
                   "try:\n    condenser.CondenserNodePostprocessor\nexcept ImportError as exc:\n    print(exc)")
    assert done.returncode == 0, done.stderr
    loaded, compressed, missing = done.stdout.strip().splitlines()
    assert loaded == "[]" and compressed == "True"
    assert "pip install 'condenser[llamaindex]'" in missing


def test_package_exports_the_litellm_hook_lazily():
    pytest.importorskip("litellm")
    done = _python("import sys, condenser\nassert 'litellm' not in sys.modules\n"
                   "import condenser.litellm_hook as hook\nprint(condenser.CondenserHook is hook.CondenserHook)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
