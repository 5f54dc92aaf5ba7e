"""Remote SDK: ``Client`` / ``AsyncClient`` call a running Condenser service over ``POST /v1/compress``.

Same call and result type as the in-process ``compressor.compress``::

    with Client("http://localhost:8000", api_key="...") as client:
        result = client.compress(docs, "who won?", rate=0.3)

Compression is a pure function of its input, so a request is safe to repeat: 5xx answers and connection
errors are retried with exponential backoff; 4xx answers are raised at once (retrying cannot fix them).
The API key travels only in the ``Authorization: Bearer`` header and never appears in a repr or an error.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from compressor.result import CompressionResult
from compressor.validation import check_query, check_rate, check_target_tokens, documents_of, resolve_aliases
from condenser.errors import CondenserConnectionError, CondenserError, CondenserHTTPError, error_message

__all__ = ["AsyncClient", "Client", "RemoteCompressionResult"]

COMPRESS_PATH = "/v1/compress"
METHODS_PATH = "/v1/methods"
MAX_RETRY_AFTER_S = 10.0  # honour a server's Retry-After, but never stall a caller longer than this


class RemoteCompressionResult(CompressionResult):
    """A ``CompressionResult`` from a service, plus whether the service answered from its cache."""

    cached: bool = False


class _Settings:
    """What both clients share: the target, credentials, timeouts and the retry policy."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float, retries: int, backoff: float):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an int >= 0, got {retries!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        key = api_key if api_key is not None else os.environ.get("CONDENSER_API_KEY")
        self.headers = {"User-Agent": "condenser-python", "Accept": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.has_key = bool(key)

    def __repr__(self) -> str:
        return f"(base_url={_safe_url(self.base_url)!r}, api_key={'***' if self.has_key else None})"

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``: exponential with jitter, or Retry-After."""
        retry_after = _retry_after(response)
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S)
        return self.backoff * (2**attempt) * (0.5 + random.random() / 2)


def _safe_url(url: str) -> str:
    """``url`` without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _payload(context: Any, query: Any, rate: Any, target_tokens: Any, method: str,
             options: dict[str, Any]) -> dict[str, Any]:
    """The request body; the SDK's own argument checks run first, so bad input fails the same way here.
    LLMLingua's ``question=`` / ``target_token=`` become ``query`` / ``target_tokens`` before sending."""
    query, target_tokens, options = resolve_aliases(query, target_tokens, options)
    documents_of(context)
    check_query(query)
    check_rate(rate)
    check_target_tokens(target_tokens)
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    body: dict[str, Any] = {"context": context, "query": query, "method": method, "options": options}
    if rate is not None:
        body["rate"] = rate
    if target_tokens is not None:
        body["target_tokens"] = target_tokens
    return body


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _http_error(response: httpx.Response) -> CondenserHTTPError:
    body = _json_or_none(response)
    fallback = response.reason_phrase or "error"
    return CondenserHTTPError(response.status_code, error_message(body, fallback), body)


def _connection_error(settings: _Settings, exc: httpx.TransportError) -> CondenserConnectionError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return CondenserConnectionError(f"request to {_safe_url(settings.base_url)} {kind}: "
                                    f"{type(exc).__name__}: {exc}")


def _result(response: httpx.Response) -> RemoteCompressionResult:
    if response.status_code >= 400:
        raise _http_error(response)
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise CondenserError(f"the service answered {response.status_code} with a non-JSON body")
    try:
        return RemoteCompressionResult.model_validate(body)
    except ValidationError as exc:
        raise CondenserError(f"the service's answer is not a compression result: {exc}") from exc


def _methods(response: httpx.Response) -> list[str]:
    if response.status_code >= 400:
        raise _http_error(response)
    body = _json_or_none(response)
    names = body.get("methods") if isinstance(body, dict) else body
    if not isinstance(names, list):
        raise CondenserError("the service's method list is not a JSON list")
    return [m["name"] if isinstance(m, dict) else str(m) for m in names]


class Client:
    """Synchronous client of a Condenser service.

    Args:
        base_url: the service root, e.g. ``http://localhost:8000``.
        api_key: sent as ``Authorization: Bearer``; default ``$CONDENSER_API_KEY`` if set.
        timeout: seconds per request (connect, read, write, pool).
        retries: extra attempts after a 5xx answer or a connection error (0 disables retrying).
        backoff: base seconds of the exponential backoff between attempts.
        transport: an ``httpx`` transport, e.g. for tests; default the network.
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0, retries: int = 2,
                 *, backoff: float = 0.5, transport: httpx.BaseTransport | None = None):
        self._settings = _Settings(base_url, api_key, timeout, retries, backoff)
        self._http = httpx.Client(base_url=self._settings.base_url, headers=self._settings.headers,
                                  timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"Client{self._settings!r}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def compress(self, context: str | list[str], query: str | None = None, *, rate: float | None = None,
                 target_tokens: int | None = None, method: str = "condenser",
                 **options: Any) -> RemoteCompressionResult:
        """Compress on the service; arguments and result as ``compressor.compress`` (LLMLingua's
        ``question=`` / ``target_token=`` / ``instruction=`` included).

        Raises:
            TypeError / ValueError: bad arguments, checked before sending (as ``compress`` does).
            CondenserHTTPError: the service refused the request (4xx) or failed after all retries (5xx).
            CondenserConnectionError: the service could not be reached after all retries.
            CondenserError: the answer was not a compression result.
        """
        body = _payload(context, query, rate, target_tokens, method, options)
        return _result(self._request("POST", COMPRESS_PATH, body))

    def methods(self) -> list[str]:
        """The method names the service accepts (``GET /v1/methods``)."""
        return _methods(self._request("GET", METHODS_PATH, None))

    def _request(self, verb: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        settings = self._settings
        for attempt in range(settings.retries + 1):
            response = None
            try:
                response = self._http.request(verb, path, json=body)
            except httpx.TransportError as exc:
                failure: CondenserError = _connection_error(settings, exc)
            else:
                if response.status_code < 500:
                    return response
                failure = _http_error(response)
            if attempt < settings.retries:
                time.sleep(settings.delay(attempt, response))
        raise failure


class AsyncClient:
    """Asynchronous client of a Condenser service; the arguments are those of ``Client``."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0, retries: int = 2,
                 *, backoff: float = 0.5, transport: httpx.AsyncBaseTransport | None = None):
        self._settings = _Settings(base_url, api_key, timeout, retries, backoff)
        self._http = httpx.AsyncClient(base_url=self._settings.base_url, headers=self._settings.headers,
                                       timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"AsyncClient{self._settings!r}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def compress(self, context: str | list[str], query: str | None = None, *,
                       rate: float | None = None, target_tokens: int | None = None,
                       method: str = "condenser", **options: Any) -> RemoteCompressionResult:
        """Compress on the service; arguments, result and errors as ``Client.compress``."""
        body = _payload(context, query, rate, target_tokens, method, options)
        return _result(await self._request("POST", COMPRESS_PATH, body))

    async def methods(self) -> list[str]:
        """The method names the service accepts (``GET /v1/methods``)."""
        return _methods(await self._request("GET", METHODS_PATH, None))

    async def _request(self, verb: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        settings = self._settings
        for attempt in range(settings.retries + 1):
            response = None
            try:
                response = await self._http.request(verb, path, json=body)
            except httpx.TransportError as exc:
                failure: CondenserError = _connection_error(settings, exc)
            else:
                if response.status_code < 500:
                    return response
                failure = _http_error(response)
            if attempt < settings.retries:
                await asyncio.sleep(settings.delay(attempt, response))
        raise failure
