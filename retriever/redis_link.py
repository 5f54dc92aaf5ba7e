"""What the two Redis users (the service's compression cache, the embedders' vector store) share: one client
factory (a single server or a cluster, sync or asyncio) and one back-off rule.

The rule: Redis never fails a request. On an error the caller skips Redis until ``retry_s`` has passed,
warns once per outage, and tries again on the next call after that.
"""

from __future__ import annotations

import logging
import time
from typing import Any


def redis_client(url: str, *, timeout_s: float, cluster: bool = False, asyncio: bool = False) -> Any:
    """A client for ``url``: ``redis.Redis`` or ``RedisCluster``, from ``redis.asyncio`` when ``asyncio``."""
    if asyncio:
        import redis.asyncio as module
        from redis.asyncio.cluster import RedisCluster
    else:
        import redis as module
        from redis.cluster import RedisCluster

    factory = RedisCluster if cluster else module.Redis
    return factory.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


def redis_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "Redis is unavailable" (imported late: redis is only needed when configured)."""
    from redis.exceptions import RedisClusterException, RedisError

    return RedisError, RedisClusterException, OSError


class Backoff:
    """Whether Redis is worth a call now, and the log lines of its outages.

    ``up`` starts as given (the vector store assumes Redis is there; the cache learns it from a ping).
    """

    def __init__(self, retry_s: float, log: logging.Logger, outage: str, *, up: bool = True):
        self.retry_s, self.up = retry_s, up
        self._log, self._outage = log, outage
        self._retry_at = 0.0

    def due(self) -> bool:
        """Up, or down for at least ``retry_s``: make the call."""
        return self.up or time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        """A call failed: skip Redis for ``retry_s`` (warn only when it was up, once per outage)."""
        if self.up:
            self._log.warning("redis unavailable (%s); %s", type(exc).__name__, self._outage)
        self.up, self._retry_at = False, time.monotonic() + self.retry_s

    def succeeded(self) -> bool:
        """A call worked; returns whether Redis was down before it (a reconnection)."""
        was_down, self.up = not self.up, True
        return was_down
