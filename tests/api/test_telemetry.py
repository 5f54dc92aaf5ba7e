"""OpenTelemetry tracing (issue 34.8): spans per request, pipeline stage and upstream call, with token counts
and without prompt text or keys; recorded with the SDK's in-memory exporter."""

from __future__ import annotations

import logging
import sys

import pytest
from fastapi.testclient import TestClient

from api import telemetry
from api.settings import Settings
from tests.api.conftest import proxy_settings

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="pip install 'condenser[otel]'")
pytest.importorskip("opentelemetry.instrumentation.fastapi", reason="pip install 'condenser[otel]'")

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

KEY = "sk-live-SECRET-key-0042-never-in-a-span"
PROXY_KEY = "proxy-key-SECRET-7"
QUESTION = "Which river did the Ottoline expedition of 1893 follow upstream?"
CONTEXT = " ".join(f"Sentence {i} of the zebra-crossing ledger says the Ottoline expedition carried {i} crates "
                   f"of quinine along the Marrow River." for i in range(120))


@pytest.fixture(scope="module")
def spans():
    """The process's tracer provider (an SDK one, installed once) with an in-memory exporter attached."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@pytest.fixture
def traced(upstream, spans, monkeypatch):
    """A traced proxy in front of the fake provider that also asks to capture the credential headers."""
    from api.app import create_app

    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST",
                       "authorization,x-api-key,x-condenser-key,x-request-id")
    app = create_app(proxy_settings(upstream[0], None, otel=True, api_keys=[PROXY_KEY],
                                    upstream_api_keys={"openai": KEY, "anthropic": KEY}))
    spans.clear()
    with TestClient(app) as client:
        yield client


def by_name(finished) -> dict[str, list]:
    out: dict[str, list] = {}
    for span in finished:
        out.setdefault(span.name, []).append(span)
    return out


def assert_no_secrets(finished, *secrets: str) -> None:
    sentences = [s.strip() for s in CONTEXT.split(".") if s.strip()]
    for span in finished:
        for name, value in span.attributes.items():
            text = str(value)
            assert not any(secret in text for secret in secrets), (span.name, name, text)
            assert not any(sentence in text for sentence in sentences), (span.name, name)
            assert len(text) < 200, (span.name, name)  # counts, names and paths: nothing the size of a prompt


def test_compress_call_has_a_span_per_stage_with_token_counts(traced, spans):
    r = traced.post("/v1/compress", json={"context": CONTEXT, "query": QUESTION, "rate": 0.2, "method": "truncate"},
                    headers={"Authorization": f"Bearer {PROXY_KEY}"})
    assert r.status_code == 200, r.text
    body = r.json()
    finished = spans.get_finished_spans()
    named = by_name(finished)
    server = next(s for s in finished if s.kind == trace.SpanKind.SERVER)
    assert "/v1/compress" in server.name and server.attributes["http.status_code"] == 200
    run = named["condenser.compress"][0]
    assert run.attributes["condenser.tokens.original"] == body["original_tokens"]
    assert run.attributes["condenser.tokens.compressed"] == body["compressed_tokens"]
    assert run.attributes["condenser.method"] == "truncate"
    assert run.context.trace_id == server.context.trace_id  # the compression thread joined the request's trace
    stages = {name for name in named if name.startswith("condenser.stage.")}
    assert {"condenser.stage.chunk", "condenser.stage.compress", "condenser.stage.fit"} <= stages
    for name in stages:
        assert all(s.parent.span_id == run.context.span_id for s in named[name])
    assert server.attributes["http.request.header.authorization"] == ("[REDACTED]",)
    assert_no_secrets(finished, PROXY_KEY, QUESTION, KEY)


def test_proxied_chat_has_an_upstream_span_with_token_counts(traced, spans):
    chat = {"model": "claude-x", "max_tokens": 10, "system": CONTEXT,
            "messages": [{"role": "user", "content": QUESTION}]}
    r = traced.post("/v1/messages", json=chat, headers={"x-condenser-key": PROXY_KEY, "x-request-id": "chat-1"})
    assert r.status_code == 200, r.text
    assert r.headers["x-condenser-compression"] == "applied"
    finished = spans.get_finished_spans()
    named = by_name(finished)
    call = named["condenser.upstream"][0]
    assert call.kind == trace.SpanKind.CLIENT
    assert call.attributes["condenser.tokens.original"] == int(r.headers["x-condenser-tokens-before"])
    assert call.attributes["condenser.tokens.compressed"] == int(r.headers["x-condenser-tokens-after"])
    assert call.attributes["condenser.upstream.route"] == "anthropic"
    assert call.attributes["server.address"] == "127.0.0.1" and call.attributes["url.path"] == "/v1/messages"
    assert call.attributes["http.response.status_code"] == 200
    assert call.attributes["condenser.upstream.streamed"] is False
    assert call.attributes["gen_ai.usage.input_tokens"] == 0  # the fake provider's usage block
    server = next(s for s in finished if s.kind == trace.SpanKind.SERVER)
    assert call.parent.span_id == server.context.span_id
    assert named["condenser.compress"][0].context.trace_id == server.context.trace_id
    assert server.attributes["http.request.header.x_condenser_key"] == ("[REDACTED]",)
    assert server.attributes["http.request.header.x_request_id"] == ("chat-1",)
    assert_no_secrets(finished, PROXY_KEY, QUESTION, KEY)


def test_a_streamed_chat_is_marked_and_keeps_its_secrets(traced, spans):
    chat = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "system", "content": CONTEXT},
                                                                  {"role": "user", "content": QUESTION}]}
    with traced.stream("POST", "/v1/chat/completions", json=chat,
                       headers={"Authorization": f"Bearer {PROXY_KEY}"}) as r:
        assert r.status_code == 200 and b"[DONE]" in b"".join(r.iter_bytes())
    finished = spans.get_finished_spans()
    call = by_name(finished)["condenser.upstream"][0]
    assert call.attributes["condenser.upstream.streamed"] is True
    assert call.attributes["condenser.tokens.compressed"] < call.attributes["condenser.tokens.original"]
    assert_no_secrets(finished, QUESTION, KEY, PROXY_KEY)


def test_query_strings_stay_out_of_spans(traced, spans):
    r = traced.get("/v1/models?key=SECRET-in-query", headers={"Authorization": f"Bearer {PROXY_KEY}"})
    assert r.status_code == 200, r.text
    finished = spans.get_finished_spans()
    assert by_name(finished)["condenser.upstream"][0].attributes["url.path"] == "/v1/models"
    assert_no_secrets(finished, "SECRET-in-query", PROXY_KEY, KEY)


def test_upstream_failure_marks_the_span(upstream, spans):
    from api.app import create_app

    app = create_app(proxy_settings("http://127.0.0.1:9/v1", None, otel=True))
    spans.clear()
    with TestClient(app) as client:
        r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                        headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 502
    call = by_name(spans.get_finished_spans())["condenser.upstream"][0]
    assert call.attributes["http.response.status_code"] == 502 and call.attributes["error.type"] == "APIError"
    assert call.status.status_code == trace.StatusCode.ERROR and call.attributes["server.port"] == 9


def test_tracing_is_asked_for_by_the_setting_or_otel_variables():
    off, on = Settings(_env_file=None), Settings(otel=True, _env_file=None)
    assert not telemetry.wanted(off, {}) and telemetry.wanted(on, {})
    assert telemetry.wanted(off, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert telemetry.wanted(off, {"OTEL_SERVICE_NAME": "condenser-eu"})
    assert not telemetry.wanted(off, {"OTEL_EXPORTER_OTLP_ENDPOINT": " "})
    assert not telemetry.wanted(on, {"OTEL_SDK_DISABLED": "true"})


def test_without_the_extra_the_service_runs_and_says_so_once(upstream, monkeypatch, caplog):
    from api.app import create_app

    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.fastapi", None)  # import now fails
    monkeypatch.setattr(telemetry, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="condenser.api.telemetry"):
        apps = [create_app(proxy_settings(upstream[0], None, otel=True)) for _ in range(2)]
    warnings = [r for r in caplog.records if "otel extra is not installed" in r.getMessage()]
    assert len(warnings) == 1
    with TestClient(apps[0]) as client:
        assert client.post("/v1/compress", json={"context": CONTEXT, "rate": 0.5, "method": "truncate"}
                           ).status_code == 200
