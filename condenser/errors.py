"""Exceptions raised by the remote clients (``condenser.Client`` / ``AsyncClient``).

Catch ``CondenserError`` for any failure talking to a Condenser service; the subclasses say whether the
service answered with an error (``CondenserHTTPError``: a status and the server's message) or could not be
reached at all (``CondenserConnectionError``, after the retries were spent).
"""

from __future__ import annotations

from typing import Any


class CondenserError(Exception):
    """Base class of every error the remote clients raise."""


class CondenserConnectionError(CondenserError):
    """The service could not be reached or did not answer in time (after all retries)."""


class CondenserHTTPError(CondenserError):
    """The service answered with a 4xx/5xx status.

    Attributes:
        status_code: the HTTP status.
        message: the server's own error message (from its JSON body), or the reason phrase.
        body: the decoded JSON body, or None when the body was not JSON.
    """

    def __init__(self, status_code: int, message: str, body: Any = None):
        self.status_code = status_code
        self.message = message
        self.body = body
        super().__init__(f"HTTP {status_code}: {message}")


def error_message(body: Any, fallback: str) -> str:
    """The human message inside an error body of the shapes FastAPI and OpenAI-style APIs use.

    ``{"detail": "..."}``, ``{"detail": [{"loc": [...], "msg": "..."}]}`` (validation errors),
    ``{"error": {"message": "..."}}``, ``{"error": "..."}`` and ``{"message": "..."}``.
    """
    if not isinstance(body, dict):
        return fallback
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    for key in ("detail", "error", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:
            return "; ".join(_validation_item(item) for item in value)
    return fallback


def _validation_item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    loc = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    msg = str(item.get("msg", item))
    return f"{loc}: {msg}" if loc else msg
