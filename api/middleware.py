"""ASGI middleware: request body, header and nesting limits (4xx before anything is parsed) and request metrics."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import LimitExceeded, check_depth, check_headers
from api.metrics import Metrics
from api.settings import Settings

#: bodies larger than this are scanned for depth in a thread, not on the event loop
_SCAN_INLINE_BYTES = 1 << 20


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit (an HTTPException, so body parsers pass it on as 413)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body is larger than {limit} bytes")


async def _send_error(send: Send, refused: LimitExceeded) -> None:
    body = json.dumps({"error": {"message": refused.message, "type": "invalid_request_error",
                                 "param": refused.param}}).encode()
    await send({"type": "http.response.start", "status": refused.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _send_413(send: Send, limit: int) -> None:
    await _send_error(send, LimitExceeded(413, f"request body is larger than {limit} bytes "
                                               "(CONDENSER_MAX_BODY_BYTES)", "body"))


class BodyLimit:
    """Refuse bodies over ``limit`` bytes: by Content-Length at once, or while a chunked body streams in."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _send_413(send, self.limit)
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _send_413(send, self.limit)


class InputLimits:
    """Refuse oversized header sets (431) and over-deep JSON bodies (400) before any route parses them.

    The body is read whole (``BodyLimit``, outside this, bounds it), scanned, and handed on unchanged.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = check_headers(scope["headers"], self.settings.max_headers, self.settings.max_header_bytes)
        if refused is not None:
            return await _send_error(send, refused)
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        limit = self.settings.max_json_depth
        refused = (check_depth(body, limit) if len(body) <= _SCAN_INLINE_BYTES
                   else await asyncio.to_thread(check_depth, body, limit))
        if refused is not None:
            return await _send_error(send, refused)
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body`` first, then the client's later messages (a disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class RequestMetrics:
    """Count requests by route template and status; time them to the first response byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                name = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(name, str(message["status"])).inc()
                self.metrics.latency.labels(name).observe(time.perf_counter() - start)
            await send(message)

        await self.app(scope, receive, timed)
