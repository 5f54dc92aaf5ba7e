"""Regression tests of the service at run time (issue 35): readiness that probes Redis, a Redis restart that
costs no cache writes, timed-out compressions that stop and hold their slot until then, and a bounded
compression queue (503 with Retry-After on /v1/compress, fail-open or reject on the proxy)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from api.admission import Overloaded
from api.app import create_app
from api.cache import CompressionCache
from api.metrics import Metrics
from api.schemas import CompressRequest
from api.service import CompressionService, CompressionTimeout
from api.settings import Settings
from compressor.cancellation import Cancelled, cancellable, checkpoint
from pipelines import Pipeline

CONTEXT = "Ada Lovelace was born in London in 1815. She wrote the first published algorithm. " * 30


def _settings(**overrides) -> Settings:
    values = {"redis_url": None, "method": "truncate", "rate": 0.25, "_env_file": None}
    values.update(overrides)
    return Settings(**values)


class GatedPipeline:
    """The real pipeline behind a gate: a run waits until the test opens it (a compression in progress)."""

    def __init__(self) -> None:
        self.gate, self.real, self.started = threading.Event(), Pipeline(), 0

    def run(self, context, query=None, **kwargs):
        self.started += 1
        assert self.gate.wait(10), "the test never opened the gate"
        return self.real.run(context, query, **kwargs)


class StagedPipeline:
    """A run of many 20 ms stages with a cancellation checkpoint between them, as ``Pipeline.run`` has."""

    def __init__(self, stages: int = 200) -> None:
        self.stages, self.done = stages, 0
        self.stopped = threading.Event()
        self.outcome: str | None = None

    def run(self, context, query=None, **kwargs):
        try:
            for _ in range(self.stages):
                checkpoint()
                time.sleep(0.02)
                self.done += 1
            self.outcome = "finished"
        except Cancelled:
            self.outcome = "cancelled"
            raise
        finally:
            self.stopped.set()


def _request(i: int = 0) -> CompressRequest:
    return CompressRequest(context=f"{CONTEXT} Item {i}.", query="Where was Ada born?", method="truncate",
                           rate=0.25)


# 35.6: readiness probes Redis; a dropped pooled connection is retried once


async def test_readyz_reports_redis_down_while_the_lru_still_serves(redis_process):
    app = create_app(_settings(redis_url=redis_process.url, redis_retry_s=30))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://t") as client:
        body = {"context": CONTEXT, "query": "Where was Ada born?"}
        assert (await client.post("/v1/compress", json=body)).status_code == 200
        assert (await client.get("/readyz")).json()["redis"] == "up"
        redis_process.stop()
        hit = await client.post("/v1/compress", json=body)  # served from the in-process LRU: Redis untouched
        assert hit.status_code == 200 and hit.json()["cached"] is True
        ready = (await client.get("/readyz")).json()
        assert (ready["status"], ready["redis"]) == ("degraded", "down")
        assert "condenser_redis_up 0.0" in (await client.get("/metrics")).text
        redis_process.start()  # and back: the probe sees it at once, not after redis_retry_s (30 s)
        ready = (await client.get("/readyz")).json()
        assert (ready["status"], ready["redis"]) == ("ready", "up")


async def test_redis_restart_loses_no_cache_writes_and_no_readiness(redis_process):
    cache = CompressionCache(redis_process.url, ttl_s=60, max_entry_bytes=10_000, lru_entries=16, retry_s=30)
    try:
        assert await cache.connect()
        await asyncio.gather(*(cache.get(f"warm{i}") for i in range(4)))  # several pooled connections
        redis_process.stop()
        redis_process.start()  # every pooled connection is now dead, Redis is fine
        for i in range(4):
            await cache.put(f"k{i}", b"value")
        assert cache.redis_up
        assert redis_process.client().exists(*[f"k{i}" for i in range(4)]) == 4  # all stored, none skipped
        assert await cache.check()
    finally:
        await cache.close()


async def test_cache_check_pings_even_when_the_last_call_worked(redis_process):
    cache = CompressionCache(redis_process.url, ttl_s=60, max_entry_bytes=10_000, lru_entries=16, retry_s=30)
    try:
        await cache.put("k", b"v")
        assert cache.redis_up
        redis_process.stop()
        assert await cache.check() is False
        assert cache.redis_up is False
    finally:
        await cache.close()


async def test_first_compression_after_redis_comes_back_is_stored(redis_process):
    """A Redis that refused (stopped) is asked again at once, not after redis_retry_s: nothing made after
    it is back goes unstored."""
    cache = CompressionCache(redis_process.url, ttl_s=60, max_entry_bytes=10_000, lru_entries=16, retry_s=30)
    try:
        assert await cache.connect()
        redis_process.stop()
        began = time.perf_counter()
        await cache.put("during", b"v")  # refused: in the LRU only
        assert not cache.redis_up and time.perf_counter() - began < 0.2
        redis_process.start()
        await cache.put("after", b"v")
        assert cache.redis_up and redis_process.client().exists("after") == 1
    finally:
        await cache.close()


# 35.7: a timed-out compression stops, and holds its slot until it has


async def test_timed_out_compression_stops_and_keeps_its_slot_until_then():
    service = CompressionService(_settings(compress_timeout_s=0.05, compress_concurrency=1, compress_queue=0),
                                 CompressionCache(None, ttl_s=60, max_entry_bytes=10_000, lru_entries=16),
                                 Metrics())
    staged = service.pipeline = StagedPipeline()
    began = time.perf_counter()
    with pytest.raises(CompressionTimeout):
        await service.compress(_request(), "t")
    assert time.perf_counter() - began < 1.0  # the caller is answered at its timeout
    assert service.load()["running"] == 1  # the abandoned run still holds the only slot...
    with pytest.raises(Overloaded):  # ...so no second run starts beside it (queue 0)
        await service.compress(_request(1), "t")
    for _ in range(100):  # it stops at its next checkpoint (within one 20 ms stage)
        if service.load()["running"] == 0:
            break
        await asyncio.sleep(0.01)
    assert staged.stopped.is_set() and staged.outcome == "cancelled"
    assert staged.done < 20, "the run went on long after its timeout"
    assert service.load()["running"] == 0  # slot released only now


def test_pipeline_checks_for_cancellation_between_stages(monkeypatch):
    from compressor.registry import get_method

    pipeline, event = Pipeline(), threading.Event()
    method = get_method("truncate")
    fitted = []
    real_compress, real_fit = method.compress, pipeline._fit

    def compress_then_cancel(request):
        event.set()  # the caller gives up while the method runs
        return real_compress(request)

    monkeypatch.setattr(method, "compress", compress_then_cancel)
    monkeypatch.setattr(pipeline, "_fit", lambda *a: fitted.append(1) or real_fit(*a))
    with cancellable(event), pytest.raises(Cancelled):
        pipeline.run(CONTEXT, "Where was Ada born?", rate=0.25, method="truncate")
    assert fitted == []  # the fit stage after the method never ran
    monkeypatch.setattr(method, "compress", real_compress)
    event.clear()
    with cancellable(event):  # not cancelled: the same run completes
        assert pipeline.run(CONTEXT, "Where was Ada born?", rate=0.25, method="truncate").text


def test_prefetch_started_by_a_cancelled_run_stops(monkeypatch):
    """The embedder's background prefetch (the rest of a long document) inherits the run's cancellation."""
    import numpy as np

    from retriever.embeddings import PREFETCH_SLICE, get_embedder

    embedder = get_embedder()
    slices = []
    monkeypatch.setattr(embedder, "_run_model", lambda texts, background: slices.append(len(texts))
                        or np.zeros((len(texts), embedder.dim), np.float32))
    texts = [f"Prefetch test sentence {i} of a cancelled run." for i in range(3 * PREFETCH_SLICE)]
    event = threading.Event()
    with cancellable(event):
        event.set()
        assert embedder.prefetch(texts[:PREFETCH_SLICE * 2])
    embedder.wait_prefetch(10)
    assert slices == []  # nothing embedded for a run nobody waits for
    with cancellable(threading.Event()):  # not cancelled: the same prefetch embeds
        assert embedder.prefetch(texts[PREFETCH_SLICE * 2:])
    embedder.wait_prefetch(10)
    assert sum(slices) == PREFETCH_SLICE


# 35.12: a bounded queue; beyond it 503 + Retry-After, or fail-open on the proxy


@asynccontextmanager
async def _gated_client(**overrides) -> AsyncIterator[tuple[httpx.AsyncClient, GatedPipeline]]:
    """A started app of ``_settings(**overrides)`` whose pipeline waits behind a gate, and a client of it."""
    app = create_app(_settings(**overrides))
    gated = app.state.condenser.service.pipeline = GatedPipeline()
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url="http://t") as client:
        yield client, gated


async def _fill(client: httpx.AsyncClient, gated: GatedPipeline, running: int,
                waiting: int) -> list[asyncio.Task]:
    """Start ``running + waiting`` distinct compressions and wait until they run or wait as asked."""
    tasks = [asyncio.create_task(client.post("/v1/compress", json=_request(i).model_dump()))
             for i in range(running + waiting)]
    for _ in range(500):
        load = (await client.get("/readyz")).json()["compress"]
        if (load["running"], load["waiting"]) == (running, waiting) and gated.started == running:
            return tasks
        await asyncio.sleep(0.01)
    raise AssertionError(f"compressions never reached running={running} waiting={waiting}: {load}")


async def test_compress_beyond_the_queue_bound_gets_503_with_retry_after():
    async with _gated_client(compress_concurrency=1, compress_queue=1) as (client, gated):
        tasks = await _fill(client, gated, running=1, waiting=1)
        began = time.perf_counter()
        over = await client.post("/v1/compress", json=_request(99).model_dump())
        assert time.perf_counter() - began < 1.0  # refused at once, not queued
        assert over.status_code == 503 and int(over.headers["retry-after"]) >= 1
        assert over.json()["error"]["type"] == "overloaded"
        metrics = (await client.get("/metrics")).text
        assert "condenser_compress_queue_depth 1.0" in metrics and "condenser_compress_running 1.0" in metrics
        assert 'condenser_compress_failures_total{kind="overloaded"} 1.0' in metrics
        gated.gate.set()
        assert [r.status_code for r in await asyncio.gather(*tasks)] == [200, 200]
        load = (await client.get("/readyz")).json()["compress"]
        assert load == {"running": 0, "waiting": 0, "concurrency": 1, "queue": 1}


@pytest.mark.parametrize(("ready_when_overloaded", "code"), [(True, 200), (False, 503)])
async def test_readyz_says_overloaded_while_the_queue_is_full(ready_when_overloaded, code):
    async with _gated_client(compress_concurrency=1, compress_queue=1,
                             ready_when_overloaded=ready_when_overloaded) as (client, gated):
        tasks = await _fill(client, gated, running=1, waiting=0)
        busy = await client.get("/readyz")  # a slot busy, room in the queue: still ready
        assert (busy.status_code, busy.json()["status"]) == (200, "ready")
        tasks += [asyncio.create_task(client.post("/v1/compress", json=_request(1).model_dump()))]
        for _ in range(500):
            full = await client.get("/readyz")
            if full.json()["compress"]["waiting"] == 1:
                break
            await asyncio.sleep(0.01)
        assert full.json()["status"] == "overloaded" and full.status_code == code
        assert full.json()["compress"] == {"running": 1, "waiting": 1, "concurrency": 1, "queue": 1}
        gated.gate.set()
        assert [r.status_code for r in await asyncio.gather(*tasks)] == [200, 200]
        after = await client.get("/readyz")
        assert (after.status_code, after.json()["status"]) == (200, "ready")


def test_ready_when_overloaded_defaults_to_true(monkeypatch):
    assert Settings(_env_file=None).ready_when_overloaded is True  # a load balancer must not flap by default
    monkeypatch.setenv("CONDENSER_READY_WHEN_OVERLOADED", "false")
    assert Settings(_env_file=None).ready_when_overloaded is False


async def test_batch_item_beyond_the_queue_bound_gets_an_overloaded_entry():
    async with _gated_client(compress_concurrency=1, compress_queue=0) as (client, gated):
        tasks = await _fill(client, gated, running=1, waiting=0)
        batch = await client.post("/v1/compress/batch", json={"items": [_request(7).model_dump()]})
        assert batch.status_code == 200
        assert batch.json()["results"][0]["error"]["type"] == "overloaded"
        assert batch.json()["results"][0]["error"]["param"] == "items.0"
        gated.gate.set()
        assert [r.status_code for r in await asyncio.gather(*tasks)] == [200]


def _chat() -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": CONTEXT},
                                                 {"role": "user", "content": "Where was Ada born?"}]}


@pytest.mark.parametrize("overload", ["fail-open", "reject"])
async def test_proxy_beyond_the_queue_bound_fails_open_or_rejects_at_once(upstream, overload):
    async with _gated_client(compress_concurrency=1, compress_queue=0, overload=overload, min_tokens=50,
                             openai_base_url=upstream[0]) as (client, gated):
        tasks = await _fill(client, gated, running=1, waiting=0)
        began = time.perf_counter()
        reply = await client.post("/v1/chat/completions", json=_chat())
        assert time.perf_counter() - began < 5.0  # answered without waiting for the running compression
        if overload == "fail-open":
            assert reply.status_code == 200
            assert reply.headers["x-condenser-compression"] == "failed-open"
            assert reply.headers["x-condenser-reason"] == "overloaded"
        else:
            assert reply.status_code == 503 and int(reply.headers["retry-after"]) >= 1
            assert reply.json()["error"]["type"] == "overloaded"
        gated.gate.set()
        assert [r.status_code for r in await asyncio.gather(*tasks)] == [200]
