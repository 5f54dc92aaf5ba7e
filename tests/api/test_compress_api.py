"""``/v1/compress``, its batch form, ``/v1/methods`` and every bad input, on a real uvicorn + redis-server."""

from __future__ import annotations

import httpx
import pytest

from compressor import compress
from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve
from tests.fixtures.model_calls import count_model_calls

TEXT = ("The Eiffel Tower is in Paris. It was finished in 1889. " * 3
        + "Mount Fuji is the highest mountain in Japan. Berlin is the capital of Germany. " * 6)
KEY = {"Authorization": "Bearer sk-tenant-one"}


def post(url, body, headers=KEY, path="/v1/compress"):
    return httpx.post(f"{url}{path}", json=body, headers=headers, timeout=120)


def test_compress_matches_the_sdk_and_reports_cached(proxy):
    body = {"context": TEXT, "query": "When was the Eiffel Tower finished?", "rate": 0.3, "method": "extractive"}
    first = post(proxy, body)
    assert first.status_code == 200, first.text
    local = compress(TEXT, body["query"], rate=0.3, method="extractive")
    got = first.json()
    assert got["text"] == local.text and got["compressed_tokens"] == local.compressed_tokens
    assert got["cached"] is False and {"text", "original_tokens", "ratio", "method", "kept", "timings"} <= set(got)
    assert got["kept"][0]["end"] > got["kept"][0]["start"]
    second = post(proxy, body).json()
    assert second["cached"] is True and second["text"] == got["text"]


def test_list_context_and_target_tokens(proxy):
    r = post(proxy, {"context": [TEXT, "Second document about rivers. " * 20], "target_tokens": 40,
                     "method": "truncate"})
    got = r.json()
    assert r.status_code == 200 and got["compressed_tokens"] <= 40 and len(got["documents"]) == 2


def test_batch_mixes_results_and_item_errors(proxy):
    items = [{"context": TEXT, "rate": 0.5, "method": "truncate"},
             {"context": TEXT, "rate": 0.5, "method": "truncate", "options": {"bogus": 1}}]
    r = post(proxy, {"items": items}, path="/v1/compress/batch")
    assert r.status_code == 200, r.text
    ok, bad = r.json()["results"]
    assert ok["method"] == "truncate" and "bogus" in bad["error"]["message"]
    assert bad["error"]["param"] == "items.1.options"


def test_batch_looks_each_item_up_once_and_computes_a_repeated_item_once(proxy, monkeypatch):
    from api.cache import CompressionCache

    lookups = []
    real_get = CompressionCache.get

    async def counting_get(self, key):
        lookups.append(key)
        return await real_get(self, key)

    monkeypatch.setattr(CompressionCache, "get", counting_get)
    item = {"context": TEXT + " batch repeat", "rate": 0.5, "method": "truncate"}
    other = {**item, "context": TEXT + " batch other"}
    r = post(proxy, {"items": [item, other, item]}, path="/v1/compress/batch")
    assert r.status_code == 200, r.text
    first, second, again = r.json()["results"]
    assert [first["cached"], second["cached"], again["cached"]] == [False, False, True]
    assert again["text"] == first["text"] and len(lookups) == 3  # one lookup per item, none repeated


def test_methods_lists_the_registry(proxy):
    got = httpx.get(f"{proxy}/v1/methods").json()
    assert {"truncate", "extractive", "condenser"} <= set(got["methods"]) and got["default"] == "truncate"


def test_tenants_never_share_cache_entries(proxy):
    body = {"context": TEXT + " tenant test", "rate": 0.5, "method": "truncate"}
    assert post(proxy, body).json()["cached"] is False
    assert post(proxy, body).json()["cached"] is True
    other = post(proxy, body, headers={"Authorization": "Bearer sk-tenant-two"}).json()
    assert other["cached"] is False  # same input, other key: recomputed, not read from tenant one
    sub = post(proxy, body, headers={**KEY, "X-Condenser-Tenant": "team-b"}).json()
    assert sub["cached"] is False  # a sub-tenant narrows the scope


BAD = [
    ({"context": TEXT, "rate": 1.5}, 422, "rate"),
    ({"context": TEXT, "rate": 0}, 422, "rate"),
    ({"context": TEXT, "rate": "half"}, 422, "rate"),
    ({"context": TEXT, "target_tokens": -3}, 422, "target_tokens"),
    ({"context": TEXT, "rate": 0.5, "target_tokens": 10}, 422, "target_tokens"),
    ({"context": TEXT, "method": "nope"}, 422, "method"),
    ({"context": 42}, 422, "context"),
    ({"context": "   "}, 422, "context"),
    ({"query": "q"}, 422, "context"),
    ({"context": TEXT, "surprise": 1}, 422, "surprise"),
    ({"context": TEXT, "options": {"encoding": "no_such_encoding"}}, 422, "encoding"),
    ({"context": TEXT, "method": "truncate", "options": {"context_budget": "+100"}}, 422, "context_budget"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD)
def test_bad_input_gets_a_4xx_naming_the_field(proxy, body, status, field):
    r = post(proxy, body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert field in error["message"]


def test_malformed_json_and_wrong_shapes(proxy):
    r = httpx.post(f"{proxy}/v1/compress", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
    r = httpx.post(f"{proxy}/v1/chat/completions", content=b"[1, 2", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = post(proxy, {"model": "m", "messages": "hello"}, path="/v1/chat/completions")
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    r = post(proxy, {"model": "m", "messages": [], "condenser": {"rate": 7}}, path="/v1/chat/completions")
    assert r.status_code == 400 and "condenser.rate" in r.json()["error"]["message"]
    r = httpx.post(f"{proxy}/v1/chat/completions", json={"model": "m", "messages": []},
                   headers={"X-Condenser-Method": "nope"})
    assert r.status_code == 400 and "method" in r.json()["error"]["message"]


def test_body_limit_auth_and_rate_limit(upstream):
    from api.app import create_app

    settings = proxy_settings(upstream[0], None, max_body_bytes=4096, api_keys=["k1"], rate_limit_per_minute=3)
    with serve(create_app(settings)) as url:
        big = post(url, {"context": "x " * 5000}, headers={"X-Condenser-Key": "k1"})
        assert big.status_code == 413 and "4096" in big.json()["error"]["message"]

        def chunks():
            yield b'{"context": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        chunked = httpx.post(f"{url}/v1/compress", content=chunks(), headers={"X-Condenser-Key": "k1",
                                                                              "content-type": "application/json"})
        assert chunked.status_code == 413  # no Content-Length: counted while streaming in
        assert post(url, {"context": TEXT}, headers={}).status_code == 401
        assert post(url, {"context": TEXT}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        codes = [post(url, {"context": TEXT, "method": "truncate"}, headers={"Authorization": "Bearer k1"}).status_code
                 for _ in range(3)]
        limited = post(url, {"context": TEXT}, headers={"Authorization": "Bearer k1"})
    assert codes == [200, 200, 200]  # refused requests (413, 401) do not count against the tenant
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_redis_dies_and_comes_back(upstream):
    from api.app import create_app
    from tests.fixtures.redis_server import RedisProcess

    redis = RedisProcess().start()
    try:
        with serve(create_app(proxy_settings(upstream[0], redis.url))) as url:
            ready = httpx.get(f"{url}/readyz").json()
            assert ready["status"] == "ready" and ready["redis"] == "up"
            assert post(url, {"context": TEXT, "rate": 0.4, "method": "truncate"}).status_code == 200
            assert redis.client().dbsize() == 1
            redis.stop()
            for i in range(3):  # still serving: in-process cache and fresh compressions
                r = post(url, {"context": TEXT + f" v{i}", "rate": 0.4, "method": "truncate"})
                assert r.status_code == 200
            assert post(url, {"context": TEXT, "rate": 0.4, "method": "truncate"}).json()["cached"] is True
            ready = httpx.get(f"{url}/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert "condenser_redis_up 0.0" in httpx.get(f"{url}/metrics").text
            redis.start()
            import time

            time.sleep(0.3)  # past redis_retry_s
            assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
            assert post(url, {"context": TEXT + " back", "rate": 0.4, "method": "truncate"}).status_code == 200
            assert redis.client().dbsize() == 1  # writes reach the new Redis again
    finally:
        redis.stop()


def test_without_redis_the_service_says_so(upstream):
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None))) as url:
        ready = httpx.get(f"{url}/readyz").json()
        assert ready == {**ready, "status": "ready", "redis": "disabled"}
        assert post(url, {"context": TEXT, "method": "truncate"}).status_code == 200
        assert post(url, {"context": TEXT, "method": "truncate"}).json()["cached"] is True


def test_identical_concurrent_requests_share_one_compression(upstream, monkeypatch):
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from api.app import create_app

    app = create_app(proxy_settings(upstream[0], None))
    with serve(app) as url:
        service = app.state.condenser.service
        runs, real_run = [], service.pipeline.run

        def slow_run(*args, **kwargs):  # long enough for the other requests to arrive meanwhile
            runs.append(threading.get_ident())
            time.sleep(0.5)
            return real_run(*args, **kwargs)

        monkeypatch.setattr(service.pipeline, "run", slow_run)  # the pipeline is shared: undo after
        body = {"context": TEXT + " coalesced", "rate": 0.5, "method": "truncate"}
        with ThreadPoolExecutor(3) as pool:
            got = [r.json() for r in pool.map(lambda _: post(url, body), range(3))]
        other = post(url, {**body, "rate": 0.4}).json()  # a different request still runs on its own
    assert len(runs) == 2 and other["cached"] is False
    assert sorted(g["cached"] for g in got) == [False, True, True]
    assert len({g["text"] for g in got}) == 1


def test_health_metrics_and_docs(proxy):
    assert httpx.get(f"{proxy}/healthz").json() == {"status": "ok"}
    post(proxy, {"context": TEXT, "rate": 0.2, "method": "truncate"})
    metrics = httpx.get(f"{proxy}/metrics").text
    for name in ("condenser_requests_total", "condenser_request_seconds_bucket", "condenser_tokens_saved_total",
                 "condenser_cache_hits_total", "condenser_cache_misses_total", "condenser_compress_seconds",
                 "condenser_upstream_errors_total", "condenser_redis_up 1.0"):
        assert name in metrics
    assert 'route="/v1/compress"' in metrics
    assert httpx.get(f"{proxy}/docs").status_code == 200
    assert "/v1/chat/completions" in httpx.get(f"{proxy}/openapi.json").json()["paths"]
    assert httpx.get(f"{proxy}/playground/").status_code == 200


def test_sentence_vectors_are_shared_through_redis_per_tenant(proxy, redis_server, monkeypatch):
    from retriever.embeddings import clear_embedding_caches, get_embedder
    from retriever.vector_store import PREFIX

    context = TEXT.replace("Paris", "Lyon")  # nothing cached yet
    first = {"context": context, "query": "Where is the tower?", "method": "extractive"}
    assert post(proxy, first).status_code == 200
    client = redis_server.client()
    keys = list(client.scan_iter(PREFIX + "*"))
    assert keys and not any(b"Lyon" in k or b"tenant" in k for k in keys)
    calls = count_model_calls(monkeypatch, get_embedder())
    clear_embedding_caches()  # as a replica that never saw the document
    body = {"context": context, "query": "When was it finished?", "method": "extractive"}
    assert post(proxy, body).status_code == 200
    assert calls == [1]  # only the new question: every sentence vector came from Redis
    other = {"Authorization": "Bearer sk-tenant-two"}
    clear_embedding_caches()
    assert post(proxy, body, headers=other).status_code == 200
    assert sum(calls[1:]) > 1  # another tenant does not read tenant one's vectors


def test_cache_version_changes_with_the_pipeline_settings(monkeypatch):
    from api import service
    from pipelines import Pipeline, PipelineConfig

    before = service.model_version()
    other = Pipeline(PipelineConfig(coarse={"min_tokens": 1}))
    monkeypatch.setattr(service, "default_pipeline", lambda: other)
    assert service.model_version() != before


def test_batch_items_are_embedded_in_one_pass_and_their_second_hops_in_another(proxy, monkeypatch):
    from compressor.methods.condenser import EMBEDDER, _embedder

    calls = count_model_calls(monkeypatch, _embedder(EMBEDDER))
    contexts = [" ".join(f"District {i} of {city} has {i + 3} bridges." for i in range(8))
                for city in ("Nantes", "Dijon", "Rennes")]  # 24 sentences nothing has embedded yet
    items = [{"context": c, "query": "Where is the tower?", "target_tokens": 40, "method": "condenser"}
             for c in contexts]
    items.append({"context": TEXT, "rate": 0.5, "method": "condenser", "options": {"bogus": 1}})
    r = post(proxy, {"items": items}, path="/v1/compress/batch")
    assert r.status_code == 200, r.text
    got = r.json()["results"]
    assert [g["text"] for g in got[:3]] == [compress(c, "Where is the tower?", target_tokens=40).text
                                            for c in contexts]
    assert "bogus" in got[3]["error"]["message"]  # an invalid item still gets its own error
    # every item's 8 sentences and the one question in one pass, then the second hop's 2 queries per item
    assert calls == [25, 6]


def test_integers_past_64_bits_are_refused_not_a_server_error(proxy):
    huge = 10**24
    r = post(proxy, {"context": TEXT, "target_tokens": huge})
    assert r.status_code == 422 and r.json()["error"]["param"] == "target_tokens"
    r = post(proxy, {"context": TEXT, "target_tokens": 20, "method": "truncate", "options": {"x": huge}})
    assert r.status_code == 422 and "x" in r.json()["error"]["message"]
