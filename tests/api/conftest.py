"""Fixtures for the service tests: a real redis-server, a fake provider and the proxy, all on loopback."""

from __future__ import annotations

import pytest

from tests.condenser.live_server import serve
from tests.fixtures.redis_server import RedisProcess

pytest.importorskip("fastapi")
pytest.importorskip("redis")


def _redis():
    """A started redis-server, stopped when its fixture ends (skips where redis-server is not installed)."""
    try:
        server = RedisProcess().start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_server():
    yield from _redis()


@pytest.fixture
def redis_process():
    """A redis-server of this test alone: the test may kill and restart it."""
    yield from _redis()


@pytest.fixture(scope="module")
def upstream():
    """The fake OpenAI/Anthropic provider: ``(base_url, app)``; ``app.state.seen`` holds what it got."""
    from api.fake_upstream import create_fake_upstream

    app = create_fake_upstream(stream_delay=0.3)
    with serve(app) as url:
        yield f"{url}/v1", app


def proxy_settings(upstream_url: str, redis_url: str | None, **overrides):
    from api.settings import Settings

    values = {"redis_url": redis_url, "openai_base_url": upstream_url, "anthropic_base_url": upstream_url,
                  "min_tokens": 100, "method": "truncate", "rate": 0.25, "redis_retry_s": 0.2, "compress_timeout_s": 300,
                  "_env_file": None}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def proxy(upstream, redis_server):
    """The service under test, on a real uvicorn with the real Redis: yields its base URL."""
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], redis_server.url))) as url:
        yield url
