"""Compressed contexts cached in an in-process LRU in front of Redis.

Keys hash (tenant, method, model version, parameters, query, context), so one tenant can never address
another's entries and nothing readable (no context, no credential) appears in a key. Redis is optional at
every moment: when it is absent or dies, reads and writes skip it (the LRU still serves), ``redis_up`` turns
false for metrics, and the next call after ``retry_s`` tries it again, unless Redis failed fast (refused:
stopped or restarting), which costs nothing to ask again at once, so the first compression after it is back
is stored. ``/readyz`` pings Redis itself (``check``), so it never reports the state of the last cache call.
A dropped pooled connection (Redis restarted) is retried once on a fresh connection before it counts as an
outage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import orjson

from retriever.redis_link import Backoff, redis_client, redis_errors

if TYPE_CHECKING:
    from api.settings import Settings

log = logging.getLogger("condenser.api.cache")

PREFIX = "condenser:v1:"


def cache_key(tenant: str, method: str, version: str, params: dict[str, Any], query: str | None,
              context: str | list[str]) -> str:
    """A key that changes with every input that changes the output, and with the tenant."""
    parts = [tenant, method, version, params, query, context]
    try:
        payload = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson cannot write (an option's integer over 64 bits): the standard library can
        payload = json.dumps(parts, sort_keys=True, default=repr).encode()
    return PREFIX + hashlib.sha256(payload).hexdigest()


class LRU:
    """A small least-recently-used map (event-loop confined: no lock needed)."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> None:
        if self.size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


class CompressionCache:
    """LRU + Redis. ``get`` returns ``(value, layer)`` with layer ``"memory"``, ``"redis"`` or None."""

    def __init__(self, redis_url: str | None, *, ttl_s: int, max_entry_bytes: int, lru_entries: int,
                 timeout_s: float = 0.25, retry_s: float = 2.0, cluster: bool = False):
        self.lru = LRU(lru_entries)
        self.ttl_s, self.max_entry_bytes = ttl_s, max_entry_bytes
        self.redis_configured = bool(redis_url)
        self._backoff = Backoff(retry_s, log, "serving from the in-process cache", up=False)
        self._timeout_s = timeout_s
        self._refusing = False  # the last failure came fast (a refusal, not a stall): no need to wait
        self._redis = (redis_client(redis_url, timeout_s=timeout_s, cluster=cluster, asyncio=True)
                       if redis_url else None)

    @classmethod
    def from_settings(cls, settings: Settings) -> CompressionCache:
        """The cache a deployment's settings describe (the service's and the LiteLLM hook's)."""
        return cls(settings.redis_url, ttl_s=settings.cache_ttl_s, max_entry_bytes=settings.cache_max_entry_bytes,
                   lru_entries=settings.lru_entries, timeout_s=settings.redis_timeout_s,
                   retry_s=settings.redis_retry_s, cluster=settings.redis_cluster)

    @property
    def redis_up(self) -> bool:
        """Whether the last call reached Redis (false until the first does)."""
        return self._backoff.up

    async def connect(self) -> bool:
        """Ping Redis now; returns whether it answered."""
        return await self._call("ping") is not None

    async def get(self, key: str) -> tuple[bytes | None, str | None]:
        value = self.lru.get(key)
        if value is not None:
            return value, "memory"
        value = await self._call("get", key)
        if value is not None:
            self.lru.put(key, value)
            return value, "redis"
        return None, None

    async def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_entry_bytes:
            return
        self.lru.put(key, value)
        await self._call("set", key, value, ex=self.ttl_s)

    async def check(self) -> bool:
        """For ``/readyz``: does Redis answer a PING now (within the timeout)? Probes even while the
        back-off would skip Redis, and updates ``redis_up`` with the answer."""
        if self._redis is None:
            return False
        try:
            await self._command("ping")
        except redis_errors() as exc:
            self._backoff.failed(exc)
            return False
        if self._backoff.succeeded():
            log.info("redis connected")
        return True

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run one Redis command unless Redis stalled and is not yet due for a retry; never raises."""
        if self._redis is None or not (self._refusing or self._backoff.due()):
            return None
        started = time.monotonic()
        try:
            result = await self._command(op, *args, **kwargs)
        except redis_errors() as exc:
            self._refusing = time.monotonic() - started < self._timeout_s / 2
            self._backoff.failed(exc)
            return None
        self._refusing = False
        if self._backoff.succeeded():
            log.info("redis connected")
        return result

    async def _command(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """One Redis command, retried once on a dropped connection: after a Redis restart every pooled
        connection fails on its first use, which says nothing about Redis now. A timeout is not retried."""
        from redis.exceptions import ConnectionError as DroppedConnection

        try:
            return await getattr(self._redis, op)(*args, **kwargs)
        except DroppedConnection:
            return await getattr(self._redis, op)(*args, **kwargs)
