"""Who is calling: proxy auth, the tenant that scopes the cache, and a per-tenant rate limit.

A tenant is a hash of the caller's key: the proxy key when proxy auth is on, else the provider credential the
client sends (``Authorization`` or ``x-api-key``). An optional tenant header narrows it further but can never
widen it, so one key's callers never read another key's cache entries. Keys themselves are never kept.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from fastapi import Request

from api.errors import APIError
from api.settings import Settings

PROXY_KEY_HEADER = "x-condenser-key"
MAX_TENANT_HEADER = 128


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    tenant: str
    #: the client's credential is the proxy key: send the deployment's provider key upstream instead
    swap_credential: bool = False
    #: the tenant of the key alone, before any sub-tenant header narrows it: what rate limits count
    key_tenant: str = ""

    @property
    def limit_scope(self) -> str:
        """What the rate limit counts: the key, so a new sub-tenant header per request gains nothing."""
        return self.key_tenant or self.tenant


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return value or None


def _is_proxy_key(candidate: str | None, keys: list[str]) -> bool:
    return bool(candidate) and any(hmac.compare_digest(candidate.encode(), k.encode()) for k in keys)


def identify(request: Request, settings: Settings) -> Caller:
    """The caller of ``request``; 401 when proxy auth is on and no valid proxy key came."""
    headers = request.headers
    credential = _bearer(headers.get("authorization")) or headers.get("x-api-key")
    swap = False
    if settings.api_keys:
        explicit = headers.get(PROXY_KEY_HEADER)
        if _is_proxy_key(explicit, settings.api_keys):
            key = explicit
        elif _is_proxy_key(credential, settings.api_keys):
            key, swap = credential, True
        else:
            raise APIError(401, f"a valid proxy key is required (Authorization: Bearer or {PROXY_KEY_HEADER})",
                           type="authentication_error", headers={"WWW-Authenticate": "Bearer"})
        tenant = "k:" + _digest(key)
    else:
        tenant = "c:" + _digest(credential) if credential else "anonymous"
    key_tenant = tenant
    sub = headers.get(settings.tenant_header)
    if sub:
        if len(sub) > MAX_TENANT_HEADER:
            raise APIError(400, f"{settings.tenant_header} is longer than {MAX_TENANT_HEADER} characters",
                           param=settings.tenant_header)
        tenant = f"{tenant}/{_digest(sub)}"
    return Caller(tenant, swap, key_tenant)


class RateLimiter:
    """Fixed one-minute windows per key, in process (each replica limits on its own).

    Callers pass ``Caller.limit_scope`` (the key's tenant): sub-tenant headers share their key's window, so
    they can narrow the cache scope but never multiply the limit."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}

    def check(self, tenant: str) -> None:
        """Count one request against ``tenant`` (a key's scope); 429 with Retry-After when its window is full."""
        if self.per_minute <= 0:
            return
        now = time.time()
        window = int(now // 60)
        start, count = self._windows.get(tenant, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= self.per_minute:
            retry = max(1, math.ceil((window + 1) * 60 - now))
            raise APIError(429, f"rate limit of {self.per_minute} requests per minute reached",
                           type="rate_limit_error", headers={"Retry-After": str(retry)})
        self._windows[tenant] = (start, count + 1)
        if len(self._windows) > 10_000:  # forget idle tenants
            self._windows = {t: w for t, w in self._windows.items() if w[0] == window}
