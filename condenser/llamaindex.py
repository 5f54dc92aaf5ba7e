"""LlamaIndex adapter: ``CondenserNodePostprocessor``, a node postprocessor for retrieved nodes.

Use it wherever LlamaIndex takes ``node_postprocessors``::

    query_engine = index.as_query_engine(similarity_top_k=10,
                                         node_postprocessors=[CondenserNodePostprocessor(target_token=800)])

All retrieved nodes compete for one budget (``target_token`` tokens, or ``rate`` of their tokens): they are
compressed together, so the most relevant nodes keep more and the least relevant may vanish. ``top_n`` and
``min_relevance`` drop whole nodes first (``compressor.document_filter``); their share of the budget goes to
the nodes kept. With no
``base_url`` it compresses in-process on the default method; with ``base_url=`` it calls a running Condenser
service (``condenser.Client``). Argument names follow ``LongLLMLinguaPostprocessor`` where they mean the same
(``target_token``, ``rate``, ``instruction_str``, ``additional_compress_kwargs``, ``device_map``). Needs only
``llama-index-core`` (``pip install 'condenser[llamaindex]'``), not the API's dependencies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from compressor.document_filter import filter_options
from compressor.result import CompressionResult
from compressor.tokens import count_tokens

try:
    from llama_index.core.bridge.pydantic import Field, SecretStr
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
except ImportError as exc:  # the adapter is optional: say how to get it instead of a bare traceback
    raise ImportError("condenser.llamaindex needs llama-index-core: pip install 'condenser[llamaindex]'") from exc

__all__ = ["CondenserNodePostprocessor"]

META_PREFIX = "condenser_"
META_KEYS = tuple(f"{META_PREFIX}{k}" for k in ("relevance", "original_tokens", "compressed_tokens", "method",
                                                  "dropped"))


class CondenserNodePostprocessor(BaseNodePostprocessor):
    """Question-aware joint compression of retrieved nodes to one token budget.

    Each returned node is a copy of its input node with the compressed text and five metadata entries
    (hidden from the LLM and the embedder): ``condenser_relevance`` (the retriever's cosine between the
    question and the node's best sentence: one absolute scale across nodes and calls; None without a
    question), ``condenser_original_tokens`` and ``condenser_compressed_tokens`` (target-LLM tokens),
    ``condenser_dropped`` (how many nodes of the call were not returned) and ``condenser_method``. Nodes
    under ``min_relevance``, beyond the ``top_n`` most relevant, or compressed to nothing are not returned;
    the retrieval order and scores of the rest are kept.
    """

    method: str = Field(default="condenser", description="a Condenser method name")
    target_token: int = Field(default=-1, description="token budget of all nodes together; -1: use rate")
    rate: float | None = Field(default=None, gt=0.0, le=1.0,
                               description="fraction of the nodes' tokens kept (when target_token is -1)")
    instruction_str: str | None = Field(
        default=None, description="text your prompt puts before the context: its tokens come off target_token")
    additional_compress_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="passed to compress() as **options (encoding, model, ...)")
    device_map: str | None = Field(default=None, description="device of the model methods: cpu, cuda, mps")
    top_n: int | None = Field(default=None, ge=1, description="keep at most this many nodes, most relevant")
    min_relevance: float | None = Field(default=None, description="drop nodes less relevant than this (a cosine)")
    base_url: str | None = Field(default=None, description="a Condenser service; None runs in-process")
    api_key: SecretStr | None = None
    timeout: float = 30.0
    retries: int = 2

    @classmethod
    def class_name(cls) -> str:
        return "CondenserNodePostprocessor"

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        """Compress ``nodes`` for the query (sync)."""
        live, texts, question = _inputs(nodes, query_bundle)
        if not live:
            return []
        if self.base_url is None:
            from compressor import compress

            result: CompressionResult = compress(texts, question, **self._args(question))
        else:
            from condenser.client import Client

            with Client(self.base_url, **self._client_args()) as client:
                result = client.compress(texts, question, **self._args(question))
        return _assemble(live, texts, result, len(nodes))

    async def _apostprocess_nodes(self, nodes: list[NodeWithScore],
                                  query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        """Compress ``nodes`` for the query (async: a thread in-process, non-blocking I/O remote)."""
        if self.base_url is None:
            return await asyncio.to_thread(self._postprocess_nodes, nodes, query_bundle)
        from condenser.client import AsyncClient

        live, texts, question = _inputs(nodes, query_bundle)
        if not live:
            return []
        async with AsyncClient(self.base_url, **self._client_args()) as client:
            result = await client.compress(texts, question, **self._args(question))
        return _assemble(live, texts, result, len(nodes))

    def _args(self, question: str | None) -> dict[str, Any]:
        options = {**self.additional_compress_kwargs, **filter_options(question, self.top_n, self.min_relevance)}
        if self.device_map is not None:
            options.setdefault("device", self.device_map)
        budget: dict[str, Any] = {"rate": self.rate}
        if self.target_token is not None and self.target_token >= 0:
            instruction = count_tokens(self.instruction_str, _encoding(options)) if self.instruction_str else 0
            budget = {"target_tokens": max(1, self.target_token - instruction)}
        return {**budget, "method": self.method, **options}

    def _client_args(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key else None
        return {"api_key": key, "timeout": self.timeout, "retries": self.retries}


def _inputs(nodes: list[NodeWithScore],
            query_bundle: QueryBundle | None) -> tuple[list[NodeWithScore], list[str], str | None]:
    """The nodes with text, their texts (no metadata), and the question (None: query-agnostic)."""
    live, texts = [], []
    for item in nodes:
        text = item.node.get_content(metadata_mode=MetadataMode.NONE)
        if text.strip():  # empty nodes compress to nothing
            live.append(item)
            texts.append(text)
    question = query_bundle.query_str if query_bundle is not None and query_bundle.query_str else None
    return live, texts, question


def _assemble(live: list[NodeWithScore], texts: list[str], result: CompressionResult,
              received: int) -> list[NodeWithScore]:
    """Split the joint result back into nodes (``result.documents`` keeps the boundaries)."""
    outputs = result.documents or [""] * len(live)
    relevance = result.info.get("document_relevance") or [None] * len(live)
    kept = [(item, original, text, score) for item, original, text, score in zip(live, texts, outputs, relevance)
            if text.strip()]
    return [_compressed_node(item, original, text, score, result, received - len(kept))
            for item, original, text, score in kept]


def _encoding(options: dict[str, Any]) -> str:
    from compressor.tokens import DEFAULT_ENCODING, encoding_for_model

    if options.get("encoding"):
        return str(options["encoding"])
    return encoding_for_model(options["model"]) if options.get("model") else DEFAULT_ENCODING


def _compressed_node(item: NodeWithScore, original: str, text: str, relevance: float | None,
                     result: CompressionResult, dropped: int) -> NodeWithScore:
    """A copy of ``item`` holding ``text`` and the condenser_* metadata (the input is not mutated)."""
    node = item.node.model_copy(deep=True)
    node.set_content(text)
    node.metadata.update({
        f"{META_PREFIX}relevance": relevance,
        f"{META_PREFIX}original_tokens": count_tokens(original, result.encoding),
        f"{META_PREFIX}compressed_tokens": count_tokens(text, result.encoding),
        f"{META_PREFIX}method": result.method,
        f"{META_PREFIX}dropped": dropped,
    })
    # the LLM should read the context, not our bookkeeping; nor should an embedder re-index it
    for excluded in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
        excluded.extend(k for k in META_KEYS if k not in excluded)
    return NodeWithScore(node=node, score=item.score)
