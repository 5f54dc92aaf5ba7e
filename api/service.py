"""Compression behind the cache: the same pipeline as the SDK, run off the event loop, bounded and timed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from api.admission import Overloaded, Slots
from api.cache import CompressionCache, cache_key
from api.checkpoints import with_checkpoint
from api.errors import APIError
from api.metrics import Metrics
from api.schemas import CompressRequest, CompressResponse
from api.settings import Settings
from compressor.cancellation import cancellable
from compressor.registry import available_methods, get_method
from pipelines import default_pipeline
from retriever.vector_store import RedisVectorStore, vector_scope

log = logging.getLogger("condenser.api.service")

#: words that open the pipeline's own error messages, mapped to the request field they are about
_FIELDS = ("context", "query", "rate", "target_tokens", "method", "encoding", "model", "coarse")

T = TypeVar("T")


class CompressionTimeout(Exception):
    """The compressor did not finish within ``compress_timeout_s``."""


def model_version() -> str:
    """Part of every cache key: a retrained model must not serve its predecessor's entries. Built once
    from every method's own ``model_version()`` (the weights behind it) and the pipeline's settings (a
    changed cascade threshold changes outputs too)."""
    from condenser import __version__

    record = json.dumps({"methods": {name: get_method(name).model_version() for name in available_methods()},
                         "pipeline": default_pipeline().config.model_dump(mode="json")}, sort_keys=True)
    return f"{__version__}:{hashlib.sha256(record.encode()).hexdigest()[:12]}"


def _param_of(message: str) -> str:
    head = message.split(" ", 1)[0].strip(":'\"")
    if message.startswith("unknown option"):
        return "options"
    return head if head in _FIELDS else "options" if "option" in message else "body"


class CompressionService:
    """``compress`` with the two-level cache, a concurrency bound with a bounded queue (``admission``), and
    a timeout that cancels the run it gives up on."""

    def __init__(self, settings: Settings, cache: CompressionCache, metrics: Metrics,
                 vectors: RedisVectorStore | None = None):
        self.settings, self.cache, self.metrics, self.vectors = settings, cache, metrics, vectors
        self.pipeline = default_pipeline()
        self.version = model_version()
        self.admission = Slots(settings.compress_concurrency, settings.compress_queue)
        self._inflight: dict[str, asyncio.Task] = {}  # cache key -> the compression running for it

    async def compress(self, req: CompressRequest, tenant: str) -> CompressResponse:
        """The cached result for ``req`` in ``tenant``'s scope, or a fresh one (then cached)."""
        req = with_checkpoint(req, self.settings)  # checkpoints come from the server's configuration only
        method, budget, key = self._keyed(req, tenant)
        raw, layer = await self.cache.get(key)
        return await self._respond(req, method, budget, key, tenant, raw, layer)

    async def compress_batch(self, reqs: list[CompressRequest], tenant: str
                             ) -> list[CompressResponse | APIError | CompressionTimeout]:
        """``compress`` for each of ``reqs``, each looked up in the cache once; the sentences of the uncached
        ones are embedded in one batched pass first (``Pipeline.warm``). A failing item gives its error in
        its place, and the others still run; an item repeated in the batch is computed once."""
        reqs = [with_checkpoint(req, self.settings) for req in reqs]
        keyed = [self._keyed(req, tenant) for req in reqs]
        found = [await self.cache.get(key) for _, _, key in keyed]
        await self._warm(tenant, [(req.context, req.query, {"method": method, **budget, **req.options})
                                  for req, (method, budget, _), (raw, _) in zip(reqs, keyed, found)
                                  if raw is None])
        results: list[CompressResponse | APIError | CompressionTimeout] = []
        done: dict[str, bytes] = {}  # this batch's fresh results, for its repeated items
        for req, (method, budget, key), (raw, layer) in zip(reqs, keyed, found):
            if raw is None and key in done:
                raw, layer = done[key], "memory"
            try:
                response = await self._respond(req, method, budget, key, tenant, raw, layer)
            except (APIError, CompressionTimeout) as exc:
                results.append(exc)
                continue
            if not response.cached:
                done[key] = response.model_dump_json().encode()
            results.append(response)
        return results

    async def _respond(self, req: CompressRequest, method: str, budget: dict[str, Any], key: str, tenant: str,
                       raw: bytes | None, layer: str | None) -> CompressResponse:
        """The cached response ``raw`` (found in cache ``layer``), or ``req`` compressed now and cached.
        Concurrent identical requests (same key) share one compression."""
        if raw is not None:
            self.metrics.cache_hits.labels(layer).inc()
            return CompressResponse.model_validate_json(raw).model_copy(update={"cached": True})
        running = self._inflight.get(key)
        if running is not None:  # the same request is being compressed: wait for it, not a second run
            response = await asyncio.shield(running)
            self.metrics.cache_hits.labels("in-flight").inc()
            return response.model_copy(update={"cached": True})
        task = asyncio.ensure_future(self._compute(req, method, budget, key, tenant))
        self._inflight[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)  # a caller that goes away leaves the run to the others waiting

    def _forget(self, key: str, task: asyncio.Task) -> None:
        """Drop a finished compression from the in-flight map; its error, if nobody waited any more, is
        still reported to the caller that did (``shield``) and not logged as never retrieved."""
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()

    async def _compute(self, req: CompressRequest, method: str, budget: dict[str, Any], key: str,
                       tenant: str) -> CompressResponse:
        """``req`` compressed now, cached under ``key``, and counted."""
        self.metrics.cache_misses.inc()
        result = await self._run(req, method, budget, tenant)
        response = CompressResponse(**result.model_dump(), cached=False)
        await self.cache.put(key, response.model_dump_json().encode())
        self.metrics.tokens_in.inc(result.original_tokens)
        self.metrics.tokens_saved.inc(max(0, result.original_tokens - result.compressed_tokens))
        return response

    async def _warm(self, tenant: str, todo: list) -> None:
        """Embed the sentences of ``todo`` (pipeline.warm's items) in one pass, if there are two or more.
        Only an optimisation: a failure or timeout here leaves each item to its own compression."""
        if len(todo) < 2:
            return
        try:
            await self._in_thread(self._warm_in_scope, tenant, todo)
        except Exception as exc:  # noqa: BLE001 - the items' own compressions run and report anyway
            log.warning("batched embedding pass skipped (%s)", type(exc).__name__)

    def _warm_in_scope(self, tenant: str, todo: list) -> int:
        with vector_scope(self.vectors, tenant):
            return self.pipeline.warm(todo)

    def _keyed(self, req: CompressRequest, tenant: str) -> tuple[str, dict[str, Any], str]:
        """``req``'s method, budget and cache key in ``tenant``'s scope."""
        method, budget = self._method_budget(req)
        key = cache_key(tenant, method, self.version, {**budget, "options": req.options}, req.query, req.context)
        return method, budget, key

    def _method_budget(self, req: CompressRequest) -> tuple[str, dict[str, Any]]:
        method = req.method or self.settings.method
        budget: dict[str, Any] = {"rate": req.rate, "target_tokens": req.target_tokens}
        if req.rate is None and req.target_tokens is None:
            budget["rate"] = self.settings.rate
        return method, budget

    async def _run(self, req: CompressRequest, method: str, budget: dict[str, Any], tenant: str):
        start = time.perf_counter()
        try:
            result = await self._in_thread(self._in_scope, tenant, req.context, req.query, method=method,
                                           **budget, **req.options)
        except TimeoutError as exc:
            self.metrics.compress_failures.labels("timeout").inc()
            raise CompressionTimeout(f"compression took longer than {self.settings.compress_timeout_s} s") from exc
        except (TypeError, ValueError) as exc:  # the pipeline's checks name the argument
            raise APIError(422, str(exc), param=_param_of(str(exc))) from exc
        except Overloaded:
            self.metrics.compress_failures.labels("overloaded").inc()
            raise
        except Exception:
            self.metrics.compress_failures.labels("error").inc()
            raise
        self.metrics.compress_seconds.labels(method).observe(time.perf_counter() - start)
        return result

    async def _in_thread(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker thread in a compression slot, given up after
        ``compress_timeout_s`` (TimeoutError). A run given up on is cancelled (it stops at its next stage,
        ``compressor.cancellation``) and keeps its slot until it has stopped, so the concurrency bound
        holds for the CPU, not just for the callers still waiting."""
        started = await self.admission.acquire()
        cancel = threading.Event()
        work = asyncio.ensure_future(asyncio.to_thread(_cancellable, cancel, fn, *args, **kwargs))
        work.add_done_callback(lambda done: self._stopped(done, started))
        try:
            return await asyncio.wait_for(asyncio.shield(work), self.settings.compress_timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            cancel.set()  # nobody will read this run's result
            raise

    def _stopped(self, work: asyncio.Future, started: float) -> None:
        """A run's thread has ended: free its slot; its error (a cancellation, or one already reported
        to the caller) is not logged as never retrieved."""
        self.admission.release(started)
        if not work.cancelled():
            work.exception()

    def _in_scope(self, tenant: str, context, query, **kwargs):
        """``pipeline.run`` with sentence vectors also in the shared store (if any), scoped to ``tenant``."""
        with vector_scope(self.vectors, tenant):
            return self.pipeline.run(context, query, **kwargs)

    def load(self) -> dict[str, int]:
        """Compressions running (abandoned ones until they stop) and waiting, for ``/readyz``."""
        slots = self.admission
        return {"running": slots.running, "waiting": slots.waiting, "concurrency": slots.limit,
                "queue": slots.queue_limit}

    def warm_up(self) -> None:
        """Load the default method's model now rather than on the first request."""
        self.pipeline.run("Warm-up sentence one. Warm-up sentence two. " * 40, "warm-up?", rate=0.5,
                          method=self.settings.method)


def _cancellable(cancel: threading.Event, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` (in a worker thread) under ``cancel``: once set, the run stops at its next
    checkpoint with ``compressor.cancellation.Cancelled``."""
    with cancellable(cancel):
        return fn(*args, **kwargs)
