"""Input limits before parsing, compressor failures failing open, and headers relayed byte for byte (issue 35).

Against a real uvicorn and the fake provider on loopback (in-process cache only: no Redis needed).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import httpx
import pytest

from api.limits import MAX_TARGET_TOKENS, json_depth
from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

LONG = "The river bends north past the old mill and the stone bridge. " * 60  # ~700 tokens: compressed
CHAT_PATHS = ["/v1/chat/completions", "/v1/messages"]


def chat(content=LONG, **extra):
    return {"model": "gpt-4o-mini", "max_tokens": 10, "messages": [{"role": "user", "content": content}], **extra}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture(scope="module")
def service(upstream):
    """The service with small message/part/header limits (the defaults for the JSON depth)."""
    from api.app import create_app

    settings = proxy_settings(upstream[0], None, max_messages=6, max_parts=8, max_headers=40,
                              max_header_bytes=4096)
    with serve(create_app(settings)) as url:
        yield url


def error_of(r: httpx.Response) -> dict:
    return r.json()["error"]


# 35.1: deep nesting


@pytest.mark.parametrize("path", CHAT_PATHS)
def test_deep_nesting_in_a_chat_body_is_a_400_and_the_connection_stays_usable(service, path):
    address = urlsplit(service)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    # 252 nested arrays inside a field: orjson parsed it, then could not write it back (a 500 and a reset)
    body = '{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": DEEP}]}'
    body = body.replace("DEEP", nested(252))
    conn.request("POST", path, body=body, headers={"content-type": "application/json"})
    first = conn.getresponse()
    error = json.loads(first.read())["error"]
    assert first.status == 400 and error["param"] == "body"
    assert "CONDENSER_MAX_JSON_DEPTH" in error["message"] and "64" in error["message"]
    sock = conn.sock
    conn.request("POST", path, body=json.dumps(chat("hello")), headers={"content-type": "application/json"})
    second = conn.getresponse()
    assert second.status == 200 and second.read()
    assert conn.sock is sock  # the same keep-alive connection answered both
    conn.close()


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/compress", '{"context": "a b c", "options": {"x": DEEP}}'),
    ("/v1/compress/batch", '{"items": [{"context": "a b c", "options": {"x": DEEP}}]}'),
    ("/v1/chat/completions", '{"model": "m", "messages": [], "tools": DEEP}'),
])
@pytest.mark.parametrize("depth", [65, 3000, 200_000])
def test_deep_nesting_is_refused_before_parsing_everywhere(service, path, body, depth):
    r = httpx.post(f"{service}{path}", content=body.replace("DEEP", nested(depth)),
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 400 and error_of(r)["param"] == "body"
    assert "deeper than 64 levels" in error_of(r)["message"]


def test_nesting_at_the_limit_passes_on(service, upstream):
    # 64 levels in all: the object, "messages", the message, then 61 arrays in an extra field
    body = '{"model": "m", "messages": [{"role": "user", "content": "hi", "x": DEEP}]}'.replace("DEEP", nested(61))
    assert json_depth(body.encode()) == 64
    r = httpx.post(f"{service}/v1/chat/completions", content=body, headers={"content-type": "application/json"},
                   timeout=30)
    assert r.status_code == 200
    assert upstream[1].state.seen[-1]["body"]["messages"][0]["x"] == json.loads(nested(61))


def test_json_depth_skips_brackets_inside_strings():
    text = json.dumps({"a": [1, {"b": "[[[{{ \\\" [[ \\\\"}], "c": "]]]]"})
    assert json_depth(text.encode()) == 3
    assert json_depth(b'"[[["') == 0 and json_depth(b"[]") == 1 and json_depth(b"{}") == 1
    assert json_depth(nested(100_000).encode(), stop_above=64) > 64


# messages, parts and headers


def test_too_many_messages_or_parts_is_a_413_naming_the_setting(service):
    many = {"model": "m", "messages": [{"role": "user", "content": "hi"}] * 7}
    r = httpx.post(f"{service}/v1/chat/completions", json=many, timeout=30)
    assert r.status_code == 413 and "CONDENSER_MAX_MESSAGES" in error_of(r)["message"]
    assert error_of(r)["param"] == "messages"
    blocks = [{"type": "text", "text": "hi"}] * 5
    parts = {"model": "m", "max_tokens": 5, "system": [{"type": "text", "text": "s"}],
             "messages": [{"role": "user", "content": blocks}, {"role": "user", "content": "x"},
                          {"role": "user", "content": [{"type": "tool_result", "content": blocks[:1]}]}]}
    r = httpx.post(f"{service}/v1/messages", json=parts, timeout=30)  # 1 + 5 + 1 + 2 = 9 parts
    assert r.status_code == 413 and "9 content parts" in error_of(r)["message"]
    assert "CONDENSER_MAX_PARTS" in error_of(r)["message"]
    parts["messages"].pop()  # 7 parts: under the limit
    assert httpx.post(f"{service}/v1/messages", json=parts, timeout=30).status_code == 200


def test_too_many_or_too_large_headers_is_a_431_naming_the_setting(service):
    many = {f"x-h{i}": "v" for i in range(45)}
    r = httpx.get(f"{service}/healthz", headers=many, timeout=30)
    assert r.status_code == 431 and "CONDENSER_MAX_HEADERS" in error_of(r)["message"]
    r = httpx.post(f"{service}/v1/chat/completions", json=chat("hi"), headers={"x-big": "v" * 5000}, timeout=30)
    assert r.status_code == 431 and "CONDENSER_MAX_HEADER_BYTES" in error_of(r)["message"]
    assert error_of(r)["param"] == "headers"
    assert httpx.get(f"{service}/healthz", headers={"x-big": "v" * 3000}, timeout=30).status_code == 200


# 35.8: compressor errors fail open, client mistakes are 400


def test_a_compressor_error_fails_open_or_closed_by_setting(upstream, monkeypatch):
    from api.app import create_app
    from pipelines.pipeline import Pipeline

    def missing_checkpoint(*args, **kwargs):
        raise ValueError("checkpoint some-org/model: not a local folder and could not be fetched")

    monkeypatch.setattr(Pipeline, "run", missing_checkpoint)  # what the service reported as a 422 before
    with serve(create_app(proxy_settings(upstream[0], None))) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=chat(), headers={"X-Condenser-Method": "llmlingua2"},
                       timeout=60)
        assert r.status_code == 200 and r.headers["x-condenser-compression"] == "failed-open"
        assert upstream[1].state.seen[-1]["body"]["messages"][0]["content"] == LONG  # forwarded uncompressed
        compressed = httpx.post(f"{url}/v1/compress", json={"context": LONG, "method": "truncate"}, timeout=60)
        assert compressed.status_code == 422  # the compression endpoint still reports it to its caller
    with serve(create_app(proxy_settings(upstream[0], None, fail_open=False))) as url:
        r = httpx.post(f"{url}/v1/messages", json=chat(), timeout=60)
    assert r.status_code == 503 and error_of(r)["type"] == "compression_error"


def test_llmlingua2_without_a_checkpoint_fails_open(service, upstream):
    from compressor import available_methods

    if "llmlingua2" not in available_methods():
        pytest.skip("llmlingua2 is not offered here")
    r = httpx.post(f"{service}/v1/chat/completions", json=chat(), headers={"X-Condenser-Method": "llmlingua2"},
                   timeout=120)
    assert r.status_code == 200  # compressed (a checkpoint is here) or failed open (none): never a 4xx
    if r.headers["x-condenser-compression"] == "failed-open":
        assert upstream[1].state.seen[-1]["body"]["messages"][0]["content"] == LONG


@pytest.mark.parametrize("value", [str(MAX_TARGET_TOKENS + 1), "10000000000", str(10**30)])
def test_an_over_large_target_tokens_header_is_a_400_naming_it(service, value):
    r = httpx.post(f"{service}/v1/chat/completions", json=chat(), headers={"X-Condenser-Target-Tokens": value},
                   timeout=30)
    assert r.status_code == 400 and error_of(r)["param"] == "x-condenser-target-tokens"
    assert str(MAX_TARGET_TOKENS) in error_of(r)["message"]


def test_target_tokens_bound_is_in_the_body_field_and_compress_schemas(service):
    r = httpx.post(f"{service}/v1/chat/completions", json=chat(condenser={"target_tokens": MAX_TARGET_TOKENS + 1}),
                   timeout=30)
    assert r.status_code == 400 and error_of(r)["param"] == "condenser.target_tokens"
    r = httpx.post(f"{service}/v1/compress", json={"context": LONG, "target_tokens": MAX_TARGET_TOKENS + 1},
                   timeout=30)
    assert r.status_code == 422 and error_of(r)["param"] == "target_tokens"
    schema = httpx.get(f"{service}/openapi.json", timeout=30).json()["components"]["schemas"]["CompressRequest"]
    bound = schema["properties"]["target_tokens"]["anyOf"][0]
    assert bound["maximum"] == MAX_TARGET_TOKENS
    r = httpx.post(f"{service}/v1/chat/completions", json=chat(), timeout=60,
                   headers={"X-Condenser-Target-Tokens": str(MAX_TARGET_TOKENS), "X-Condenser-Min-Tokens": "100"})
    assert r.status_code == 200 and r.headers["x-condenser-compression"] == "applied"


# 35.9: header bytes


@pytest.fixture(scope="module")
def echo_upstream():
    """A provider that records the raw header bytes it got and answers with non-ASCII header bytes."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    seen: list[list[tuple[bytes, bytes]]] = []

    async def echo(request):
        seen.append(list(request.scope["headers"]))
        response = Response(b"{}", media_type="application/json")
        response.raw_headers.append((b"x-reply", "caf\u00e9 \u20ac".encode()))  # UTF-8 bytes
        response.raw_headers.append((b"x-reply-latin", b"caf\xe9"))  # a lone latin-1 byte
        return response

    app = Starlette(routes=[Route("/v1/chat/completions", echo, methods=["POST"]),
                            Route("/v1/models", echo, methods=["GET"])])
    with serve(app) as url:
        yield f"{url}/v1", seen


def test_non_ascii_header_bytes_pass_through_unchanged(echo_upstream):
    from api.app import create_app

    url_up, seen = echo_upstream
    with serve(create_app(proxy_settings(url_up, None))) as url:
        sent = "caf\u00e9 \u2014 na\u00efve".encode()
        r = httpx.post(f"{url}/v1/chat/completions", json=chat("hi"), headers={"x-title": sent}, timeout=30)
        assert r.status_code == 200
        assert dict(seen[-1])[b"x-title"] == sent  # byte for byte, not re-encoded ("Ã©")
        assert dict(r.headers.raw)[b"x-reply"] == "caf\u00e9 \u20ac".encode()
        assert dict(r.headers.raw)[b"x-reply-latin"] == b"caf\xe9"
        r = httpx.get(f"{url}/v1/models", headers={"x-title": sent}, timeout=30)
        assert r.status_code == 200 and dict(seen[-1])[b"x-title"] == sent
        # a value that is not UTF-8 (a lone 0xE9) cannot go through the HTTP client unchanged: a clear 400
        count = len(seen)
        r = httpx.post(f"{url}/v1/chat/completions", json=chat("hi"), headers={"x-title": b"caf\xe9"}, timeout=30)
        assert r.status_code == 400 and error_of(r)["param"] == "x-title" and len(seen) == count
