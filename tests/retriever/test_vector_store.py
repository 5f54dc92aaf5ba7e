"""Sentence vectors in a real Redis behind the embedder's in-memory cache, scoped per namespace."""

import numpy as np
import pytest

from retriever.vector_store import PREFIX, RedisVectorStore, vector_scope
from tests.fixtures.model_calls import count_model_calls
from tests.fixtures.redis_server import RedisProcess

pytest.importorskip("redis")
TEXTS = ["The night ferry leaves pier 7 at 23:40.", "Crane 12 lifts 36 tonnes.", "Depot 4 stores oil."]


@pytest.fixture
def redis_store():
    try:
        server = RedisProcess().start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    store = RedisVectorStore(server.url, ttl_s=60, retry_s=0.2)
    yield server, store
    store.close()
    server.stop()


@pytest.fixture
def embedder(monkeypatch):
    """A fresh base-MiniLM embedder whose model calls are counted."""
    from retriever.embeddings import Embedder

    emb = Embedder()
    return emb, count_model_calls(monkeypatch, emb)


def test_vectors_come_back_from_redis_after_the_memory_cache_is_gone(redis_store, embedder):
    server, store = redis_store
    emb, calls = embedder
    with vector_scope(store, "tenant-1"):
        first = emb.encode(TEXTS)
        emb.clear_cache()  # as on another replica, or after a restart
        again = emb.encode(TEXTS)
    assert calls == [3] and np.allclose(first, again)
    keys = list(server.client().scan_iter(PREFIX + "*"))
    assert len(keys) == 3 and all(len(server.client().get(k)) == 4 * emb.dim for k in keys)
    assert server.client().ttl(keys[0]) > 0
    stored = b" ".join(keys)
    assert b"ferry" not in stored and b"tenant-1" not in stored  # hashes only


def test_another_namespace_does_not_see_the_vectors(redis_store, embedder):
    _, store = redis_store
    emb, calls = embedder
    with vector_scope(store, "tenant-1"):
        emb.encode(TEXTS)
    emb.clear_cache()
    with vector_scope(store, "tenant-2"):
        emb.encode(TEXTS)
    assert calls == [3, 3]


def test_outside_a_scope_nothing_is_stored(redis_store, embedder):
    server, _ = redis_store
    emb, _ = embedder
    emb.encode(TEXTS)
    assert list(server.client().scan_iter(PREFIX + "*")) == []


def test_a_dead_redis_never_fails_an_encode(redis_store, embedder):
    server, store = redis_store
    emb, calls = embedder
    server.stop()
    with vector_scope(store, "t"):
        vectors = emb.encode(TEXTS)
    assert vectors.shape == (3, emb.dim) and calls == [3] and store.up is False
    server.start()
    import time

    time.sleep(0.3)  # past retry_s
    emb.clear_cache()
    with vector_scope(store, "t"):
        emb.encode(TEXTS)
    assert store.up is True and len(list(server.client().scan_iter(PREFIX + "*"))) == 3


def test_background_prefetch_writes_under_the_callers_namespace(redis_store, embedder):
    _, store = redis_store
    emb, calls = embedder
    with vector_scope(store, "tenant-1"):
        emb.prefetch(TEXTS)
    emb.wait_prefetch(30)
    emb.clear_cache()
    with vector_scope(store, "tenant-1"):
        emb.encode(TEXTS)
    assert sum(calls) == 3  # the foreground call found the prefetched vectors in Redis
