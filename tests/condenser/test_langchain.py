"""CondenserCompressor on real HotpotQA paragraphs: direct, in a ContextualCompressionRetriever, in LCEL."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise

import pytest

pytest.importorskip("langchain_core")

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from pydantic import ValidationError

from compressor import count_tokens
from compressor.budget import resolve_budget
from condenser.langchain import CondenserCompressor
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve, service_app

try:
    from langchain_classic.retrievers import ContextualCompressionRetriever
except ImportError:  # older layouts kept it in langchain itself
    from langchain.retrievers import ContextualCompressionRetriever

# Query-aware but model-free (BM25 only, no dense coarse stage), so the tests take milliseconds.
BM25 = {"method": "extractive", "options": {"dense_weight": 0.0, "coarse": False}}
CONDENSER_KEYS = {"condenser_original_tokens", "condenser_compressed_tokens", "condenser_relevance",
                  "condenser_method", "condenser_dropped"}


class ListRetriever(BaseRetriever):
    """An in-memory retriever that returns its documents for any query, in order."""

    docs: list[Document]

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return list(self.docs)


@pytest.fixture(scope="module")
def items(shared_data):
    return hotpotqa_items(shared_data, 3)


def documents(item) -> list[Document]:
    return [Document(page_content=text, metadata={"title": title, "source": "hotpotqa"}, id=f"p{i}")
            for i, (text, (title, _)) in enumerate(zip(item["paragraphs"], item["context"]))]


def gold_titles(item) -> set[str]:
    return {title for title, _ in item["supporting_facts"]}


def assert_pieces_of(original: str, compressed: str) -> None:
    """``compressed`` is extractive: its words are a subsequence of ``original``'s words (``…`` marks a cut;
    a word just before a cut may leave off its trailing ``,;:``, as the word pruner documents)."""
    words = iter(original.split())
    out = compressed.split()
    cut_before = [i + 1 < len(out) and out[i + 1] == "…" for i in range(len(out))]
    assert all(any(w == o or (cut and o.rstrip(",;:") == w) for o in words)
               for w, cut in zip(out, cut_before) if w != "…"), compressed


def test_per_document_budget_keeps_and_extends_metadata(items):
    docs = documents(items[0])
    out = CondenserCompressor(rate=0.3, mode="per_document", **BM25).compress_documents(
        docs, items[0]["question"])
    assert len(out) == len(docs)
    for before, after in zip(docs, out):
        meta = after.metadata
        assert after.id == before.id and meta["title"] == before.metadata["title"]
        assert CONDENSER_KEYS <= meta.keys() and meta["condenser_method"] == "extractive"
        assert meta["condenser_original_tokens"] == count_tokens(before.page_content)
        assert meta["condenser_compressed_tokens"] == count_tokens(after.page_content)
        # a rate's budget, with its floor for short documents (compressor.budget.MIN_RATE_BUDGET)
        assert meta["condenser_compressed_tokens"] <= resolve_budget(meta["condenser_original_tokens"], 0.3, None)
        assert 0.0 <= meta["condenser_relevance"] <= 1.0 and meta["condenser_dropped"] == 0
        assert_pieces_of(before.page_content, after.page_content)
    assert "condenser_method" not in docs[0].metadata  # the input documents are not mutated


def test_joint_budget_is_query_aware_and_drops_empty_documents(items):
    for item in items:
        docs = documents(item)
        out = CondenserCompressor(target_tokens=150, mode="joint", **BM25).compress_documents(
            docs, item["question"])
        assert 0 < len(out) < len(docs)  # one budget for all: the least relevant documents vanish
        assert sum(d.metadata["condenser_compressed_tokens"] for d in out) <= 150
        assert gold_titles(item) & {d.metadata["title"] for d in out}
        order = [d.id for d in docs]
        assert [d.id for d in out] == sorted((d.id for d in out), key=order.index)
        assert all(d.page_content.strip() for d in out)


def test_joint_mode_keeps_the_overlap_of_retrieved_chunks_once(items):
    """A splitter with chunk_overlap: neighbouring chunks retrieved together share a paragraph."""
    item = items[0]
    paragraphs = [d.page_content for d in documents(item)]
    chunks = [Document(page_content=f"{a}\n\n{b}", id=str(i)) for i, (a, b) in
              enumerate(pairwise(paragraphs))]  # chunk i and i + 1 share paragraph i + 1
    # room for every paragraph once, plus joins and the title lines too short (< 8 words) to be seen as repeats
    budget = int(1.1 * count_tokens("\n\n".join(paragraphs)))
    out = CondenserCompressor(target_tokens=budget, mode="joint", **BM25).compress_documents(
        chunks, item["question"])
    text = "\n\n".join(d.page_content for d in out)
    assert all(text.count(p) == 1 for p in paragraphs)  # about half the chunks' tokens held everything


def test_blank_documents_are_dropped_and_empty_input_is_fine(items):
    docs = documents(items[0])[:3] + [Document(page_content="  \n ", metadata={"title": "blank"})]
    titles = [d.metadata["title"] for d in docs[:3]]
    per_doc = CondenserCompressor(method="truncate", rate=0.5, mode="per_document").compress_documents(docs, "q")
    assert [d.metadata["title"] for d in per_doc] == titles
    joint = CondenserCompressor(method="truncate", rate=0.5, mode="joint").compress_documents(docs, "q")
    assert [d.metadata["title"] for d in joint] == titles[:len(joint)] and len(joint) < 3  # the tail is cut
    assert CondenserCompressor().compress_documents([], "q") == []


def test_defaults_and_validation():
    default = CondenserCompressor()
    assert (default.method, default.mode, default.base_url) == ("condenser", "joint", None)
    with pytest.raises(ValidationError):
        CondenserCompressor(rate=1.5)
    with pytest.raises(ValidationError):
        CondenserCompressor(mode="everything")
    assert "sk-secret" not in repr(CondenserCompressor(base_url="http://x", api_key="sk-secret"))


def test_inside_contextual_compression_retriever(items):
    item = items[1]
    retriever = ContextualCompressionRetriever(
        base_compressor=CondenserCompressor(target_tokens=120, mode="joint", **BM25),
        base_retriever=ListRetriever(docs=documents(item)))
    out = retriever.invoke(item["question"])
    assert out and all(CONDENSER_KEYS <= d.metadata.keys() for d in out)
    assert gold_titles(item) & {d.metadata["title"] for d in out}
    assert sum(count_tokens(d.page_content) for d in out) <= 120


async def test_async_retriever_matches_sync(items):
    item = items[2]
    retriever = ContextualCompressionRetriever(
        base_compressor=CondenserCompressor(rate=0.4, **BM25),
        base_retriever=ListRetriever(docs=documents(item)))
    sync_out = retriever.invoke(item["question"])
    async_out = await retriever.ainvoke(item["question"])
    assert [(d.page_content, d.metadata) for d in async_out] == [(d.page_content, d.metadata) for d in sync_out]


def test_in_an_lcel_chain(items):
    item = items[0]
    retriever = ContextualCompressionRetriever(
        base_compressor=CondenserCompressor(target_tokens=200, mode="joint", **BM25),
        base_retriever=ListRetriever(docs=documents(item)))
    prompt = ChatPromptTemplate.from_template("Answer from the context.\n{context}\n\nQuestion: {question}")
    chain = ({"context": retriever | RunnableLambda(lambda ds: "\n\n".join(d.page_content for d in ds)),
              "question": RunnablePassthrough()}
             | prompt | RunnableLambda(lambda value: value.to_string()))  # a stand-in LLM: echo the prompt
    rendered = chain.invoke(item["question"])
    assert item["question"] in rendered
    assert "The main campus in Lawrence" in rendered  # the supporting fact survived
    raw = count_tokens("\n\n".join(item["paragraphs"]))
    assert count_tokens(rendered) < 0.2 * raw


@pytest.fixture(scope="module")
def service():
    with serve(service_app()) as url:
        yield url


@pytest.mark.parametrize("mode", ["per_document", "joint"])
def test_remote_service_gives_the_in_process_result(items, service, mode):
    docs, question = documents(items[0]), items[0]["question"]
    local = CondenserCompressor(rate=0.3, mode=mode, **BM25).compress_documents(docs, question)
    remote = CondenserCompressor(rate=0.3, mode=mode, base_url=service, **BM25).compress_documents(
        docs, question)
    assert [(d.page_content, d.metadata) for d in remote] == [(d.page_content, d.metadata) for d in local]


@pytest.mark.parametrize("mode", ["per_document", "joint"])
async def test_remote_async_matches_remote_sync(items, service, mode):
    docs, question = documents(items[1]), items[1]["question"]
    compressor = CondenserCompressor(target_tokens=60, mode=mode, base_url=service, max_concurrency=3, **BM25)
    sync_out = compressor.compress_documents(docs, question)
    async_out = await compressor.acompress_documents(docs, question)
    assert [(d.page_content, d.metadata) for d in async_out] == [(d.page_content, d.metadata) for d in sync_out]
    assert all(d.metadata["condenser_compressed_tokens"] <= 60 for d in async_out)


def test_importable_without_the_api_or_fastapi():
    code = ("import sys; sys.modules.update(fastapi=None, uvicorn=None, api=None, redis=None)\n"
            "from condenser.langchain import CondenserCompressor\n"
            "print(CondenserCompressor(method='truncate', rate=0.5).method)")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "truncate"


@pytest.mark.slow
def test_no_argument_compressor_runs_the_default_method_in_process(items):
    item = items[0]
    out = CondenserCompressor(mode="joint", target_tokens=200).compress_documents(documents(item),
                                                                                  item["question"])
    assert out and out[0].metadata["condenser_method"] == "condenser"
    assert gold_titles(item) & {d.metadata["title"] for d in out}


def test_relevance_is_absolute_across_documents_and_calls(items):
    """Issue 32.2: a document's relevance does not depend on its companions (no per-call rescaling)."""
    item = items[0]
    docs, question = documents(item), item["question"]

    def relevance(out):
        return {d.id: d.metadata["condenser_relevance"] for d in out}

    together = relevance(CondenserCompressor(rate=1.0, **BM25).compress_documents(docs, question))
    pair = relevance(CondenserCompressor(rate=1.0, **BM25).compress_documents(docs[:2], question))
    per_doc = relevance(CondenserCompressor(rate=1.0, mode="per_document", **BM25).compress_documents(
        docs, question))
    assert len(together) == len(per_doc) == len(docs) and len(pair) == 2
    assert all(per_doc[k] == pytest.approx(v, abs=1e-5) for k, v in together.items())
    assert all(together[k] == pytest.approx(v, abs=1e-5) for k, v in pair.items())
    titles = {d.id: d.metadata["title"] for d in docs}
    gold = [v for k, v in together.items() if titles[k] in gold_titles(item)]
    other = sorted(v for k, v in together.items() if titles[k] not in gold_titles(item))
    assert max(gold) > other[len(other) // 2]  # a gold paragraph beats the median distractor


@pytest.mark.parametrize("mode", ["joint", "per_document"])
def test_top_n_keeps_the_most_relevant_documents_and_reports_the_drops(items, mode):
    item = items[1]
    docs = documents(item)
    scored = CondenserCompressor(rate=1.0, mode="per_document", **BM25).compress_documents(docs, item["question"])
    ranking = sorted(scored, key=lambda d: -d.metadata["condenser_relevance"])
    out = CondenserCompressor(rate=0.5, mode=mode, top_n=3, **BM25).compress_documents(docs, item["question"])
    assert {d.id for d in out} <= {d.id for d in ranking[:3]} and len(out) >= 2
    assert all(d.metadata["condenser_dropped"] == len(docs) - len(out) for d in out)
    order = [d.id for d in docs]
    assert [d.id for d in out] == sorted((d.id for d in out), key=order.index)


def test_min_relevance_and_its_embeddings_filter_alias(items):
    item = items[2]
    docs = documents(item)
    scores = sorted(d.metadata["condenser_relevance"] for d in CondenserCompressor(
        rate=1.0, mode="per_document", **BM25).compress_documents(docs, item["question"]))
    cut = scores[len(scores) // 2]
    out = CondenserCompressor(rate=0.5, min_relevance=cut, **BM25).compress_documents(docs, item["question"])
    alias = CondenserCompressor(rate=0.5, similarity_threshold=cut, **BM25).compress_documents(
        docs, item["question"])
    assert out and all(d.metadata["condenser_relevance"] >= cut for d in out)
    assert [(d.page_content, d.metadata) for d in alias] == [(d.page_content, d.metadata) for d in out]
    with pytest.raises(ValidationError):
        CondenserCompressor(min_relevance=0.2, similarity_threshold=0.5)


def test_joint_default_keeps_a_short_relevant_document_whole(items):
    """Issue 32.2: a short relevant document keeps its one fact whole under the shared default budget."""
    item = items[0]
    fact = Document(page_content="The Jayhawks' mascot is named Big Jay.", id="fact")
    docs = [*documents(item), fact]
    question = "What is the name of the Jayhawks' mascot?"
    joint = CondenserCompressor(rate=0.2, **BM25).compress_documents(docs, question)
    assert [d.page_content for d in joint if d.id == "fact"] == [fact.page_content]
    assert sum(d.metadata["condenser_compressed_tokens"] for d in joint) <= 0.2 * sum(
        count_tokens(d.page_content) for d in docs) + 1
