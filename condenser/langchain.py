"""LangChain adapter: ``CondenserCompressor``, a ``BaseDocumentCompressor`` for retrieved documents.

Use it wherever LangChain takes a document compressor, e.g. ``ContextualCompressionRetriever``::

    retriever = ContextualCompressionRetriever(base_compressor=CondenserCompressor(rate=0.3),
                                               base_retriever=my_retriever)

With no arguments it compresses in-process on the default method; with ``base_url=`` it calls a running
Condenser service (``condenser.Client``). Needs only ``langchain-core`` (``pip install condenser[langchain]``),
not the API's dependencies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from compressor.document_filter import filter_options, kept_documents
from compressor.result import CompressionResult
from compressor.tokens import count_tokens

try:
    from langchain_core.callbacks import Callbacks
    from langchain_core.documents import BaseDocumentCompressor, Document
    from langchain_core.runnables import run_in_executor
except ImportError as exc:  # the adapter is optional: say how to get it instead of a bare traceback
    raise ImportError("condenser.langchain needs langchain-core: pip install 'condenser[langchain]'") from exc

__all__ = ["CondenserCompressor"]

META_PREFIX = "condenser_"


class CondenserCompressor(BaseDocumentCompressor):
    """Question-aware compression of retrieved documents, to a rate or a token budget.

    ``mode="joint"`` (the default) compresses all documents together to one budget, so the most relevant
    documents keep more and irrelevant ones may vanish; ``mode="per_document"`` gives every document its
    own budget (``rate`` / ``target_tokens`` each). ``top_n`` and ``min_relevance`` (alias
    ``similarity_threshold``) drop whole documents first, as LangChain's ``EmbeddingsFilter`` does; in joint
    mode their budget goes to the documents kept.

    Each returned document keeps its metadata and gains ``condenser_original_tokens``,
    ``condenser_compressed_tokens`` (target-LLM tokens), ``condenser_relevance`` (the retriever's cosine
    between the question and the document's best sentence: one absolute scale across documents and calls,
    ``compressor.document_filter``; None without a question), ``condenser_dropped`` (how many documents of
    this call were not returned) and ``condenser_method``. A dropped document is simply not returned; the
    order of the rest is kept.
    """

    method: str = "condenser"
    rate: float | None = Field(default=None, gt=0.0, le=1.0, description="fraction of tokens kept")
    target_tokens: int | None = Field(default=None, gt=0, description="token ceiling (per doc or joint)")
    mode: Literal["per_document", "joint"] = "joint"
    top_n: int | None = Field(default=None, ge=1, description="keep at most this many documents")
    min_relevance: float | None = Field(default=None, description="drop documents less relevant than this")
    similarity_threshold: float | None = Field(default=None, description="EmbeddingsFilter's name of min_relevance")
    options: dict[str, Any] = Field(default_factory=dict, description="passed to compress() as **options")
    base_url: str | None = Field(default=None, description="a Condenser service; None runs in-process")
    api_key: SecretStr | None = None
    timeout: float = 30.0
    retries: int = 2
    max_concurrency: int = Field(default=4, ge=1, description="parallel requests (async, remote, per doc)")

    @model_validator(mode="after")
    def _one_threshold(self) -> CondenserCompressor:
        if self.similarity_threshold is not None:
            if self.min_relevance is not None and self.min_relevance != self.similarity_threshold:
                raise ValueError("give min_relevance or similarity_threshold (its alias), not both")
            self.min_relevance = self.similarity_threshold
        return self

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        """Compress ``documents`` for ``query`` (sync)."""
        docs, question = list(documents), query or None
        if self.base_url is None:
            run = self._compress_local
            return self._assemble(docs, question, lambda ctx, extra: run(ctx, question, extra))
        from condenser.client import Client

        with Client(self.base_url, **self._client_args()) as client:
            return self._assemble(docs, question,
                                  lambda ctx, extra: client.compress(ctx, question, **self._args(extra)))

    async def acompress_documents(self, documents: Sequence[Document], query: str,
                                  callbacks: Callbacks | None = None) -> Sequence[Document]:
        """Compress ``documents`` for ``query`` (async: a thread in-process, non-blocking I/O remote)."""
        if self.base_url is None:
            return await run_in_executor(None, self.compress_documents, documents, query, callbacks)
        from condenser.client import AsyncClient

        docs, question = list(documents), query or None
        live = [d for d in docs if d.page_content.strip()]
        async with AsyncClient(self.base_url, **self._client_args()) as client:
            if self.mode == "joint":
                if not live:
                    return []
                result = await client.compress([d.page_content for d in live], question,
                                                **self._args(self._joint_extra(question)))
                return _joint_documents(live, result, len(docs))
            gate = asyncio.Semaphore(self.max_concurrency)

            async def one(doc: Document) -> CompressionResult:
                async with gate:
                    return await client.compress(doc.page_content, question,
                                                 **self._args(filter_options(question)))

            results = await asyncio.gather(*(one(d) for d in live))
        return self._per_document(live, list(results), len(docs))

    def _assemble(self, docs: list[Document], question: str | None, run: Any) -> list[Document]:
        """Compress with ``run(context, extra options) -> CompressionResult`` in this compressor's mode."""
        live = [d for d in docs if d.page_content.strip()]  # empty documents compress to nothing
        if not live:
            return []
        if self.mode == "joint":
            return _joint_documents(live, run([d.page_content for d in live], self._joint_extra(question)),
                                    len(docs))
        extra = filter_options(question)
        return self._per_document(live, [run(d.page_content, extra) for d in live], len(docs))

    def _joint_extra(self, question: str | None) -> dict[str, Any]:
        return filter_options(question, self.top_n, self.min_relevance)

    def _per_document(self, docs: list[Document], results: list[CompressionResult],
                      received: int) -> list[Document]:
        """Each document with its own result; ``top_n`` / ``min_relevance`` applied on their relevance."""
        scores = [_relevance(r, 0) for r in results]
        known = None if any(s is None for s in scores) else scores  # no scores: min_relevance has nothing to read
        keep = set(kept_documents(known, len(docs), self.top_n, self.min_relevance))
        out = [_with_metadata(d, r.text, r, 0) if i in keep else None
               for i, (d, r) in enumerate(zip(docs, results))]
        return _counted_drops([d for d in out if d is not None], received)

    def _args(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"rate": self.rate, "target_tokens": self.target_tokens, "method": self.method,
                **self.options, **(extra or {})}

    def _client_args(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key else None
        return {"api_key": key, "timeout": self.timeout, "retries": self.retries}

    def _compress_local(self, context: str | list[str], question: str | None,
                        extra: dict[str, Any]) -> CompressionResult:
        from compressor import compress

        return compress(context, question, **self._args(extra))


def _relevance(result: CompressionResult, index: int) -> float | None:
    """Document ``index``'s absolute relevance from ``result.info`` (None without a question)."""
    scores = result.info.get("document_relevance")
    return scores[index] if scores else None


def _joint_documents(docs: list[Document], result: CompressionResult, received: int) -> list[Document]:
    """Split one joint result back into its documents (``result.documents`` keeps the boundaries)."""
    texts = result.documents or [""] * len(docs)
    out = (_with_metadata(d, texts[i], result, i, joint=True) for i, d in enumerate(docs))
    return _counted_drops([d for d in out if d is not None], received)


def _counted_drops(out: list[Document], received: int) -> list[Document]:
    """``out`` with ``condenser_dropped``: how many of the ``received`` documents were not returned."""
    for doc in out:
        doc.metadata[f"{META_PREFIX}dropped"] = received - len(out)
    return out


def _with_metadata(doc: Document, text: str, result: CompressionResult, index: int,
                   joint: bool = False) -> Document | None:
    """``doc`` with compressed ``text`` and the condenser_* metadata; None when nothing is left."""
    if not text.strip():
        return None
    if joint:  # the result's counts are for all documents together: count this one's share
        original = count_tokens(doc.page_content, result.encoding)
        compressed = count_tokens(text, result.encoding)
    else:
        original, compressed = result.original_tokens, result.compressed_tokens
    metadata = {
        **doc.metadata,
        f"{META_PREFIX}original_tokens": original,
        f"{META_PREFIX}compressed_tokens": compressed,
        f"{META_PREFIX}relevance": _relevance(result, index),
        f"{META_PREFIX}method": result.method,
    }
    return Document(page_content=text, metadata=metadata, id=doc.id)
