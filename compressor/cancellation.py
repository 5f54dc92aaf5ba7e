"""Cooperative cancellation of a compression that nobody waits for any more (the service's timeout passed).

A thread cannot be killed, so the caller sets an event and the pipeline looks at it between its stages
(``checkpoint``): the abandoned run stops at the next stage boundary instead of running to the end. The
event travels in a context variable, so no signature between the service and the pipeline changes, and
threads started with a copy of the caller's context (the embedder's prefetch) see it too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[threading.Event | None] = ContextVar("condenser_cancel", default=None)


class Cancelled(Exception):
    """The run was cancelled by its caller; raised at the next ``checkpoint``."""


@contextmanager
def cancellable(event: threading.Event) -> Iterator[threading.Event]:
    """Run the block (in this thread) under ``event``: once it is set, the next ``checkpoint`` raises."""
    token = _current.set(event)
    try:
        yield event
    finally:
        _current.reset(token)


def cancelled() -> bool:
    """Whether the run in this context has been cancelled (False outside ``cancellable``)."""
    event = _current.get()
    return event is not None and event.is_set()


def checkpoint() -> None:
    """Raise ``Cancelled`` if the run in this context has been cancelled; cheap enough for any loop."""
    if cancelled():
        raise Cancelled("the compression was cancelled (its caller gave up waiting)")
