import logging
import time

from retriever.redis_link import Backoff, redis_client


def test_backoff_skips_redis_after_a_failure_until_retry_s_and_warns_once(caplog):
    log = logging.getLogger("test.redis_link")
    backoff = Backoff(0.2, log, "doing without")
    assert backoff.due() and backoff.up
    with caplog.at_level(logging.WARNING, logger="test.redis_link"):
        backoff.failed(ConnectionError("refused"))
        assert not backoff.due() and not backoff.up
        backoff.failed(ConnectionError("refused again"))  # still the same outage: no second warning
    assert [r.getMessage() for r in caplog.records] == ["redis unavailable (ConnectionError); doing without"]
    time.sleep(0.25)
    assert backoff.due()  # retry_s passed: try again
    assert backoff.succeeded() is True  # a reconnection
    assert backoff.succeeded() is False and backoff.up


def test_backoff_can_start_down_and_is_due_at_once():
    backoff = Backoff(60, logging.getLogger("test.redis_link"), "x", up=False)
    assert not backoff.up and backoff.due()  # never failed: the first call is made


def test_redis_client_builds_sync_and_async_clients_without_connecting():
    import redis
    import redis.asyncio

    assert isinstance(redis_client("redis://127.0.0.1:1/0", timeout_s=0.1), redis.Redis)
    assert isinstance(redis_client("redis://127.0.0.1:1/0", timeout_s=0.1, asyncio=True), redis.asyncio.Redis)
