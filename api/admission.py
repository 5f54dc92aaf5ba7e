"""Admission of compressions: a few run at once, a bounded number wait, the rest are turned away at once.

Compression is CPU-bound, so a replica that lets every request wait only makes all of them late (at
concurrency 32 the median request used to wait 15 s). ``Slots`` keeps ``running`` compressions going and
``queue`` waiting; beyond that ``acquire`` raises ``Overloaded`` (503 with ``Retry-After`` on
``/v1/compress``; on the proxy, fail open or reject by ``CONDENSER_OVERLOAD``). A slot is given back only
when the thread that used it has really stopped, not when its caller stopped waiting (a timeout), so the
bound holds for the work the CPU does.
"""

from __future__ import annotations

import asyncio
import math
import time

from api.errors import APIError

#: the smoothing of the mean compression time behind ``Retry-After`` (the weight of the newest run)
_SMOOTHING = 0.2


class Overloaded(APIError):
    """Every compression slot is busy and the queue is full: try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int, waiting: int):
        super().__init__(503, f"overloaded: {waiting} compressions already waiting; retry after "
                         f"{retry_after_s} s", type="overloaded", headers={"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class Slots:
    """At most ``running`` compressions at once and ``queue`` waiting for one (event-loop confined)."""

    def __init__(self, running: int, queue: int):
        self.limit, self.queue_limit = running, queue
        self.running = 0  # slots held, including by abandoned runs that have not stopped yet
        self.waiting = 0
        self._free = asyncio.Semaphore(running)
        self._mean_s = 1.0  # until a run is timed: a guess for Retry-After only

    async def acquire(self) -> float:
        """Wait for a slot (``Overloaded`` when the queue is full); returns the start time for ``release``."""
        if self.full:
            raise Overloaded(self.retry_after_s(), self.waiting)
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        return time.perf_counter()

    @property
    def full(self) -> bool:
        """Every slot is held and the queue is full: the next compression is turned away (``/readyz``)."""
        return self._free.locked() and self.waiting >= self.queue_limit

    def release(self, started: float) -> None:
        """Give back a slot once its work has stopped (``started``: what ``acquire`` returned)."""
        elapsed = time.perf_counter() - started
        self._mean_s += _SMOOTHING * (elapsed - self._mean_s)
        self.running -= 1
        self._free.release()

    def retry_after_s(self) -> int:
        """Seconds until the queue has likely moved on: the work ahead, at the mean compression time."""
        ahead = (self.running + self.waiting) / max(1, self.limit)
        return max(1, math.ceil(ahead * self._mean_s))
