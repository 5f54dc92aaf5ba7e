"""ASGI middleware: a request body limit (413 before anything is parsed) and request metrics."""

from __future__ import annotations

import json
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit (an HTTPException, so body parsers pass it on as 413)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body is larger than {limit} bytes")


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"message": f"request body is larger than {limit} bytes",
                                 "type": "invalid_request_error", "param": "body"}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


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
