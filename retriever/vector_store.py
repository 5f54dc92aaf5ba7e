"""A shared second tier for the embedder's sentence-vector cache: Redis, in the service.

Every replica of the service then reuses the vectors of a document any of them has embedded (the same
long context asked again on another replica, or after a restart). The service runs each compression inside
``vector_scope(store, tenant)``; keys are scoped by that namespace (one tenant's documents never answer
another's lookups) and by
the embedder (model, weights and backend), and hold only hashes; values are float32 vectors. Like the
compression cache, the store never fails a request: on an error it is skipped until ``retry_s`` passes.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

PREFIX = "condenser:v1:vec:"
_SCOPE: contextvars.ContextVar[tuple[RedisVectorStore | None, str]] = contextvars.ContextVar(
    "condenser_vector_scope", default=(None, ""))


class RedisVectorStore:
    """Vectors in Redis under ``PREFIX + key`` with a time to live; a synchronous client, since the
    embedder runs in worker threads."""

    def __init__(self, url: str, *, ttl_s: int = 86_400, timeout_s: float = 0.25, retry_s: float = 2.0,
                 cluster: bool = False):
        import redis
        from redis.cluster import RedisCluster

        factory = RedisCluster if cluster else redis.Redis
        self._redis = factory.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self.ttl_s, self.retry_s = ttl_s, retry_s
        self.up, self._retry_at = True, 0.0

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        """The stored values of ``keys`` (None where absent, or all None while Redis is unavailable)."""
        found = self._call(lambda r: r.mget([PREFIX + k for k in keys])) if keys else None
        return list(found) if found is not None else [None] * len(keys)

    def set_many(self, items: dict[str, bytes]) -> None:
        """Store ``items``, each with the time to live."""
        if not items:
            return

        def write(r):
            pipe = r.pipeline(transaction=False)
            for key, value in items.items():
                pipe.set(PREFIX + key, value, ex=self.ttl_s)
            return pipe.execute()

        self._call(write)

    def close(self) -> None:
        self._redis.close()

    def _call(self, op):
        from redis.exceptions import RedisClusterException, RedisError

        if not self.up and time.monotonic() < self._retry_at:
            return None
        try:
            result = op(self._redis)
        except (RedisError, RedisClusterException, OSError) as exc:
            if self.up:
                log.warning("redis unavailable for sentence vectors (%s); embedding locally", type(exc).__name__)
            self.up, self._retry_at = False, time.monotonic() + self.retry_s
            return None
        self.up = True
        return result


@contextmanager
def vector_scope(store: RedisVectorStore | None, namespace: str) -> Iterator[None]:
    """Inside: embedders also keep vectors in ``store``, under keys scoped to ``namespace`` (a tenant).

    A context variable, so concurrent requests (threads) each have their own, and background work started
    inside (``Embedder.prefetch``) keeps it."""
    token = _SCOPE.set((store, namespace))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def current_scope() -> tuple[RedisVectorStore | None, str]:
    """(store, namespace) in force: (None, "") outside any ``vector_scope``."""
    return _SCOPE.get()
