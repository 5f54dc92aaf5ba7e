"""Request ids: one per request, in the ``x-request-id`` response header, in every log line the request
causes, and forwarded upstream.

A client's own ``x-request-id`` is kept when it is sane (1-128 characters of ``[A-Za-z0-9._-]``), so one id
follows a call through the client's logs, Condenser's and the provider's; anything else is replaced by a
fresh ``uuid4().hex``. The id is written back into the request's headers, so the proxy forwards the same
id upstream. A provider's own ``x-request-id`` in its answer is relayed as ``x-upstream-request-id``.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
UPSTREAM_HEADER = "x-upstream-request-id"
_HEADER = HEADER.encode()
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,128}")

#: the id of the request being served in this context (None outside a request)
current: ContextVar[str | None] = ContextVar("condenser_request_id", default=None)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's id when it sent one sane ``x-request-id`` header, else a new uuid4 hex."""
    sent = [value for name, value in headers if name.lower() == _HEADER]
    if len(sent) == 1 and _SANE.fullmatch(sent[0]):
        return sent[0].decode()
    return uuid.uuid4().hex


class RequestId:
    """ASGI middleware: sets ``current`` for the request, rewrites its ``x-request-id`` header to the id,
    and adds the id to the response (outermost, so even a refusal before routing carries it)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = request_id_of(scope["headers"])
        scope = {**scope, "headers": [(n, v) for n, v in scope["headers"] if n.lower() != _HEADER]
                 + [(_HEADER, rid.encode())]}

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == _HEADER:  # the provider's own id: kept, under its own name
                        if value != rid.encode():
                            headers.append((UPSTREAM_HEADER.encode(), value))
                    else:
                        headers.append((name, value))
                message = {**message, "headers": [*headers, (_HEADER, rid.encode())]}
            await send(message)

        token = current.set(rid)
        try:
            await self.app(scope, receive, tagged)
        finally:
            current.reset(token)


def _tag(record: logging.LogRecord) -> None:
    rid = getattr(record, "request_id", "-")
    rid = current.get() if rid == "-" else rid  # a record tagged at creation keeps its id
    record.request_id = rid or "-"
    record.request_tag = f" [request {rid}]" if rid else ""


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (``-`` outside a request) and ``request_tag`` (`` [request <id>]`` or empty) to
    each record, for formats such as ``%(message)s%(request_tag)s``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _tag(record)
        return True


_factory_installed = False


def install() -> None:
    """Tag every log record created from now on with the request id, whatever handler prints it
    (idempotent). Handlers whose format names ``request_tag`` should also carry ``RequestIdFilter``: it
    covers records made before this ran."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _tag(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True
