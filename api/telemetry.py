"""Optional OpenTelemetry tracing of the service (the ``otel`` extra).

Turned on by ``CONDENSER_OTEL=true`` or by any of the standard ``OTEL_*`` exporter variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_TRACES_EXPORTER``,
``OTEL_SERVICE_NAME``); ``OTEL_SDK_DISABLED=true`` turns it off. Each request gets a server span from the
official FastAPI instrumentation, each compression a ``condenser.compress`` span with a child per pipeline
stage (``pipelines.tracing``), and each call to a provider a ``condenser.upstream`` client span.

Attributes are counts, names, routes and hosts: never prompt text, questions, keys or query strings. The
server span's URL loses its query string, and captured headers that can hold a credential are redacted.
Without the extra installed the service runs untraced and says so once in its log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import FastAPI

from api.settings import Settings
from pipelines import tracing

log = logging.getLogger("condenser.api.telemetry")

#: any of these set (non-empty) asks for tracing, as the OpenTelemetry SDK's own configuration would
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER",
             "OTEL_SERVICE_NAME")
#: header names (regexes) whose values never reach a span, even when header capture is configured
SENSITIVE_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", ".*key.*", ".*token.*",
                     ".*secret.*"]
#: health probes, scrapes and the playground's static files are not traced: they would drown the requests
EXCLUDED_URLS = "/healthz,/readyz,/metrics,/favicon.ico,/playground"

_warned = False


def wanted(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether tracing is asked for by ``settings.otel`` or the standard ``OTEL_*`` variables."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return settings.otel or any(environ.get(name, "").strip() for name in OTEL_VARS)


def setup(app: FastAPI, settings: Settings) -> bool:
    """Instrument ``app`` when tracing is wanted and the ``otel`` extra is installed; True when it is traced.

    An SDK tracer provider already installed (by ``opentelemetry-instrument``, a test, or an embedding
    application) is used as it is; otherwise one is made with the exporter ``OTEL_TRACES_EXPORTER`` names
    (``otlp``, the default, over HTTP; ``console``; ``none``).
    """
    global _warned
    if not wanted(settings):
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        if not _warned:
            log.warning("tracing is asked for (CONDENSER_OTEL or OTEL_* variables) but the otel extra is not "
                        "installed: pip install 'condenser[otel]'; serving without tracing")
            _warned = True
        return False
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = _provider()
        trace.set_tracer_provider(provider)
    sanitize = SENSITIVE_HEADERS + [h.strip() for h in
                                    os.environ.get("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS",
                                                   "").split(",") if h.strip()]
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, server_request_hook=_scrub_server_span,
                                       exclude_spans=["receive", "send"], excluded_urls=EXCLUDED_URLS,
                                       http_capture_headers_sanitize_fields=sanitize)
    log.info("tracing on: OpenTelemetry spans per request, compression stage and upstream call")
    return True


def _provider() -> Any:
    """An SDK tracer provider for this service with the exporter the ``OTEL_*`` variables choose."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME")
                                                        or "condenser"}))
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name != "none":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("no OTLP exporter installed (pip install 'condenser[otel]'): spans are not exported")
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _scrub_server_span(span: Any, scope: Mapping[str, Any]) -> None:
    """The server span keeps the path, never the query string (a provider key can ride in one)."""
    if span is None or not span.is_recording():
        return
    for name in ("http.url", "url.full"):
        value = getattr(span, "attributes", {}).get(name)
        if isinstance(value, str):
            span.set_attribute(name, value.split("?", 1)[0])
    for name in ("http.target", "url.query"):
        if name in getattr(span, "attributes", {}):
            span.set_attribute(name, scope.get("path", "") if name == "http.target" else "")


def upstream_attributes(route: str, url: str, method: str) -> dict[str, Any]:
    """Where a provider call goes: route name, host, port and path (no query string, no credentials)."""
    parts = urlsplit(url)
    attributes: dict[str, Any] = {"condenser.upstream.route": route, "http.request.method": method,
                                  "server.address": parts.hostname or "", "url.path": parts.path}
    if parts.port:
        attributes["server.port"] = parts.port
    return attributes


#: the proxy's own headers whose (numeric or short) values are copied onto the upstream span
_HEADER_ATTRIBUTES = {"x-condenser-tokens-before": "condenser.tokens.original",
                      "x-condenser-tokens-after": "condenser.tokens.compressed",
                      "x-condenser-protected-tokens": "condenser.tokens.protected",
                      "x-condenser-parts": "condenser.parts", "x-condenser-compression": "condenser.compression",
                      "x-condenser-method": "condenser.method", "x-condenser-cache": "condenser.cache"}


def _usage(body: bytes) -> dict[str, int]:
    """The provider's token usage in a JSON answer (OpenAI or Anthropic field names), if it has one."""
    try:
        usage = orjson.loads(body).get("usage")
    except (orjson.JSONDecodeError, AttributeError):
        return {}
    if not isinstance(usage, dict):
        return {}
    pairs = {"gen_ai.usage.input_tokens": usage.get("prompt_tokens", usage.get("input_tokens")),
             "gen_ai.usage.output_tokens": usage.get("completion_tokens", usage.get("output_tokens"))}
    return {k: v for k, v in pairs.items() if isinstance(v, int)}


@contextmanager
def upstream_span(route: str, url: str, method: str, extra_headers: Mapping[str, str] | None) -> Iterator[Any]:
    """A ``condenser.upstream`` client span around one provider call, with the proxy's token counts; it
    ends when the provider's response headers are in (a stream's body is relayed after it)."""
    attributes = upstream_attributes(route, url, method)
    for header, name in _HEADER_ATTRIBUTES.items():
        value = (extra_headers or {}).get(header)
        if value is not None:
            attributes[name] = int(value) if value.isdigit() else value
    with tracing.span("condenser.upstream", attributes, client=True) as span:
        yield span


def record_response(span: Any, status: int, body: bytes | None, streamed: bool = False) -> None:
    """The provider's status, whether it streams and, for a JSON answer, its usage counts, on ``span``
    (None: tracing off)."""
    if span is None:
        return
    span.set_attributes({"http.response.status_code": status, "condenser.upstream.streamed": streamed})
    if body:
        span.set_attributes(_usage(body))
