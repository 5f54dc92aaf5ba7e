"""First contact (issue 34.6): the start-up line, a 502 that names its upstream, the site icon, the playground's
sample, and the container preloading the model."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from api.startup import safe_url
from tests.api.conftest import proxy_settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-provider-SECRET-0099"
PROXY_KEY = "proxy-SECRET-key-1"


def test_start_up_line_says_what_the_service_does_without_any_key(upstream, caplog):
    from api.app import create_app

    settings = proxy_settings("http://user:pw-SECRET@127.0.0.1:9/v1?token=SECRET-q",
                              "redis://:SECRET-redis@127.0.0.1:1/0",
                              api_keys=[PROXY_KEY, "proxy-SECRET-key-2"], upstream_api_keys={"openai": KEY},
                              model_routes={"mistral-": "https://api.mistral.ai/v1"}, rate_limit_per_minute=60,
                              redis_timeout_s=0.1)
    with caplog.at_level(logging.INFO, logger="condenser.api"), TestClient(create_app(settings)):
        pass
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("condenser ready"))
    for part in ("openai http://127.0.0.1:9/v1", "mistral-* https://api.mistral.ai/v1",
                 "redis redis://127.0.0.1:1/0 unreachable", "default method truncate at rate 0.25",
                 "auth on (2 proxy keys; provider keys for openai)", "rate limit 60/min per tenant",
                 "fail-open on", "tracing off", "loads on first use"):
        assert part in line, (part, line)
    assert "SECRET" not in line and "pw" not in line and "token" not in line


def test_start_up_line_names_every_route_a_key_goes_to(upstream, caplog):
    """The legacy single key still keys the openai route beside a per-route anthropic key."""
    from api.app import create_app

    settings = proxy_settings(upstream[0], None, api_keys=[PROXY_KEY], upstream_api_key=KEY,
                              upstream_api_keys={"anthropic": "sk-ant-SECRET"})
    with caplog.at_level(logging.INFO, logger="condenser.api"), TestClient(create_app(settings)):
        pass
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("condenser ready"))
    assert "provider keys for anthropic, openai)" in line and "SECRET" not in line


def test_start_up_line_with_auth_off_and_no_redis(upstream, caplog):
    from api.app import create_app

    with caplog.at_level(logging.INFO, logger="condenser.api"), \
            TestClient(create_app(proxy_settings(upstream[0], None, fail_open=False))):
        pass
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("condenser ready"))
    assert "redis off" in line and "auth off" in line and "rate limit off" in line and "fail-open off" in line


def test_safe_url_drops_credentials_query_and_fragment():
    assert safe_url("redis://:pw@cache.internal:6380/2?ssl=1#x") == "redis://cache.internal:6380/2"
    assert safe_url("https://u:p@[::1]:8443/v1") == "https://[::1]:8443/v1"


def test_a_502_names_the_upstream_host_it_tried_and_nothing_else(upstream):
    from api.app import create_app

    app = create_app(proxy_settings("http://127.0.0.1:9/v1", None))
    with TestClient(app) as client:
        r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                        headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 502
    message = r.json()["error"]["message"]
    assert message.startswith("upstream 127.0.0.1:9 unreachable (")
    assert "SECRET" not in message and "/v1" not in message


def test_favicon_and_sample_are_served_not_404(upstream):
    from api.app import create_app

    with TestClient(create_app(proxy_settings(upstream[0], None))) as client:
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.content.startswith(b"<svg")
        sample = client.get("/playground/sample.json").json()
        assert sample["answer"] in sample["context"] and sample["query"].endswith("?")
        assert len(sample["context"].split()) > 1000
        assert "/favicon.ico" not in client.get("/openapi.json").json()["paths"]  # not part of the API


def test_the_container_preloads_the_model_by_default():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "CONDENSER_PRELOAD=true" in dockerfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("api", "api-gpu"):
        assert compose["services"][service]["environment"]["CONDENSER_PRELOAD"] == "true"
