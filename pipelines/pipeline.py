"""The one code path from input to compressed output, used by the SDK, CLI, API and LangChain."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from compressor.budget import fit, join_documents
from compressor.cancellation import checkpoint
from compressor.document_filter import FILTER_OPTIONS, run_with_document_filter
from compressor.instruction import run_with_instruction
from compressor.methods.base import Method, Region, Request
from compressor.registry import get_method
from compressor.result import CompressionResult, Span, record_call
from compressor.structured import compress_structured
from compressor.tokens import count_tokens, get_encoding
from compressor.validation import (
    check_budget_args,
    check_count,
    check_options,
    check_query,
    documents_of,
    encoding_for_model,
    resolve_aliases,
)
from pipelines.config import PipelineConfig
from pipelines.protection import FORCED_SCORE, Protection, protect, without
from pipelines.tracing import stage as traced_stage
from pipelines.tracing import traced_run
from retriever.chunker import Chunked, Page, Unit, chunk
from retriever.hybrid import HybridScorer
from retriever.pages import PageRetriever

#: inputs ``run_many`` prepares together: their sentence vectors stay well within the embedder's cache
BATCH_INPUTS = 256
#: options every method accepts; they steer the pipeline rather than the method
PIPELINE_OPTIONS = frozenset({"encoding", "model", "coarse", "repeat_words", "keep", "anatomy"})


@dataclass
class _Job:
    """One input between ``Pipeline._prepare`` (validated, chunked, narrowed) and ``_finish``."""

    impl: Method
    request: Request
    chunked: Chunked
    original: int
    is_list: bool
    timings: dict[str, float]
    #: the ``repeat_words`` in force for this input (0: repeats are kept)
    repeat_words: int = 0
    #: the prompt anatomy: instructions, question and scaffolding kept whole (``pipelines.protection``)
    protection: Protection | None = None


@dataclass
class _Checked:
    """One input's arguments, validated (``Pipeline._check``): nothing counted or chunked yet."""

    documents: list[str]
    is_list: bool
    query: str | None
    rate: float | None
    target_tokens: int | None
    name: str
    impl: Method
    options: dict[str, Any]
    pipeline_opts: dict[str, Any]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    with traced_stage(stage):  # an OpenTelemetry span per stage when tracing is on (pipelines.tracing)
        yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


class Pipeline:
    """chunk -> (coarse page retrieval) -> method -> exact budget fit.

    ``timings`` holds seconds per stage: ``chunk``, ``retrieve`` (the coarse stage, when it ran),
    ``compress`` (the method; its own sub-stages as ``compress.<name>``, e.g. ``compress.score`` for a
    model pass), ``fit`` and ``total``; in ``run_many`` also ``prepare`` (this input's share of the batched
    model pass).
    """

    def __init__(self, config: PipelineConfig | None = None):
        self.config = config or PipelineConfig()

    @traced_run
    def run(self, context: str | list[str], query: str | None = None, *, rate: float | None = None,
            target_tokens: int | None = None, method: str | None = None, **options: Any) -> CompressionResult:
        """Compress ``context`` for ``query``; see ``compressor.compress`` for the contract."""
        if options.get("instruction") is not None:  # LLMLingua's protected instruction
            return run_with_instruction(self, context, query, rate, target_tokens, method, options)
        if any(options.get(k) is not None for k in FILTER_OPTIONS):  # documents scored, filtered
            return run_with_document_filter(self, context, query, rate, target_tokens, method, options)
        checked = self._check(context, query, rate, target_tokens, method, options)
        return record_call(self._finish(self._prepare(checked)), checked.pipeline_opts.get("model"))

    def run_many(self, contexts: Sequence[str | list[str]], queries: Sequence[str | None] | None = None, *,
                 rate: float | None = None, target_tokens: int | None = None, method: str | None = None,
                 progress: bool = False, **options: Any) -> list[CompressionResult]:
        """Compress many inputs, each as ``run`` would, with the model work of all of them batched together.

        Every input is chunked and narrowed first; then the method prepares all the requests at once
        (``Method.prepare``: ``condenser`` embeds the sentences of every input in one batched pass, sorted
        by length across inputs, on the GPU with ``device="cuda"``), and each result is fitted to its
        budget. Inputs go through in slices of ``BATCH_INPUTS``, so their vectors stay in the embedder's
        cache. ``queries``: one per context (None: question-agnostic for all). An input that fails
        validation raises with its index before any input is compressed. ``progress`` shows a progress
        bar.
        """
        if isinstance(contexts, str) or not isinstance(contexts, Sequence):
            raise TypeError("contexts must be a list of contexts (each a str or a list of str)")
        queries = [None] * len(contexts) if queries is None else list(queries)
        if len(queries) != len(contexts):
            raise ValueError(f"queries: expected {len(contexts)} (one per context), got {len(queries)}")
        from tqdm.auto import tqdm

        if options.get("instruction") is not None:  # each input's budget depends on the instruction: one by one
            return [self._indexed(i, self.run, contexts[i], queries[i], rate, target_tokens, method, dict(options))
                    for i in range(len(contexts))]
        checked = [self._indexed(i, self._check, contexts[i], queries[i], rate, target_tokens, method,
                                 dict(options))
                   for i in range(len(contexts))]  # every input's arguments first: a bad one fails before any work
        results: list[CompressionResult] = []
        with tqdm(total=len(contexts), desc="compressing", unit="input", disable=not progress) as bar:
            for start in range(0, len(contexts), BATCH_INPUTS):
                jobs = [self._indexed(i, self._prepare, checked[i])
                        for i in range(start, min(start + BATCH_INPUTS, len(contexts)))]
                self._prepare_together([j for j in jobs if isinstance(j, _Job)])
                for i, job in enumerate(jobs, start):
                    results.append(record_call(self._finish(job), checked[i].pipeline_opts.get("model")))
                    bar.update()
        return results

    def warm(self, inputs: Sequence[tuple[Any, Any, dict[str, Any]]]) -> int:
        """Run the batched model pass of ``run_many`` over ``inputs`` — ``(context, query, run kwargs)``
        each, with their own method, budget and options — without compressing them: a later ``run`` of
        each finds its vectors cached. Invalid inputs are skipped (their own ``run`` reports them).
        Returns how many inputs were prepared."""
        jobs = []
        for context, query, kwargs in inputs:
            kwargs = dict(kwargs)
            budget = {k: kwargs.pop(k, None) for k in ("rate", "target_tokens", "method")}
            try:
                job = self._prepare(self._check(context, query, budget["rate"], budget["target_tokens"],
                                                budget["method"], kwargs))
            except (TypeError, ValueError):
                continue
            if isinstance(job, _Job):
                jobs.append(job)
        for start in range(0, len(jobs), BATCH_INPUTS):
            self._prepare_together(jobs[start : start + BATCH_INPUTS])
        return len(jobs)

    @staticmethod
    def _indexed(index: int, step, *args):
        """``step(*args)``, its TypeError/ValueError naming the input ``contexts[index]``."""
        try:
            return step(*args)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"contexts[{index}]: {exc}") from exc

    @staticmethod
    def _prepare_together(jobs: list[_Job]) -> None:
        """One ``Method.prepare`` per method over ``jobs``; each job is timed its share of it."""
        by_method: dict[str, list[_Job]] = {}
        for job in jobs:
            by_method.setdefault(job.impl.name, []).append(job)
        for group in by_method.values():
            checkpoint()  # a cancelled run stops between stages (compressor.cancellation)
            start = time.perf_counter()
            group[0].impl.prepare([j.request for j in group])
            share = (time.perf_counter() - start) / len(group)  # the batched pass, split evenly
            for job in group:
                job.timings["prepare"] = share
                job.timings["total"] += share

    def _check(self, context: Any, query: Any, rate: Any, target_tokens: Any, method: str | None,
               options: dict[str, Any]) -> _Checked:
        """Validate one input's arguments (types, budget, method, options) without counting or chunking."""
        documents, is_list = documents_of(context)
        query, target_tokens, options = resolve_aliases(query, target_tokens, options)
        query = check_query(query)
        rate, target_tokens = check_budget_args(rate, target_tokens)
        name = method if method is not None else self.config.method
        impl = get_method(name)
        options = {**self.config.method_options.get(name, {}), **options}  # the call's own win
        pipeline_opts = {k: options.pop(k) for k in list(options) if k in PIPELINE_OPTIONS}
        check_options(name, impl.options, options)
        if "repeat_words" in pipeline_opts:
            check_count("repeat_words", pipeline_opts["repeat_words"])
        _check_anatomy_options(pipeline_opts)
        return _Checked(documents, is_list, query, rate, target_tokens, name, impl, options, pipeline_opts)

    def _prepare(self, c: _Checked) -> _Job | CompressionResult:
        """Count, chunk and narrow one checked input: a job for the method, or the input unchanged."""
        structured = compress_structured(self, c)  # JSON, CSV and tables: compressed by their structure
        if structured is not None:
            return structured
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            encoding = self._encoding(c.pipeline_opts)
            # --- prompt anatomy (H7): keep markers removed, protected pieces found, budget on the rest
            with _timed(timings, "anatomy"):
                protection = protect(c.documents, c.query, c.pipeline_opts.get("keep") or [], encoding,
                                     c.pipeline_opts.get("anatomy", self.config.anatomy))
            documents = protection.anatomy.documents
            # ---
            original_text = join_documents(documents)
            original = count_tokens(original_text, encoding)
            budget = protection.budget(original, self._rate(c.rate), c.target_tokens)
            if original <= budget:
                result = self._unchanged(documents, c.is_list, original_text, original, c.name, budget,
                                         encoding, timings)
                if protection.active:
                    result.info["anatomy"] = protection.info(budget)
                return result
            repeats = c.pipeline_opts.get("repeat_words", self.config.repeat_words)
            request, chunked = self._request(c.impl, documents, c.query, budget, encoding, c.options,
                                             c.pipeline_opts.get("coarse"), original, timings, repeats)
        return _Job(c.impl, request, chunked, original, c.is_list, timings, repeats,
                    protection if protection.active else None)

    def _finish(self, job: _Job | CompressionResult) -> CompressionResult:
        """The method's candidates of a prepared job, fitted to its budget."""
        if isinstance(job, CompressionResult):
            return job
        checkpoint()
        timings, request = job.timings, job.request
        with _timed(timings, "total"):
            with _timed(timings, "compress"):
                candidates = job.impl.compress(request)
            timings.update({f"compress.{k}": v for k, v in request.timings.items()})
            checkpoint()
            result = self._fit(job, candidates, timings)
        result.timings = timings
        return self._documents(result, request.documents, job.is_list)

    @staticmethod
    def _documents(result: CompressionResult, documents: list[str], is_list: bool) -> CompressionResult:
        if is_list:
            result.documents = result.documents or [""] * len(documents)
        else:
            result.documents = None
        return result

    def _rate(self, rate: float | None) -> float:
        """``rate``, or the configured default when the call gave none (a ``target_tokens`` budget, when
        given, ignores it)."""
        return self.config.rate if rate is None else rate

    def _encoding(self, opts: dict[str, Any]) -> str:
        if opts.get("encoding") is not None and opts.get("model") is not None:
            raise ValueError("give encoding or model, not both")
        if opts.get("model") is not None:
            if not isinstance(opts["model"], str):
                raise TypeError("model must be a str (the target LLM's name)")
            return encoding_for_model(opts["model"])  # warns once for a model tiktoken does not know
        name = opts.get("encoding") or self.config.encoding
        try:
            get_encoding(name)
        except LookupError as exc:
            raise ValueError(f"encoding: {exc}") from exc
        return name

    def _request(self, impl: Method, documents: list[str], query: str | None, budget: int, encoding: str,
                 options: dict[str, Any], coarse: bool | None, original: int,
                 timings: dict[str, float], repeat_words: int) -> tuple[Request, Chunked]:
        """Chunk the documents and, for a long input, narrow them to the coarse stage's best pages."""
        cfg = self.config
        with _timed(timings, "chunk"):
            # pages no bigger than half the budget, so the coarse stage can always keep a few
            page_tokens = min(cfg.coarse.page_tokens, max(32, budget // 2))
            chunked = chunk(documents, page_tokens=page_tokens, encoding=encoding)
        checkpoint()
        units = chunked.units
        regions = [Region(i, 0, len(d)) for i, d in enumerate(documents)]
        narrowed = self._use_coarse(impl, coarse, original, budget)
        if narrowed:
            with _timed(timings, "retrieve"):
                units, regions = self._coarse(documents, chunked, query, budget, repeat_words)
        request = Request(documents, query, budget, encoding, regions, units, options,
                          all_units=chunked.units if narrowed else None)
        return request, chunked

    def _fit(self, job: _Job, candidates: list, timings: dict[str, float]) -> CompressionResult:
        request, chunked = job.request, job.chunked
        with _timed(timings, "fit"):
            protected = [(u.doc, u.start, u.end) for u in chunked.units if u.atomic]
            repeats = job.repeat_words if job.impl.drops_repeats else 0

            def fitted_with(protection: Protection | None):
                chosen = protection.candidates(candidates) if protection else candidates
                ranges = protected + protection.ranges() if protection else protected
                return fit(request.documents, chosen, request.budget, request.encoding,
                           json_docs=chunked.json_docs, min_fill=self.config.min_fill, protected=ranges,
                           repeat_words=repeats, query=request.query)

            fitted = fitted_with(job.protection)
            # --- prompt anatomy (H7): a passage, document or section that kept text keeps its label, tags
            # and heading (second fit; under a rate the budget grows by their tokens)
            if job.protection is not None:
                held = job.protection.needed(fitted.spans)
                if held:
                    job.protection, added = job.protection.with_held(held)
                    request.budget += added if job.protection.grows else 0
                    fitted = fitted_with(job.protection)
                    unused = job.protection.unused(fitted.spans)
                    if unused:
                        fitted = without(fitted, unused, request.documents, chunked.json_docs, request.encoding)
                request.info["anatomy"] = job.protection.info(request.budget)
                for span in fitted.spans:
                    if span.score is not None and span.score >= FORCED_SCORE:
                        span.score = None  # protected, not scored
            # ---
        return CompressionResult(
            text=fitted.text, original_tokens=job.original, compressed_tokens=fitted.tokens,
            ratio=round(job.original / max(1, fitted.tokens), 4), method=job.impl.name, kept=fitted.spans,
            documents=fitted.documents, encoding=request.encoding, budget=request.budget, info=request.info,
        )

    def _use_coarse(self, impl: Method, coarse: bool | None, original: int, budget: int) -> bool:
        cfg = self.config.coarse
        if coarse is not None:
            if not isinstance(coarse, bool):
                raise TypeError("coarse must be a bool")
            return coarse and impl.uses_coarse_stage
        return (cfg.enabled and impl.uses_coarse_stage and original > cfg.min_tokens
                and original > cfg.target_tokens(budget))

    def _coarse(self, documents: list[str], chunked: Chunked, query: str | None, budget: int,
                repeat_words: int) -> tuple[list[Unit], list[Region]]:
        """Keep the best pages within ``coarse.target_tokens(budget)``; adjacent kept pages form one
        region, so the method reads them as continuous text."""
        cfg = self.config.coarse
        retriever = PageRetriever(HybridScorer(dense_weight=cfg.dense_weight), hops=cfg.hops,
                                  repeat_words=repeat_words)
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


def _check_anatomy_options(opts: dict[str, Any]) -> None:
    """``keep``: a str or a list of str (spans kept verbatim); ``anatomy``: a bool."""
    keep = opts.get("keep")
    if isinstance(keep, str):
        opts["keep"] = [keep]
    elif keep is not None and (not isinstance(keep, list | tuple) or not all(isinstance(k, str) for k in keep)):
        raise TypeError("keep must be a str or a list of str (spans kept verbatim)")
    if "anatomy" in opts and not isinstance(opts["anatomy"], bool):
        raise TypeError("anatomy must be a bool")


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
