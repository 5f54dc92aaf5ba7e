"""What one app instance shares between requests, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.access import Caller, RateLimiter, identify
from api.cache import CompressionCache
from api.metrics import Metrics
from api.proxy.upstream import Upstream
from api.service import CompressionService
from api.settings import Settings


@dataclass
class AppState:
    settings: Settings
    metrics: Metrics
    cache: CompressionCache
    service: CompressionService
    limiter: RateLimiter
    upstream: Upstream


def state_of(request: Request) -> AppState:
    return request.app.state.condenser


async def caller_of(request: Request) -> Caller:
    """FastAPI dependency: authenticate, then count the request against its key's rate limit (which the
    key's sub-tenants share).

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in a worker thread, which
    cost the proxy a thread hand-off per request."""
    state = state_of(request)
    caller = identify(request, state.settings)
    state.limiter.check(caller.limit_scope)
    return caller


#: the authenticated, rate-limited caller, as a route parameter type
CallerDep = Annotated[Caller, Depends(caller_of)]
