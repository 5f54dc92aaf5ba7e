"""Request ids: in the ``x-request-id`` response header, forwarded upstream, and in each request's log lines."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from api.request_id import RequestId, current
from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

NEW_ID = re.compile(r"[0-9a-f]{32}")
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there."}]}


@pytest.fixture(scope="module")
def proxy_app(upstream):
    from api.app import create_app

    app = create_app(proxy_settings(upstream[0], None, max_body_bytes=4096))

    @app.get("/test-logs")
    async def logs() -> dict:
        logging.getLogger("condenser.api.test").warning("a line written while serving")
        return {"ok": True}

    return app


@pytest.fixture(scope="module")
def client(proxy_app):
    with TestClient(proxy_app) as client:
        yield client


def seen_id(upstream) -> str:
    return upstream[1].state.seen[-1]["headers"]["x-request-id"]


def test_a_sane_client_id_is_echoed_and_forwarded_upstream(client, upstream):
    r = client.post("/v1/chat/completions", json=CHAT, headers={"x-request-id": "client-7.run_2"})
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"] == "client-7.run_2"
    assert seen_id(upstream) == "client-7.run_2"


@pytest.mark.parametrize("sent", ["", "x" * 129, "has space", "semi;colon", "ünï"])
def test_an_insane_client_id_is_replaced_by_a_new_one_everywhere(client, upstream, sent):
    r = client.post("/v1/chat/completions", json=CHAT, headers={"x-request-id": sent.encode("utf-8")})
    assert r.status_code == 200, r.text
    rid = r.headers["x-request-id"]
    assert NEW_ID.fullmatch(rid)
    assert seen_id(upstream) == rid  # the provider sees our id, not the client's


def test_every_answer_gets_its_own_id_even_a_refusal(client):
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(NEW_ID.fullmatch(i) for i in ids)
    refused = client.post("/v1/compress", content=b"x" * 10_000, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and NEW_ID.fullmatch(refused.headers["x-request-id"])
    missing = client.get("/no-such-page", headers={"x-request-id": "abc"})
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "abc"


def test_log_lines_of_a_request_carry_its_id(client, caplog):
    from api.server import log_config

    with caplog.at_level(logging.WARNING, logger="condenser"):
        client.get("/test-logs", headers={"x-request-id": "trace-me-1"})
    record = next(r for r in caplog.records if r.getMessage() == "a line written while serving")
    assert record.request_id == "trace-me-1"
    formatter = logging.Formatter(log_config()["formatters"]["default"]["fmt"].replace("%(levelprefix)s",
                                                                                      "%(levelname)s"))
    assert formatter.format(record) == "WARNING a line written while serving [request trace-me-1]"
    outside = logging.getLogger("condenser.api.test").makeRecord("condenser.api.test", logging.INFO, __file__, 1,
                                                                  "start-up line", (), None)
    assert outside.request_id == "-" and formatter.format(outside) == "INFO start-up line"


def test_the_id_reaches_a_real_server_and_the_providers_own_id_is_kept():
    async def provider(scope, receive, send):  # answers with its own x-request-id, as OpenAI does
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-request-id", b"req_provider_1"), (b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": (current.get() or "").encode()})

    with serve(RequestId(provider)) as url:
        r = httpx.get(url, headers={"x-request-id": "mine"})
    assert r.headers["x-request-id"] == "mine" and r.text == "mine"  # the context var is set while serving
    assert r.headers["x-upstream-request-id"] == "req_provider_1"
    assert r.headers.get_list("x-request-id") == ["mine"]
