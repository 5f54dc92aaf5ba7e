"""Forwarding to the LLM provider: routing, header hygiene, and byte-for-byte (streamed) responses.

The upstream's answer goes back unchanged: same status, same body, same headers (less hop-by-hop ones),
SSE passed through chunk by chunk as it arrives. Failures to reach it become 502/504 JSON errors; a stream
cut mid-way ends with an SSE ``error`` event instead of hanging.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping

import httpx
from fastapi.responses import Response, StreamingResponse

from api.access import PROXY_KEY_HEADER, Caller
from api.errors import APIError
from api.metrics import Metrics
from api.settings import Settings

log = logging.getLogger("condenser.api.upstream")

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade", "host", "content-length"})
#: never forwarded upstream: ours (controls, proxy key) or set by httpx
DROP_REQUEST = HOP_BY_HOP | {"accept-encoding", PROXY_KEY_HEADER}


def _forward_headers(headers: Mapping[str, str], caller: Caller, settings: Settings, anthropic: bool) -> dict:
    out = {k: v for k, v in headers.items()
           if k.lower() not in DROP_REQUEST and not k.lower().startswith("x-condenser-")
           and k.lower() != settings.tenant_header.lower()}
    out["accept-encoding"] = "identity"  # relayed byte for byte: an event stream must not sit in a gzip buffer
    if caller.swap_credential:  # the client authenticated with a proxy key: use the deployment's provider key
        out = {k: v for k, v in out.items() if k.lower() not in ("authorization", "x-api-key")}
        if settings.upstream_api_key:
            if anthropic:
                out["x-api-key"] = settings.upstream_api_key
            else:
                out["authorization"] = f"Bearer {settings.upstream_api_key}"
    return out


def _response_headers(headers: httpx.Headers, extra: Mapping[str, str]) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
    out.update(extra)
    return out


def _sse_error(message: str) -> bytes:
    payload = json.dumps({"error": {"message": message, "type": "upstream_error"}})
    return f"event: error\ndata: {payload}\n\n".encode()


class Upstream:
    """One pooled HTTP client towards every configured provider."""

    def __init__(self, settings: Settings, metrics: Metrics):
        self.settings, self.metrics = settings, metrics
        timeout = httpx.Timeout(settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s)
        self.client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=512,
                                                                             max_keepalive_connections=128))

    def base_url(self, anthropic: bool, model: str | None) -> str:
        """The provider for a request: a model-prefix route, else the route's default upstream."""
        if model:
            prefixes = sorted((p for p in self.settings.model_routes if model.startswith(p)), key=len, reverse=True)
            if prefixes:
                return self.settings.model_routes[prefixes[0]].rstrip("/")
        return self.settings.anthropic_base_url if anthropic else self.settings.openai_base_url

    async def forward(self, method: str, path: str, *, headers: Mapping[str, str], caller: Caller,
                      body: bytes | None = None, anthropic: bool = False, model: str | None = None,
                      query: str = "", extra_headers: Mapping[str, str] | None = None) -> Response:
        """Send the request upstream and return its answer as is (streamed when it is an event stream)."""
        url = f"{self.base_url(anthropic, model)}{path}"
        if query:
            url = f"{url}?{query}"
        request = self.client.build_request(method, url, content=body,
                                            headers=_forward_headers(headers, caller, self.settings, anthropic))
        try:
            upstream = await self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            self.metrics.upstream_errors.labels("timeout").inc()
            raise APIError(504, f"upstream timed out ({type(exc).__name__})", type="upstream_timeout") from exc
        except httpx.HTTPError as exc:
            self.metrics.upstream_errors.labels("connect").inc()
            raise APIError(502, f"upstream unreachable ({type(exc).__name__})", type="upstream_error") from exc
        if upstream.status_code >= 400:
            self.metrics.upstream_errors.labels(f"http_{upstream.status_code // 100}xx").inc()
        headers_out = _response_headers(upstream.headers, extra_headers or {})
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            return StreamingResponse(self._relay(upstream), status_code=upstream.status_code, headers=headers_out)
        try:
            content = b"".join([chunk async for chunk in upstream.aiter_raw()])
        except httpx.HTTPError as exc:
            self.metrics.upstream_errors.labels("interrupted").inc()
            raise APIError(502, f"upstream response interrupted ({type(exc).__name__})", type="upstream_error") from exc
        finally:
            await upstream.aclose()
        return Response(content, status_code=upstream.status_code, headers=headers_out)

    async def _relay(self, upstream: httpx.Response) -> AsyncIterator[bytes]:
        """Chunks as they come; an interrupted stream ends with an SSE error event, never a hang."""
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            self.metrics.upstream_errors.labels("interrupted").inc()
            log.warning("upstream stream interrupted (%s)", type(exc).__name__)
            yield _sse_error(f"upstream stream interrupted ({type(exc).__name__})")
        finally:
            await upstream.aclose()

    async def close(self) -> None:
        await self.client.aclose()
