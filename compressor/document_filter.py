"""Documents that compete for one budget: absolute relevance, ``top_n`` and ``min_relevance``.

A document's relevance is the retriever's cosine similarity between the question and the document's best
sentence (the shipped retriever, the one the pipeline's dense scoring uses). It is absolute: it does not
depend on the other documents of the call or on earlier calls, so scores compare across documents and
calls, like LangChain's ``EmbeddingsFilter``. The best sentence rather than the whole document, so a
long document with one relevant sentence is not drowned by the rest of it.

Options of ``compress(list_of_docs, query, ...)`` (and the LangChain / LlamaIndex adapters):

- ``min_relevance`` (alias ``similarity_threshold``): drop documents scoring below it before compressing;
- ``top_n``: keep at most the ``top_n`` most relevant documents (ties: earlier first);
- ``document_relevance=True``: only report the scores.

Dropped documents come back as ``""`` in ``result.documents``; ``result.info`` holds
``document_relevance`` (one score per input document) and ``dropped_documents`` (their indices). The
budget is that of the whole input, so what a dropped document would have used goes to the kept ones.
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any

from compressor.budget import join_documents, resolve_budget
from compressor.result import CompressionResult, Span, record_call
from compressor.tokens import count_tokens
from compressor.validation import check_budget_args, check_query, documents_of

if TYPE_CHECKING:
    from pipelines.pipeline import Pipeline

#: the options this module handles; ``similarity_threshold`` is LangChain's name for ``min_relevance``
FILTER_OPTIONS = frozenset({"top_n", "min_relevance", "similarity_threshold", "document_relevance"})


def document_relevance(documents: list[str], query: str) -> list[float]:
    """Per document, the retriever's cosine between ``query`` and its best sentence (0.0 if it has none)."""
    from retriever.chunker import document_units
    from retriever.embeddings import get_embedder

    texts, owner = [], []
    for d, text in enumerate(documents):
        units, _ = document_units(text, d)
        for u in units:
            piece = text[u.start : u.end].strip()
            if piece:
                texts.append(piece)
                owner.append(d)
    best = [0.0] * len(documents)
    if not texts:
        return best
    embedder = get_embedder()
    sims = embedder.encode(texts) @ embedder.encode([query])[0]
    for d, s in zip(owner, sims.tolist()):
        best[d] = max(best[d], round(float(s), 6))
    return best


def _filter_options(options: dict[str, Any]) -> tuple[int | None, float | None, bool]:
    """``(top_n, min_relevance, report)`` popped from ``options`` and checked."""
    top_n = options.pop("top_n", None)
    threshold = options.pop("min_relevance", None)
    alias = options.pop("similarity_threshold", None)
    if threshold is not None and alias is not None:
        raise ValueError("give min_relevance or similarity_threshold (its LangChain alias), not both")
    threshold = alias if threshold is None else threshold
    report = options.pop("document_relevance", None) or False
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
        raise ValueError(f"top_n must be a positive int, got {top_n!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, Real)):
        raise TypeError(f"min_relevance must be a number (a cosine in [-1, 1]), got {type(threshold).__name__}")
    if not isinstance(report, bool):
        raise TypeError(f"document_relevance must be a bool, got {type(report).__name__}")
    return top_n, None if threshold is None else float(threshold), report


def filter_options(question: str | None, top_n: int | None = None,
                   min_relevance: float | None = None) -> dict[str, Any]:
    """The ``compress`` options of a joint document filter, as the LangChain and LlamaIndex adapters pass
    them: the documents' absolute relevance and ``min_relevance`` (both need a question), and ``top_n``,
    each only when it applies."""
    options: dict[str, Any] = {"document_relevance": True} if question else {}
    if top_n is not None:
        options["top_n"] = top_n
    if min_relevance is not None and question:
        options["min_relevance"] = min_relevance
    return options


def kept_documents(scores: list[float] | None, count: int, top_n: int | None,
                   min_relevance: float | None) -> list[int]:
    """Indices (in input order) of the documents that pass ``min_relevance`` and ``top_n``; without scores
    (no question) ``top_n`` keeps the first documents."""
    keep = list(range(count))
    if scores is None:
        return keep[:top_n] if top_n is not None else keep
    if min_relevance is not None:
        keep = [i for i in keep if scores[i] >= min_relevance]
    if top_n is not None and len(keep) > top_n:
        best = sorted(keep, key=lambda i: (-scores[i], i))[:top_n]
        keep = sorted(best)
    return keep


def run_with_document_filter(pipeline: Pipeline, context: Any, query: Any, rate: Any, target_tokens: Any,
                             method: str | None, options: dict[str, Any]) -> CompressionResult:
    """``pipeline.run`` with the documents of ``context`` scored and filtered first (see module)."""
    options = dict(options)
    top_n, min_relevance, _ = _filter_options(options)
    documents, is_list = documents_of(context)
    query = check_query(query)
    rate, target_tokens = check_budget_args(rate, target_tokens)
    if min_relevance is not None and query is None:
        raise ValueError("min_relevance needs a query: relevance is measured against the question")
    encoding = pipeline._encoding(options)
    scores = document_relevance(documents, query) if query is not None else None
    keep = kept_documents(scores, len(documents), top_n, min_relevance)
    original = count_tokens(join_documents(documents), encoding)
    budget = resolve_budget(original, pipeline._rate(rate), target_tokens)
    if keep:
        inner = pipeline.run([documents[i] for i in keep], query, target_tokens=budget, method=method,
                             **options)
        texts = [""] * len(documents)
        for j, text in zip(keep, inner.documents or []):
            texts[j] = text
        kept = [Span(doc=keep[s.doc], start=s.start, end=s.end, score=s.score) for s in inner.kept]
        text, info, name = inner.text, dict(inner.info), inner.method
    else:
        texts, kept, text, info = [""] * len(documents), [], "", {}
        name = method or pipeline.config.method
    tokens = count_tokens(text, encoding) if text else 0
    info.update(document_relevance=scores,
                dropped_documents=[i for i in range(len(documents)) if i not in set(keep)])
    result = CompressionResult(
        text=text, original_tokens=original, compressed_tokens=tokens,
        ratio=round(original / max(1, tokens), 4), method=name, kept=kept,
        documents=texts if is_list else None, encoding=encoding, budget=budget, info=info,
        timings=inner.timings if keep else {})
    return record_call(result, options.get("model"))
