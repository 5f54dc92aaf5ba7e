"""The one code path from input to compressed output, used by the SDK, CLI, API and LangChain."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from compressor.budget import fit, join_documents, resolve_budget
from compressor.methods.base import Method, Region, Request
from compressor.registry import get_method
from compressor.result import CompressionResult, Span
from compressor.tokens import count_tokens, encoding_for_model, get_encoding
from compressor.validation import check_budget_args, check_options, check_query, documents_of
from pipelines.config import PipelineConfig
from retriever.chunker import Chunked, Page, Unit, chunk
from retriever.hybrid import HybridScorer
from retriever.pages import PageRetriever

#: options every method accepts; they steer the pipeline rather than the method
PIPELINE_OPTIONS = frozenset({"encoding", "model", "coarse"})


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


class Pipeline:
    """chunk -> (coarse page retrieval) -> method -> exact budget fit.

    ``timings`` holds seconds per stage: ``chunk``, ``retrieve`` (the coarse stage, when it ran),
    ``compress`` (the method; its own sub-stages as ``compress.<name>``, e.g. ``compress.score`` for a
    model pass), ``fit`` and ``total``.
    """

    def __init__(self, config: PipelineConfig | None = None):
        self.config = config or PipelineConfig()

    def run(self, context: str | list[str], query: str | None = None, *, rate: float | None = None,
            target_tokens: int | None = None, method: str | None = None, **options: Any) -> CompressionResult:
        """Compress ``context`` for ``query``; see ``compressor.compress`` for the contract."""
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            documents, is_list = documents_of(context)
            query = check_query(query)
            rate, target_tokens = check_budget_args(rate, target_tokens)
            name = method if method is not None else self.config.method
            impl = get_method(name)
            options = {**self.config.method_options.get(name, {}), **options}  # the call's own win
            pipeline_opts = {k: options.pop(k) for k in list(options) if k in PIPELINE_OPTIONS}
            check_options(name, impl.options, options)
            encoding = self._encoding(pipeline_opts)
            original_text = join_documents(documents)
            original = count_tokens(original_text, encoding)
            if rate is None and target_tokens is None:
                rate = self.config.rate
            budget = resolve_budget(original, rate, target_tokens)
            if original <= budget:
                return self._unchanged(documents, is_list, original_text, original, name, budget, encoding,
                                       timings)
            result = self._compress(impl, documents, query, budget, encoding, options,
                                    pipeline_opts.get("coarse"), original, timings)
        result.timings = timings
        if is_list:
            result.documents = result.documents or [""] * len(documents)
        else:
            result.documents = None
        return result

    def _encoding(self, opts: dict[str, Any]) -> str:
        if opts.get("encoding") is not None and opts.get("model") is not None:
            raise ValueError("give encoding or model, not both")
        if opts.get("model") is not None:
            if not isinstance(opts["model"], str):
                raise TypeError("model must be a str (the target LLM's name)")
            return encoding_for_model(opts["model"])
        name = opts.get("encoding") or self.config.encoding
        try:
            get_encoding(name)
        except LookupError as exc:
            raise ValueError(f"encoding: {exc}") from exc
        return name

    def _compress(self, impl: Method, documents: list[str], query: str | None, budget: int, encoding: str,
                  options: dict[str, Any], coarse: bool | None, original: int,
                  timings: dict[str, float]) -> CompressionResult:
        cfg = self.config
        with _timed(timings, "chunk"):
            # pages no bigger than half the budget, so the coarse stage can always keep a few
            page_tokens = min(cfg.coarse.page_tokens, max(32, budget // 2))
            chunked = chunk(documents, page_tokens=page_tokens, encoding=encoding)
        units = chunked.units
        regions = [Region(i, 0, len(d)) for i, d in enumerate(documents)]
        narrowed = self._use_coarse(impl, coarse, original, budget)
        if narrowed:
            with _timed(timings, "retrieve"):
                units, regions = self._coarse(documents, chunked, query, budget)
        request = Request(documents, query, budget, encoding, regions, units, options,
                          all_units=chunked.units if narrowed else None)
        with _timed(timings, "compress"):
            candidates = impl.compress(request)
        timings.update({f"compress.{k}": v for k, v in request.timings.items()})
        with _timed(timings, "fit"):
            protected = [(u.doc, u.start, u.end) for u in chunked.units if u.atomic]
            fitted = fit(documents, candidates, budget, encoding, json_docs=chunked.json_docs,
                         min_fill=cfg.min_fill, protected=protected)
        return CompressionResult(
            text=fitted.text, original_tokens=original, compressed_tokens=fitted.tokens,
            ratio=round(original / max(1, fitted.tokens), 4), method=impl.name, kept=fitted.spans,
            documents=fitted.documents, encoding=encoding, budget=budget, info=request.info,
        )

    def _use_coarse(self, impl: Method, coarse: bool | None, original: int, budget: int) -> bool:
        cfg = self.config.coarse
        if coarse is not None:
            if not isinstance(coarse, bool):
                raise TypeError("coarse must be a bool")
            return coarse and impl.uses_coarse_stage
        return (cfg.enabled and impl.uses_coarse_stage and original > cfg.min_tokens
                and original > cfg.target_tokens(budget))

    def _coarse(self, documents: list[str], chunked: Chunked, query: str | None,
                budget: int) -> tuple[list[Unit], list[Region]]:
        """Keep the best pages within ``coarse.target_tokens(budget)``; adjacent kept pages form one
        region, so the method reads them as continuous text."""
        cfg = self.config.coarse
        retriever = PageRetriever(HybridScorer(dense_weight=cfg.dense_weight), hops=cfg.hops)
        pages = retriever.select(documents, chunked.pages, query, cfg.target_tokens(budget))
        if not pages:  # every page is larger than the coarse budget: let the method see everything
            return chunked.units, [Region(i, 0, len(d)) for i, d in enumerate(documents)]
        units = [chunked.units[i] for p in pages for i in p.units]
        return units, _merge_adjacent(pages)

    @staticmethod
    def _unchanged(documents: list[str], is_list: bool, text: str, tokens: int, method: str, budget: int,
                   encoding: str, timings: dict[str, float]) -> CompressionResult:
        kept = [Span(doc=i, start=0, end=len(d)) for i, d in enumerate(documents) if d]
        return CompressionResult(text=text, original_tokens=tokens, compressed_tokens=tokens, ratio=1.0,
                                 method=method, kept=kept, documents=list(documents) if is_list else None,
                                 encoding=encoding, budget=budget, timings=timings)


def _merge_adjacent(pages: list[Page]) -> list[Region]:
    """Regions of consecutive pages (same document, next page's first unit follows the last's)."""
    regions: list[Region] = []
    last_unit = None
    for p in pages:
        if regions and last_unit is not None and regions[-1].doc == p.doc and p.units[0] == last_unit + 1:
            regions[-1] = Region(p.doc, regions[-1].start, p.end)
        else:
            regions.append(Region(p.doc, p.start, p.end))
        last_unit = p.units[-1]
    return regions


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    """The process-wide pipeline; ``CONDENSER_PIPELINE_CONFIG`` may name a YAML/TOML config file."""
    path = os.environ.get("CONDENSER_PIPELINE_CONFIG")
    return Pipeline(PipelineConfig.from_file(path) if path else None)
