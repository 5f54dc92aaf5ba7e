"""The FastAPI application: ``create_app(settings)`` wires settings, cache, metrics, routes and middleware."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, playground, redaction, request_id, startup, telemetry
from api.access import RateLimiter
from api.cache import CompressionCache
from api.metrics import Metrics
from api.middleware import BodyLimit, InputLimits, RequestMetrics
from api.proxy.upstream import Upstream
from api.routes import compress, ops, proxy
from api.service import CompressionService
from api.settings import Settings
from api.state import AppState
from retriever.vector_store import RedisVectorStore

log = logging.getLogger("condenser.api")
STATIC = Path(__file__).parent / "static"

DESCRIPTION = """Question-aware prompt compression as a service, and an OpenAI/Anthropic-compatible proxy that
compresses long prompts on their way to the provider. `/v1/compress` is the SDK's `compress()` over HTTP."""


def _state(settings: Settings, metrics: Metrics) -> AppState:
    cache = CompressionCache.from_settings(settings)
    return AppState(settings=settings, metrics=metrics, cache=cache,
                    service=CompressionService(settings, cache, metrics, _vector_store(settings)),
                    limiter=RateLimiter(settings.rate_limit_per_minute), upstream=Upstream(settings, metrics))


def _vector_store(settings: Settings) -> RedisVectorStore | None:
    """Sentence vectors in Redis too (``vector_cache``), so every replica reuses a document's embeddings."""
    if not (settings.redis_url and settings.vector_cache):
        return None
    return RedisVectorStore(settings.redis_url, ttl_s=settings.cache_ttl_s, timeout_s=settings.redis_timeout_s,
                            retry_s=settings.redis_retry_s, cluster=settings.redis_cluster)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from ``CONDENSER_*`` environment variables and ``.env``)."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.condenser
        redis = "off"
        if state.cache.redis_configured:
            redis = "up" if await state.cache.connect() else "unreachable"
        if redis == "unreachable":
            log.warning("redis unreachable at start-up: serving with the in-process cache only (degraded)")
        elif redis == "off":
            log.info("no redis configured: in-process cache only")
        if settings.preload:
            await asyncio.to_thread(state.service.warm_up)
        log.info("%s", startup.summary(settings, redis, app.state.traced, settings.preload))
        yield
        await state.upstream.close()
        await state.cache.close()
        if state.service.vectors is not None:
            state.service.vectors.close()

    app = FastAPI(title="Condenser", version=_version(), description=DESCRIPTION, lifespan=lifespan)
    app.state.condenser = _state(settings, metrics)
    errors.install(app)
    redaction.install()  # keys never reach a log line, whatever server hosts the app
    request_id.install()  # every log line made while serving a request knows its id
    for router in (compress.router, proxy.router, ops.router, playground.router):  # before the static mount
        app.include_router(router)
    if STATIC.is_dir():
        app.mount("/playground", StaticFiles(directory=STATIC, html=True), name="playground")
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(InputLimits, settings=settings)  # header count/size and JSON depth, before parsing
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # refuse before any work
    app.add_middleware(request_id.RequestId)  # outermost: every answer, a refusal too, carries its id
    app.state.traced = telemetry.setup(app, settings)  # OpenTelemetry spans when CONDENSER_OTEL / OTEL_* ask
    return app


def _version() -> str:
    from condenser import __version__

    return __version__
