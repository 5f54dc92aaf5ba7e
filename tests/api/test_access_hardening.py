"""Access hardening (issue 35): rate limits per key, server-chosen checkpoints, per-route upstream keys and
secrets kept out of logs; real uvicorn and the fake provider on loopback."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

TEXT = ("The Eiffel Tower is in Paris. It was finished in 1889. " * 3
        + "Mount Fuji is the highest mountain in Japan. Berlin is the capital of Germany. " * 6)


# --- 35.2: the rate limit counts the key, whatever sub-tenant header comes with it ----------------------

def test_rate_limit_applies_to_key_across_subtenants(upstream):
    from api.app import create_app

    settings = proxy_settings(upstream[0], None, api_keys=["k1", "k2"], rate_limit_per_minute=3)
    with serve(create_app(settings)) as url:
        def call(key: str, team: str | None) -> int:
            headers = {"Authorization": f"Bearer {key}"} | ({"X-Condenser-Tenant": team} if team else {})
            return httpx.post(f"{url}/v1/compress", json={"context": TEXT, "method": "truncate", "rate": 0.5},
                              headers=headers, timeout=60).status_code

        codes = [call("k1", f"team-{i}") for i in range(6)]  # a new sub-tenant on every request
        plain = call("k1", None)
        other_key = call("k2", "team-0")
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429, 429]  # was 6 x 200: each sub-tenant had a window of its own
    assert plain == 429  # the key's own calls share the same window
    assert other_key == 200  # another key is not affected


def test_subtenants_still_narrow_the_cache_scope():
    from starlette.requests import Request

    from api.access import identify
    from api.settings import Settings

    settings = Settings(api_keys=["k1"], redis_url=None, _env_file=None)

    def caller(team: str | None):
        headers = [(b"authorization", b"Bearer k1")] + ([(b"x-condenser-tenant", team.encode())] if team else [])
        return identify(Request({"type": "http", "headers": headers}), settings)

    a, b, none = caller("a"), caller("b"), caller(None)
    assert a.tenant != b.tenant != none.tenant  # cache entries stay apart per sub-tenant
    assert a.limit_scope == b.limit_scope == none.limit_scope == none.tenant  # one rate-limit window per key


# --- 35.5: credentials in URLs, headers and bodies are masked in every log line ------------------------

@pytest.mark.parametrize(("line", "secret"), [
    ('127.0.0.1:5 - "GET /v1/models?api_key=sk-live-abc123XYZ&limit=2 HTTP/1.1" 200', "abc123XYZ"),
    ("GET /v1/models?key=AIzaSyPLAIN0001&x=1", "AIzaSyPLAIN0001"),
    ("GET /v1/x?access_token=tok0002&token=tok0003&secret=s0004", "tok000"),
    ("headers {'authorization': 'Bearer opaque-0005', 'x-api-key': 'opaque-0006'}", "opaque-000"),
    ('body {"api_key": "opaque-0007", "messages": []}', "opaque-0007"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGci"),
    ("x-condenser-key: proxy-key-0008", "proxy-key-0008"),
    ("upstream error for sk-ant-api03-0009abcdef", "0009abcdef"),
    ("redis://default:pw-0010@redis:6379/0", "pw-0010"),
])
def test_redact_masks_keys_in_urls_headers_and_bodies(line, secret):
    from api.redaction import redact

    masked = redact(line)
    assert secret not in masked and "***" in masked
    assert redact(masked) == masked


def test_redact_leaves_ordinary_text_alone():
    from api.redaction import redact

    for text in ("max_tokens=100 and 12 tokens: fine", "cache key for tenant k:1f2e", "POST /v1/compress 200"):
        assert redact(text) == text


@pytest.fixture
def restore_logging():
    """uvicorn reconfigures its loggers: put them back as they were for the rest of the session."""
    names = ("uvicorn", "uvicorn.access", "uvicorn.error", "condenser", "condenser.api.upstream")
    saved = {n: (list(lg.handlers), list(lg.filters), lg.level, lg.propagate, lg.disabled)
             for n in names for lg in [logging.getLogger(n)]}
    yield
    for name, (handlers, filters, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.level, logger.propagate, logger.disabled = level, propagate, disabled


@contextmanager
def serve_logged(app, log_config):
    """``app`` on uvicorn with its access log on, as ``condenser serve`` runs it; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=log_config, log_level="info", access_log=True))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _capture(logger_name: str) -> io.StringIO:
    """Point the (first) handler of ``logger_name`` at a buffer."""
    buffer = io.StringIO()
    logging.getLogger(logger_name).handlers[0].setStream(buffer)
    return buffer


def test_query_string_keys_redacted_in_access_log(upstream, restore_logging):
    from api.app import create_app
    from api.server import log_config

    secrets = ("sk-live-SECRET-1111", "tok-SECRET-2222", "sk-client-SECRET-3333", "hdr-SECRET-4444")
    app = create_app(proxy_settings(upstream[0], None))
    with serve_logged(app, log_config("info")) as url:  # exactly the logging `condenser serve` sets up
        access, errors = _capture("uvicorn.access"), _capture("uvicorn")
        condenser = logging.getLogger("condenser")
        condenser.handlers[0].setStream(errors)
        r = httpx.get(f"{url}/v1/models?api_key={secrets[0]}&token={secrets[1]}&limit=5",
                      headers={"Authorization": f"Bearer {secrets[2]}"}, timeout=30)
        assert r.status_code == 200
        # a service logger created after start-up, logging a header dump and a body
        logging.getLogger("condenser.api.later").warning("upstream refused %s / %s",
                                                         {"x-api-key": secrets[3]}, f'{{"key": "{secrets[0]}"}}')
    logged = access.getvalue() + errors.getvalue()
    assert "/v1/models?api_key=***&token=***&limit=5" in logged  # the request line is kept, masked
    assert "upstream refused" in logged
    for secret in secrets:
        assert secret not in logged


def test_access_log_is_masked_under_any_server_logging(upstream, restore_logging):
    """``create_app`` installs the filter itself: a host with its own logging set-up is covered too."""
    from api.app import create_app

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    with serve_logged(create_app(proxy_settings(upstream[0], None)), None) as url:
        httpx.get(f"{url}/v1/models?access_token=sk-proj-SECRET-5555", timeout=30)
    assert "/v1/models?access_token=***" in buffer.getvalue()
    assert "SECRET-5555" not in buffer.getvalue()


# --- 35.4: a deployment's provider key goes to its own route only --------------------------------------

def _chat(model: str) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}


def test_upstream_key_only_sent_to_its_route(upstream):
    from api.app import create_app
    from api.fake_upstream import create_fake_upstream

    other = create_fake_upstream()
    keys = {"openai": "sk-openai-ROUTE-1", "anthropic": "sk-anthropic-ROUTE-2"}
    proxy_key = {"Authorization": "Bearer pk-1"}
    with serve(other) as other_url:
        settings = proxy_settings(upstream[0], None, api_keys=["pk-1"], upstream_api_keys=keys,
                                  model_routes={"mistral-": f"{other_url}/v1"})
        with serve(create_app(settings)) as url:
            openai = httpx.post(f"{url}/v1/chat/completions", json=_chat("gpt-4o-mini"), headers=proxy_key)
            openai_seen = upstream[1].state.seen[-1]["headers"]
            anthropic = httpx.post(f"{url}/v1/messages", json=_chat("claude-x"), headers=proxy_key)
            anthropic_seen = upstream[1].state.seen[-1]["headers"]
            # the client picks the keyless route by its model prefix: refused, nothing sent there
            keyless = httpx.post(f"{url}/v1/chat/completions", json=_chat("mistral-large"), headers=proxy_key)
            keyless_anthropic = httpx.post(f"{url}/v1/messages", json=_chat("mistral-large"), headers=proxy_key)
            # the client's own provider key (proxy key in X-Condenser-Key) still goes to that route
            own = httpx.post(f"{url}/v1/chat/completions", json=_chat("mistral-large"),
                             headers={"X-Condenser-Key": "pk-1", "Authorization": "Bearer sk-client-own-3"})
    assert openai.status_code == anthropic.status_code == own.status_code == 200
    assert openai_seen["authorization"] == f"Bearer {keys['openai']}" and "x-api-key" not in openai_seen
    assert anthropic_seen["x-api-key"] == keys["anthropic"] and "authorization" not in anthropic_seen
    for refused in (keyless, keyless_anthropic):
        assert refused.status_code == 403 and "'mistral-'" in refused.json()["error"]["message"]
    assert len(other.state.seen) == 1  # only the request that carried the client's own key
    assert other.state.seen[0]["headers"]["authorization"] == "Bearer sk-client-own-3"
    assert not any(k in str(other.state.seen) for k in keys.values())


def test_model_route_gets_its_own_key_and_the_legacy_key_stays_on_openai(upstream):
    from api.app import create_app
    from api.fake_upstream import create_fake_upstream

    other = create_fake_upstream()
    proxy_key = {"Authorization": "Bearer pk-1"}
    with serve(other) as other_url:
        settings = proxy_settings(upstream[0], None, api_keys=["pk-1"], upstream_api_key="sk-legacy-4",
                                  upstream_api_keys={"mistral-": "mk-mistral-5"},
                                  model_routes={"mistral-": f"{other_url}/v1"})
        with serve(create_app(settings)) as url:
            routed = httpx.post(f"{url}/v1/chat/completions", json=_chat("mistral-small"), headers=proxy_key)
            legacy = httpx.post(f"{url}/v1/chat/completions", json=_chat("gpt-4o"), headers=proxy_key)
            legacy_seen = upstream[1].state.seen[-1]["headers"]
            before = len(upstream[1].state.seen)
            anthropic = httpx.post(f"{url}/v1/messages", json=_chat("claude-x"), headers=proxy_key)
            models = httpx.get(f"{url}/v1/models", headers=proxy_key)
            models_seen = upstream[1].state.seen[-1]["headers"]
    assert routed.status_code == legacy.status_code == models.status_code == 200
    assert other.state.seen[-1]["headers"]["authorization"] == "Bearer mk-mistral-5"
    assert legacy_seen["authorization"] == models_seen["authorization"] == "Bearer sk-legacy-4"
    # the single key of old is the openai route's only: the anthropic route no longer receives it
    assert anthropic.status_code == 403 and "'anthropic'" in anthropic.json()["error"]["message"]
    assert len(upstream[1].state.seen) == before + 1  # the refused request never reached the provider


def test_keys_must_name_configured_routes():
    from pydantic import ValidationError

    from api.settings import Settings

    with pytest.raises(ValidationError, match="unknown routes") as error:
        Settings(_env_file=None, upstream_api_keys={"opneai": "sk-typo-SECRET-6"})
    assert "sk-typo-SECRET-6" not in str(error.value)  # a settings error never prints a key
    with pytest.raises(ValidationError, match="clash"):
        Settings(_env_file=None, model_routes={"anthropic": "http://127.0.0.1:1/v1"})


# --- 35.3: checkpoints come from the server's configuration, never from a request ----------------------

PROBES = ["some-org/any-model", "/etc", "/etc/passwd", "/no/such/folder", "~", "../../root", "."]


@pytest.fixture
def hub_calls(monkeypatch):
    """Every ``snapshot_download`` call, recorded; none reaches the hub, and the cache is empty."""
    import huggingface_hub

    calls = []

    def fake(repo_id, *args, **kwargs):
        calls.append((repo_id, kwargs.get("local_files_only", False)))
        raise huggingface_hub.errors.LocalEntryNotFoundError(f"{repo_id} is not in the cache")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    return calls


def test_request_cannot_name_checkpoint_path(upstream, hub_calls):
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None))) as url:
        answers = [httpx.post(f"{url}/v1/compress", json={"context": TEXT, "method": method,
                                                          "options": {"model_path": probe}}, timeout=60)
                   for method in ("llmlingua2", "provence", "exit", "condenser") for probe in PROBES]
        batch = httpx.post(f"{url}/v1/compress/batch", timeout=60, json={"items": [
            {"context": TEXT, "method": "llmlingua2", "options": {"model_path": "/etc"}},
            {"context": TEXT, "method": "truncate", "rate": 0.5}]}).json()["results"]
    # one answer whatever the value: nothing tells /etc from /etc/passwd, a missing folder or a hub id
    assert {a.status_code for a in answers} == {400}
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["error"]["param"] == "options.model_path"
    assert batch[0]["error"]["message"].startswith("items.0: options.model_path")
    assert batch[1]["compressed_tokens"] > 0
    assert hub_calls == []  # and nothing was looked up, let alone fetched


def test_checkpoint_names_are_the_only_choice_and_never_download(upstream, hub_calls, tmp_path, monkeypatch):
    from api.app import create_app
    from compressor.models import checkpoints
    from tests.fixtures import tiny_models

    default = tiny_models.bert_token_classifier(tmp_path / "ll2-default")
    small = tiny_models.bert_token_classifier(tmp_path / "ll2-small", seed=1)
    loaded = []
    real = checkpoints.load_token_classifier
    monkeypatch.setattr(checkpoints, "load_token_classifier",
                        lambda path, *a, **k: loaded.append(path) or real(path, *a, **k))
    settings = proxy_settings(upstream[0], None, checkpoints={"llmlingua2": str(default), "ll2-small": str(small),
                                                              "gone": str(tmp_path / "missing")})
    body = {"context": TEXT, "method": "llmlingua2", "rate": 0.5}
    with serve(create_app(settings)) as url:
        by_default = httpx.post(f"{url}/v1/compress", json=body, timeout=120)
        by_name = httpx.post(f"{url}/v1/compress", json=body | {"options": {"checkpoint": "ll2-small"}}, timeout=120)
        unknown = [httpx.post(f"{url}/v1/compress", json=body | {"options": {"checkpoint": name}}, timeout=60)
                   for name in ("/etc", "some-org/any-model", "ll2-large")]
        missing = httpx.post(f"{url}/v1/compress", json=body | {"options": {"checkpoint": "gone"}}, timeout=60)
        not_here = httpx.post(f"{url}/v1/compress", json=body | {"method": "provence"}, timeout=60)
        proxied = httpx.post(f"{url}/v1/chat/completions", timeout=60, headers={"X-Condenser-Method": "exit"},
                             json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": TEXT * 3}]})
    assert by_default.status_code == by_name.status_code == 200, by_default.text
    assert loaded == [str(default), str(small)]
    assert {u.status_code for u in unknown} == {400} and len({u.text for u in unknown}) == 1
    assert "ll2-small" in unknown[0].json()["error"]["message"]  # the names on offer, never a path
    assert missing.status_code == not_here.status_code == 424
    assert missing.json()["error"]["param"] == "method" and str(tmp_path) not in missing.text
    # the proxy's method control cannot start a download either: the compressor fails open
    assert proxied.status_code == 200 and proxied.headers["x-condenser-compression"] == "failed-open"
    assert hub_calls and all(local_only for _, local_only in hub_calls)


def test_keyless_route_is_refused_before_compression(upstream, monkeypatch):
    from api.app import create_app
    from api.routes import proxy

    compressed = []
    real = proxy.compress_or_fail_open
    monkeypatch.setattr(proxy, "compress_or_fail_open", lambda *a, **k: compressed.append(1) or real(*a, **k))
    settings = proxy_settings(upstream[0], None, api_keys=["pk-1"], upstream_api_keys={"openai": "sk-o-7"})
    long_chat = {"model": "claude-x", "messages": [{"role": "user", "content": TEXT * 3}]}
    with serve(create_app(settings)) as url:
        refused = httpx.post(f"{url}/v1/messages", json=long_chat, headers={"Authorization": "Bearer pk-1"})
        served = httpx.post(f"{url}/v1/chat/completions", json=long_chat, headers={"Authorization": "Bearer pk-1"})
    assert refused.status_code == 403 and served.status_code == 200
    assert len(compressed) == 1  # only the request that went on to its provider
