"""condenser.Client / AsyncClient against real uvicorn servers on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from types import SimpleNamespace

import pytest

from compressor import CompressionResult, compress
from condenser.client import AsyncClient, Client
from condenser.errors import CondenserConnectionError, CondenserError, CondenserHTTPError
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve, service_app

FAST = {"method": "truncate"}  # model-free, so these tests take milliseconds
CANNED = {"text": "ok", "original_tokens": 10, "compressed_tokens": 1, "ratio": 10.0, "method": "truncate",
          "kept": [{"doc": 0, "start": 0, "end": 2, "score": 1.0}], "cached": True}


@pytest.fixture(scope="module")
def service():
    with serve(service_app()) as url:
        yield url


@pytest.fixture(scope="module")
def scripted():
    """A server whose answers the test scripts: ``failures`` answers of ``status`` first, then CANNED."""
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    state = SimpleNamespace(calls=[], failures=0, status=503, delay=0.0, body=None)

    async def answer(request):
        state.calls.append(dict(request.headers))
        if state.delay:
            await asyncio.sleep(state.delay)
        if len(state.calls) <= state.failures:
            return JSONResponse({"error": {"message": "overloaded, try later"}}, status_code=state.status)
        if state.body is not None:
            return PlainTextResponse(state.body)
        return JSONResponse(CANNED)

    app = Starlette(routes=[Route("/v1/compress", answer, methods=["POST"])])
    with serve(app) as url:
        state.url = url
        yield state


@pytest.fixture
def script(scripted):
    scripted.calls.clear()
    scripted.failures, scripted.status, scripted.delay, scripted.body = 0, 503, 0.0, None
    return scripted


@pytest.fixture(scope="module")
def item(shared_data):
    return hotpotqa_items(shared_data, 1)[0]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_remote_result_equals_in_process(service, item):
    text = "\n\n".join(item["paragraphs"])
    local = compress(text, item["question"], rate=0.3, **FAST)
    with Client(service) as client:
        remote = client.compress(text, item["question"], rate=0.3, **FAST)
    assert isinstance(remote, CompressionResult)
    assert remote.text == local.text
    assert (remote.original_tokens, remote.compressed_tokens) == (local.original_tokens, local.compressed_tokens)
    assert remote.compressed_tokens <= 0.3 * remote.original_tokens + 1
    assert [s.model_dump() for s in remote.kept] == [s.model_dump() for s in local.kept]


def test_list_input_keeps_document_boundaries(service, item):
    docs = item["paragraphs"]
    with Client(service) as client:
        result = client.compress(docs, item["question"], target_tokens=200, **FAST)
    assert result.documents is not None and len(result.documents) == len(docs)
    assert result.compressed_tokens <= 200
    assert all(doc.startswith(kept) for doc, kept in zip(docs, result.documents))


def test_options_reach_the_service(service, item):
    with Client(service) as client:
        result = client.compress(item["paragraphs"][0], rate=0.5, model="gpt-4o", **FAST)
    assert result.encoding == "o200k_base"


def test_bad_arguments_fail_like_the_sdk_before_sending(service, item):
    with Client(service) as client:
        for kwargs, error in [({"rate": 1.5}, ValueError), ({"target_tokens": 2.5}, TypeError)]:
            with pytest.raises(error) as remote:
                client.compress(item["paragraphs"][0], **kwargs)
            with pytest.raises(error) as local:
                compress(item["paragraphs"][0], **kwargs)
            assert str(remote.value) == str(local.value)
        with pytest.raises(TypeError, match="context"):
            client.compress(b"bytes are not text")


def test_refused_request_raises_http_error_with_server_message(service, item):
    with Client(service) as client, pytest.raises(CondenserHTTPError) as info:
        client.compress(item["paragraphs"][0], rate=0.5, method="no-such-method")
    assert 400 <= info.value.status_code < 500
    assert "method" in info.value.message.lower()


def test_client_errors_are_not_retried(script):
    script.failures, script.status = 5, 400
    with Client(script.url, retries=3, backoff=0.01) as client, pytest.raises(CondenserHTTPError) as info:
        client.compress("text")
    assert info.value.status_code == 400 and info.value.message == "overloaded, try later"
    assert len(script.calls) == 1


def test_server_errors_are_retried_then_succeed(script):
    script.failures = 2
    with Client(script.url, retries=2, backoff=0.01) as client:
        result = client.compress("text", "q")
    assert len(script.calls) == 3
    assert result.text == "ok" and result.cached is True


def test_server_errors_exhaust_retries(script):
    script.failures = 10
    with Client(script.url, retries=1, backoff=0.01) as client, pytest.raises(CondenserHTTPError) as info:
        client.compress("text")
    assert info.value.status_code == 503
    assert len(script.calls) == 2


def test_connection_error_after_retries():
    started = time.monotonic()
    with Client(closed_port_url(), retries=2, backoff=0.05) as client, \
            pytest.raises(CondenserConnectionError, match="failed"):
        client.compress("text")
    assert time.monotonic() - started >= 0.05  # it did back off between attempts


def test_timeout_is_a_connection_error(script):
    script.delay = 1.0
    with Client(script.url, timeout=0.2, retries=0) as client, \
            pytest.raises(CondenserConnectionError, match="timed out"):
        client.compress("text")


def test_non_json_answer_is_a_clear_error(script):
    script.body = "<html>proxy error page</html>"
    with Client(script.url, retries=0) as client, pytest.raises(CondenserError, match="non-JSON"):
        client.compress("text")


def test_api_key_sent_as_bearer_and_never_shown(script, monkeypatch):
    monkeypatch.delenv("CONDENSER_API_KEY", raising=False)
    script.failures, script.status = 1, 401
    client = Client(script.url, api_key="sk-very-secret", retries=0)
    with client, pytest.raises(CondenserHTTPError) as info:
        client.compress("text")
    assert script.calls[0]["authorization"] == "Bearer sk-very-secret"
    assert "sk-very-secret" not in repr(client) and "sk-very-secret" not in str(info.value)
    with Client(script.url) as anonymous:
        anonymous.compress("text")
    assert "authorization" not in script.calls[-1]


def test_api_key_from_environment(script, monkeypatch):
    monkeypatch.setenv("CONDENSER_API_KEY", "env-key")
    with Client(script.url) as client:
        client.compress("text")
    assert script.calls[-1]["authorization"] == "Bearer env-key"


def test_context_manager_closes_and_arguments_are_checked(script):
    with Client(script.url) as client:
        pass
    with pytest.raises(RuntimeError):
        client.compress("text")
    with pytest.raises(ValueError, match="base_url"):
        Client("localhost:8000")
    with pytest.raises(ValueError, match="retries"):
        Client(script.url, retries=-1)


async def test_async_client_matches_sync(service, item):
    docs = item["paragraphs"]
    with Client(service) as client:
        expected = client.compress(docs, item["question"], rate=0.25, **FAST)
    async with AsyncClient(service) as client:
        results = await asyncio.gather(*(client.compress(docs, item["question"], rate=0.25, **FAST)
                                         for _ in range(3)))
    assert all(r.documents == expected.documents for r in results)


async def test_async_client_retries_and_raises(script):
    script.failures = 1
    async with AsyncClient(script.url, retries=1, backoff=0.01) as client:
        assert (await client.compress("text")).text == "ok"
    script.calls.clear()
    script.failures, script.status = 5, 422
    async with AsyncClient(script.url, retries=3, backoff=0.01) as client:
        with pytest.raises(CondenserHTTPError, match="overloaded"):
            await client.compress("text")
    assert len(script.calls) == 1
    async with AsyncClient(closed_port_url(), retries=1, backoff=0.01) as client:
        with pytest.raises(CondenserConnectionError):
            await client.compress("text")


def test_methods_lists_the_service_methods(service):
    with Client(service) as client:
        try:
            names = client.methods()
        except CondenserHTTPError as exc:
            if exc.status_code != 404:
                raise
            pytest.skip("this service has no GET /v1/methods")
    assert {"truncate", "extractive", "condenser"} <= set(names)
