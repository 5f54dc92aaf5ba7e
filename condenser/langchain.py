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

from pydantic import Field, SecretStr

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

    ``mode="per_document"`` gives every document its own budget (``rate`` / ``target_tokens`` each);
    ``mode="joint"`` compresses all documents together to one budget, so the most relevant documents
    keep more. Each returned document keeps its metadata and gains ``condenser_original_tokens``,
    ``condenser_compressed_tokens`` (target-LLM tokens), ``condenser_relevance`` (mean score of the
    kept spans, on the method's own scale; None when nothing was scored) and ``condenser_method``.
    Documents that compress to nothing are dropped; the order of the rest is kept.
    """

    method: str = "condenser"
    rate: float | None = Field(default=None, gt=0.0, le=1.0, description="fraction of tokens kept")
    target_tokens: int | None = Field(default=None, gt=0, description="token ceiling (per doc or joint)")
    mode: Literal["per_document", "joint"] = "per_document"
    options: dict[str, Any] = Field(default_factory=dict, description="passed to compress() as **options")
    base_url: str | None = Field(default=None, description="a Condenser service; None runs in-process")
    api_key: SecretStr | None = None
    timeout: float = 30.0
    retries: int = 2
    max_concurrency: int = Field(default=4, ge=1, description="parallel requests (async, remote, per doc)")

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        """Compress ``documents`` for ``query`` (sync)."""
        docs, question = list(documents), query or None
        if self.base_url is None:
            run = self._compress_local
            return self._assemble(docs, question, lambda ctx: run(ctx, question))
        from condenser.client import Client

        with Client(self.base_url, **self._client_args()) as client:
            return self._assemble(docs, question, lambda ctx: client.compress(ctx, question, **self._args()))

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
                result = await client.compress([d.page_content for d in live], question, **self._args())
                return _joint_documents(live, result)
            gate = asyncio.Semaphore(self.max_concurrency)

            async def one(doc: Document) -> CompressionResult:
                async with gate:
                    return await client.compress(doc.page_content, question, **self._args())

            results = await asyncio.gather(*(one(d) for d in live))
        return _per_document(live, list(results))

    def _assemble(self, docs: list[Document], question: str | None, run: Any) -> list[Document]:
        """Compress with ``run(context) -> CompressionResult`` in this compressor's mode."""
        live = [d for d in docs if d.page_content.strip()]  # empty documents compress to nothing
        if not live:
            return []
        if self.mode == "joint":
            return _joint_documents(live, run([d.page_content for d in live]))
        return _per_document(live, [run(d.page_content) for d in live])

    def _args(self) -> dict[str, Any]:
        return {"rate": self.rate, "target_tokens": self.target_tokens, "method": self.method,
                **self.options}

    def _client_args(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key else None
        return {"api_key": key, "timeout": self.timeout, "retries": self.retries}

    def _compress_local(self, context: str | list[str], question: str | None) -> CompressionResult:
        from compressor import compress

        return compress(context, question, **self._args())


def _per_document(docs: list[Document], results: list[CompressionResult]) -> list[Document]:
    """Each document with its own result; those compressed to nothing are dropped."""
    out = (_with_metadata(d, r.text, r, 0) for d, r in zip(docs, results))
    return [d for d in out if d is not None]


def _joint_documents(docs: list[Document], result: CompressionResult) -> list[Document]:
    """Split one joint result back into its documents (``result.documents`` keeps the boundaries)."""
    texts = result.documents or [""] * len(docs)
    out = (_with_metadata(d, texts[i], result, i, joint=True) for i, d in enumerate(docs))
    return [d for d in out if d is not None]


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
    scores = [s.score for s in result.kept if s.doc == index and s.score is not None]
    metadata = {
        **doc.metadata,
        f"{META_PREFIX}original_tokens": original,
        f"{META_PREFIX}compressed_tokens": compressed,
        f"{META_PREFIX}relevance": sum(scores) / len(scores) if scores else None,
        f"{META_PREFIX}method": result.method,
    }
    return Document(page_content=text, metadata=metadata, id=doc.id)
