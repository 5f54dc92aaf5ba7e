"""Upstream base URLs that carry ``user:password@``: the credential is taken out of the URL when the settings
are read, goes upstream as Basic auth only when the client sent no ``Authorization`` of its own, and never
appears in a repr, a log line or an error."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}


def _with_userinfo(base_url: str, userinfo: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://{userinfo}@{rest}"


def test_userinfo_is_stripped_from_upstream_urls_when_settings_are_read():
    from api.settings import Settings

    settings = Settings(_env_file=None, openai_base_url="http://gw-user:pw-SECRET-1@127.0.0.1:9/v1/",
                        anthropic_base_url="https://a:pw-SECRET-2@example.test/v1",
                        model_routes={"mistral-": "http://m%40x:pw%3ASECRET-3@127.0.0.1:8/v1"})
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert settings.anthropic_base_url == "https://example.test/v1"
    assert settings.model_routes == {"mistral-": "http://127.0.0.1:8/v1"}
    # percent-escapes in the userinfo are the URL's spelling, not the credential's
    assert settings.upstream_basic_auth("mistral-") == ("m@x", "pw:SECRET-3")
    assert settings.upstream_basic_auth("openai") == ("gw-user", "pw-SECRET-1")
    assert settings.upstream_basic_auth("nowhere") is None
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())


def test_url_userinfo_with_client_authorization_is_forwarded_not_500(upstream, caplog):
    from api.app import create_app

    settings = proxy_settings(_with_userinfo(upstream[0], "gw:pw-SECRET-4"), None)
    with caplog.at_level(logging.DEBUG), serve(create_app(settings)) as url:
        # the OpenAI SDK always sends Authorization: aiohttp refused it next to URL credentials (500)
        own = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-own-5"})
        own_seen = upstream[1].state.seen[-1]["headers"]
        # no Authorization from the client (Anthropic style x-api-key): the URL's credential goes as Basic
        bare = httpx.post(f"{url}/v1/messages", json=CHAT, headers={"x-api-key": "sk-ant-own-6"})
        bare_seen = upstream[1].state.seen[-1]["headers"]
        models = httpx.get(f"{url}/v1/models")
        models_seen = upstream[1].state.seen[-1]["headers"]
    assert own.status_code == bare.status_code == models.status_code == 200
    assert own_seen["authorization"] == "Bearer sk-own-5"  # the client's own credential wins
    basic = "Basic " + base64.b64encode(b"gw:pw-SECRET-4").decode()
    assert bare_seen["authorization"] == basic and bare_seen["x-api-key"] == "sk-ant-own-6"
    assert models_seen["authorization"] == basic
    assert "pw-SECRET-4" not in caplog.text


def test_url_userinfo_yields_to_a_swapped_provider_key(upstream):
    from api.app import create_app

    settings = proxy_settings(_with_userinfo(upstream[0], "gw:pw-SECRET-7"), None, api_keys=["pk-1"],
                              upstream_api_keys={"openai": "sk-route-8"})
    with serve(create_app(settings)) as url:
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer pk-1"})
    assert answer.status_code == 200
    assert upstream[1].state.seen[-1]["headers"]["authorization"] == "Bearer sk-route-8"


@pytest.mark.parametrize("url", ["http://:pw-SECRET-9@127.0.0.1:9/v1", "http://user-only@127.0.0.1:9/v1"])
def test_partial_userinfo_is_still_taken_out(url):
    from api.settings import Settings

    settings = Settings(_env_file=None, openai_base_url=url)
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert "SECRET" not in repr(settings)
