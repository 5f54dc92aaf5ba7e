"""JSON errors in the shape OpenAI-style clients read: ``{"error": {"message", "type", "param"}}``.

Every failure becomes one of these with a status that says whose fault it was (4xx: the request; 502/504:
the upstream; 503: the compressor when failing closed); never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("condenser.api")


class APIError(Exception):
    """An error the service answers with, as is."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.headers = status, message, type, param, headers


def error_response(status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": type, "param": param}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple | list) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "body"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "request body is not valid JSON", param="body")
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _field(first.get("loc", ()))
    message = "; ".join(f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5])
    return error_response(422, message, param=field)


async def _api_error(_: Request, exc: APIError) -> JSONResponse:
    return error_response(exc.status, exc.message, type=exc.type, param=exc.param, headers=exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    return error_response(exc.status_code, str(exc.detail), type=kind, param="body" if exc.status_code == 413 else None,
                          headers=getattr(exc, "headers", None))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected %s while serving a request", type(exc).__name__)  # no request data: it may hold secrets
    return error_response(500, "internal error", type="server_error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
