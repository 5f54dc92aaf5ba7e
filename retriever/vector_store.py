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
from collections.abc import Iterator
from contextlib import contextmanager

from retriever.redis_link import Backoff, redis_client, redis_errors

log = logging.getLogger(__name__)

PREFIX = "condenser:v1:vec:"
_SCOPE: contextvars.ContextVar[tuple[RedisVectorStore | None, str]] = contextvars.ContextVar(
    "condenser_vector_scope", default=(None, ""))


class RedisVectorStore:
    """Vectors in Redis under ``PREFIX + key`` with a time to live; a synchronous client, since the
    embedder runs in worker threads."""

    def __init__(self, url: str, *, ttl_s: int = 86_400, timeout_s: float = 0.25, retry_s: float = 2.0,
                 cluster: bool = False):
        self._redis = redis_client(url, timeout_s=timeout_s, cluster=cluster)
        self.ttl_s = ttl_s
        self._backoff = Backoff(retry_s, log, "embedding sentence vectors locally")

    @property
    def up(self) -> bool:
        """Whether the last call reached Redis."""
        return self._backoff.up

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
        if not self._backoff.due():
            return None
        try:
            result = op(self._redis)
        except redis_errors() as exc:
            self._backoff.failed(exc)
            return None
        self._backoff.succeeded()
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
