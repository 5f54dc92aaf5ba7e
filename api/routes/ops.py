"""Operations: liveness, readiness (model, Redis), Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.state import state_of
from compressor.models import weights_available

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: ``ready``, ``degraded`` (Redis configured but not answering a PING now: in-process
    cache only) or ``overloaded`` (every compression slot busy and the queue full: new compressions are
    turned away or failed open); ``compress`` says how many compressions run and wait.

    Degraded answers 200: the service works without Redis, so load balancers should keep sending. Overloaded
    answers 200 too unless ``CONDENSER_READY_WHEN_OVERLOADED=false`` (then 503): a replica that drops out of
    the pool whenever its queue fills makes a load balancer flap and the other replicas fill up in turn.
    """
    state = state_of(request)
    cache = state.cache
    redis = "disabled"
    if cache.redis_configured:
        redis = "up" if await cache.check() else "down"
    state.metrics.redis_up.set(1 if redis == "up" else 0)
    model = "embedded" if weights_available() else "missing (condenser falls back to extractive)"
    overloaded = state.service.admission.full
    status = "overloaded" if overloaded else "degraded" if redis == "down" else "ready"
    code = 503 if overloaded and not state.settings.ready_when_overloaded else 200
    return JSONResponse({"status": status, "redis": redis, "model": model, "default_method": state.settings.method,
                         "compress": state.service.load()}, status_code=code)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus exposition of this replica's metrics."""
    state = state_of(request)
    state.metrics.redis_up.set(1 if state.cache.redis_up else 0)
    load = state.service.load()
    state.metrics.compress_running.set(load["running"])
    state.metrics.compress_waiting.set(load["waiting"])
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
