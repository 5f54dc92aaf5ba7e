"""The OpenAI/Anthropic proxy against a real uvicorn, a real redis-server and a fake provider on loopback."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from tests.api.conftest import proxy_settings
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve

SECRET = "sk-test-SECRET-4242-never-log-me"
AUTH = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture(scope="module")
def item(shared_data):
    item = hotpotqa_items(shared_data, 1)[0]
    item["context"] = "\n\n".join(item["paragraphs"])
    return item


def chat(item, **extra):
    return {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "Answer from the documents.\n\n" + item["context"]},
        {"role": "user", "content": item["question"]}], **extra}


def last_seen(upstream):
    return upstream[1].state.seen[-1]


def test_forwarded_body_is_compressed_and_headers_report_it(proxy, upstream, item):
    r = httpx.post(f"{proxy}/v1/chat/completions", json=chat(item), headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"  # the upstream's answer, unchanged
    assert r.headers["x-upstream"] == "fake"
    sent = last_seen(upstream)
    system = sent["body"]["messages"][0]["content"]
    before, after = int(r.headers["x-condenser-tokens-before"]), int(r.headers["x-condenser-tokens-after"])
    assert r.headers["x-condenser-compression"] == "applied" and r.headers["x-condenser-method"] == "truncate"
    assert after < before / 3 and len(system) < len(item["context"]) / 2
    assert sent["body"]["messages"][1]["content"] == item["question"]  # the short question is untouched
    assert sent["headers"]["authorization"] == AUTH["Authorization"]  # the client's key passes through


def test_anthropic_messages_are_compressed(proxy, upstream, item):
    body = {"model": "claude-x", "max_tokens": 10, "system": item["context"],
            "messages": [{"role": "user", "content": [{"type": "text", "text": item["question"]}]}]}
    r = httpx.post(f"{proxy}/v1/messages", json=body, headers={"x-api-key": SECRET}, timeout=60)
    assert r.status_code == 200 and r.json()["type"] == "message"
    sent = last_seen(upstream)
    assert sent["path"] == "/v1/messages" and sent["headers"]["x-api-key"] == SECRET
    assert len(sent["body"]["system"]) < len(item["context"]) / 2
    assert r.headers["x-condenser-compression"] == "applied"


def test_long_last_user_message_keeps_its_question(proxy, upstream, item):
    content = f"{item['context']}\n\n{item['question']}"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    assert httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=AUTH, timeout=60).status_code == 200
    sent = last_seen(upstream)["body"]["messages"][0]["content"]
    assert sent.endswith(item["question"]) and len(sent) < len(content) / 2


def test_controls_from_headers_and_body_field(proxy, upstream, item):
    r = httpx.post(f"{proxy}/v1/chat/completions", json=chat(item), timeout=60,
                   headers={**AUTH, "X-Condenser-Bypass": "true"})
    assert r.headers["x-condenser-compression"] == "bypassed"
    assert last_seen(upstream)["body"]["messages"][0]["content"].endswith(item["context"])
    r = httpx.post(f"{proxy}/v1/chat/completions", json=chat(item, condenser={"rate": 0.5}), headers=AUTH,
                   timeout=60)
    sent = last_seen(upstream)
    assert "condenser" not in sent["body"]  # our field never reaches the provider
    assert not any(k.startswith("x-condenser") for k in sent["headers"])
    half = int(r.headers["x-condenser-tokens-after"]) / int(r.headers["x-condenser-tokens-before"])
    assert 0.4 < half <= 0.55
    r = httpx.post(f"{proxy}/v1/chat/completions", json=chat(item), timeout=60,
                   headers={**AUTH, "X-Condenser-Method": "extractive", "X-Condenser-Rate": "0.2"})
    assert r.headers["x-condenser-method"] == "extractive"


def test_short_prompts_are_forwarded_untouched(proxy, upstream):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there"}]}
    r = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=AUTH, timeout=30)
    assert r.headers["x-condenser-compression"] == "skipped"
    assert last_seen(upstream)["body"] == body


def test_streaming_passes_through_chunk_by_chunk(proxy, item):
    arrivals = []
    with httpx.stream("POST", f"{proxy}/v1/chat/completions", json=chat(item, stream=True), headers=AUTH,
                      timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-condenser-compression"] == "applied"
        for line in r.iter_lines():
            if line.startswith("data: {"):
                arrivals.append((time.monotonic(), json.loads(line[6:])))
    assert len(arrivals) == 4
    # the fake provider waits 0.3 s between chunks: unbuffered, they arrive spread out, not all at the end
    assert arrivals[-1][0] - arrivals[0][0] > 0.6
    text = "".join(a[1]["choices"][0]["delta"]["content"] for a in arrivals)
    assert text  # what the provider streamed, reassembled


def test_stream_cut_midway_ends_with_an_error_event(proxy, item):
    with httpx.stream("POST", f"{proxy}/v1/chat/completions", json=chat(item, stream=True, model="cut"),
                      headers=AUTH, timeout=30) as r:
        lines = list(r.iter_lines())
    assert any(line == "event: error" for line in lines)
    assert "interrupted" in next(line for line in lines if line.startswith("data: {\"error\""))


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_upstream_errors_come_back_with_their_status_and_body(proxy, status):
    body = {"model": f"fail-{status}", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=AUTH, timeout=30)
    assert r.status_code == status
    assert r.json()["error"]["message"] == f"fake upstream failure {status}"


def test_unreachable_upstream_is_a_502_and_a_slow_one_a_504(upstream):
    from api.app import create_app
    from tests.fixtures.redis_server import free_port

    dead = proxy_settings(f"http://127.0.0.1:{free_port()}/v1", None)
    with serve(create_app(dead)) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json={"model": "m", "messages": []}, timeout=30)
    assert r.status_code == 502 and r.json()["error"]["type"] == "upstream_error"
    slow = proxy_settings(upstream[0], None, upstream_timeout_s=0.3)
    with serve(create_app(slow)) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json={"model": "slow-2", "messages": []}, timeout=30)
    assert r.status_code == 504 and "timed out" in r.json()["error"]["message"]


def test_models_pass_through(proxy, upstream):
    r = httpx.get(f"{proxy}/v1/models", headers=AUTH, timeout=30)
    assert r.status_code == 200 and r.json()["data"][0]["id"] == "fake-model"
    assert last_seen(upstream)["headers"]["authorization"] == AUTH["Authorization"]


def test_compressor_failure_fails_open_or_closed(upstream, item, monkeypatch):
    from api.app import create_app
    from pipelines.pipeline import Pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("compressor crashed")

    monkeypatch.setattr(Pipeline, "run", broken)
    with serve(create_app(proxy_settings(upstream[0], None))) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=chat(item), headers=AUTH, timeout=30)
    assert r.status_code == 200 and r.headers["x-condenser-compression"] == "failed-open"
    assert last_seen(upstream)["body"]["messages"][0]["content"].endswith(item["context"])
    with serve(create_app(proxy_settings(upstream[0], None, fail_open=False))) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=chat(item), headers=AUTH, timeout=30)
    assert r.status_code == 503 and "fail-closed" in r.json()["error"]["message"]


def test_keys_never_reach_logs_or_redis(upstream, redis_server, item, caplog):
    from api.app import create_app

    caplog.set_level(logging.DEBUG)
    settings = proxy_settings(upstream[0], redis_server.url, api_keys=["proxy-key-SECRET-77"],
                              upstream_api_key="sk-upstream-SECRET-99")
    with serve(create_app(settings)) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=chat(item),
                       headers={"Authorization": "Bearer proxy-key-SECRET-77"}, timeout=60)
        assert r.status_code == 200
        # the client used a proxy key: the provider got the deployment's key instead, never the proxy key
        assert last_seen(upstream)["headers"]["authorization"] == "Bearer sk-upstream-SECRET-99"
        httpx.post(f"{url}/v1/compress", json={"context": item["context"], "query": "q", "method": "truncate"},
                   headers={"Authorization": "Bearer proxy-key-SECRET-77", "X-Condenser-Tenant": "team-a"})
        assert httpx.get(f"{url}/v1/models").status_code == 401
    client = redis_server.client()
    stored = b" ".join(k + b" " + (client.get(k) or b"") for k in client.scan_iter("*"))
    assert stored  # entries were written...
    for secret in ("proxy-key-SECRET-77", "sk-upstream-SECRET-99", SECRET, "team-a"):
        assert secret.encode() not in stored  # ...and no key or tenant name is among them
        assert secret not in caplog.text
