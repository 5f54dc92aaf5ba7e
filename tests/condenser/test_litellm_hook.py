"""The LiteLLM callback with the real ``litellm`` package, routed to the fake upstream on loopback.

The proxy hook is called as the LiteLLM proxy calls it, and compared with Condenser's own proxy on the same
request; ``litellm.acompletion`` runs the SDK path (the deployment hook) against the fake upstream.
"""

from __future__ import annotations

import copy
import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm must not fetch its cost map: offline
litellm = pytest.importorskip("litellm")
pytest.importorskip("fastapi")

import httpx
from fastapi import HTTPException
from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.types_utils.utils import get_instance_fn

from api.settings import Settings
from compressor import count_tokens
from condenser import litellm_hook
from condenser.litellm_hook import RESULT_KEY, CondenserHook
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve

KEY = UserAPIKeyAuth(token="hashed-litellm-key")


def settings(**overrides) -> Settings:
    values = {"redis_url": None, "min_tokens": 200, "_env_file": None, **overrides}
    return Settings(**values)


@pytest.fixture(scope="module")
def item(shared_data):
    return hotpotqa_items(shared_data, 2)[1]


@pytest.fixture(scope="module")
def upstream():
    """The fake OpenAI/Anthropic provider: ``(base_url, app)``; ``app.state.seen`` holds what it got."""
    from api.fake_upstream import create_fake_upstream

    app = create_fake_upstream()
    with serve(app) as url:
        yield f"{url}/v1", app


@pytest.fixture(scope="module")
def hook():
    return CondenserHook(settings())


def chat(item) -> dict:
    return {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "Answer from these pages.\n\n" + "\n\n".join(item["paragraphs"])},
        {"role": "user", "content": item["question"]}]}


def proxy_data(body: dict, headers: dict | None = None, metadata: dict | None = None) -> dict:
    """A request as the LiteLLM proxy hands it to ``async_pre_call_hook``."""
    data = copy.deepcopy(body)
    data["metadata"] = {"headers": headers or {}, **(metadata or {})}
    data["proxy_server_request"] = {"url": "http://litellm/v1/chat/completions", "method": "POST",
                                    "headers": headers or {}, "body": copy.deepcopy(body)}
    return data


async def test_proxy_hook_compresses_exactly_as_condensers_proxy(item, upstream, hook):
    from api.app import create_app

    body = chat(item)
    with serve(create_app(settings(openai_base_url=upstream[0]))) as condenser:
        async with httpx.AsyncClient(timeout=120) as client:
            reply = await client.post(f"{condenser}/v1/chat/completions", json=body,
                                      headers={"Authorization": "Bearer sk-test", "x-condenser-rate": "0.3"})
    assert reply.status_code == 200, reply.text
    through_condenser = upstream[1].state.seen[-1]["body"]["messages"]

    data = proxy_data(body, headers={"x-condenser-rate": "0.3"})
    out = await hook.async_pre_call_hook(KEY, None, data, "completion")
    assert out["messages"] == through_condenser  # the same parts compressed the same way
    system = out["messages"][0]["content"]
    assert count_tokens(system) < 0.4 * count_tokens(body["messages"][0]["content"])
    assert out["messages"][1] == body["messages"][1]  # the short question is left alone
    headers = await hook.async_post_call_response_headers_hook(out, KEY, None)
    assert headers == out["metadata"][RESULT_KEY]
    for name in ("x-condenser-compression", "x-condenser-tokens-before", "x-condenser-tokens-after",
                 "x-condenser-method", "x-condenser-parts"):
        assert headers[name] == reply.headers[name], name
    assert headers["x-condenser-compression"] == "applied" and headers["x-condenser-method"] == "condenser"


async def test_sdk_acompletion_reaches_the_upstream_compressed(item, upstream, hook, monkeypatch):
    monkeypatch.setattr(litellm, "callbacks", [hook])
    body, metadata = chat(item), {"condenser": {"method": "extractive", "target_tokens": 120}}
    response = await litellm.acompletion(model="openai/gpt-4o-mini", api_base=upstream[0], api_key="sk-test",
                                         messages=copy.deepcopy(body["messages"]), metadata=metadata)
    sent = upstream[1].state.seen[-1]["body"]
    assert "condenser" not in sent and "metadata" not in sent  # our controls never reach the provider
    system = sent["messages"][0]["content"]
    assert count_tokens(system) <= 120
    assert set(system.split()) <= set(body["messages"][0]["content"].split())  # extractive
    chars = sum(len(m["content"]) for m in sent["messages"])
    assert response.choices[0].message.content.startswith(f"received {chars} characters in 2 messages")
    assert metadata[RESULT_KEY]["x-condenser-compression"] == "applied"
    assert metadata[RESULT_KEY]["x-condenser-method"] == "extractive"


async def test_proxy_then_router_compresses_once(item, upstream, hook, monkeypatch):
    """In the LiteLLM proxy the pre-call hook runs, then the router's deployment hook: only the first acts."""
    monkeypatch.setattr(litellm, "callbacks", [hook])
    data = await hook.async_pre_call_hook(KEY, None, proxy_data(chat(item)), "completion")
    compressed = copy.deepcopy(data["messages"])
    await litellm.acompletion(model="openai/gpt-4o-mini", api_base=upstream[0], api_key="sk-test",
                              messages=data["messages"], metadata=data["metadata"])
    assert upstream[1].state.seen[-1]["body"]["messages"] == compressed


async def test_controls_bypass_skip_and_bad_values(item, hook):
    body = chat(item)
    bypassed = await hook.async_pre_call_hook(KEY, None, proxy_data(body, {"X-Condenser-Bypass": "true"}),
                                              "completion")
    assert bypassed["messages"] == body["messages"]
    assert bypassed["metadata"][RESULT_KEY] == {"x-condenser-compression": "bypassed"}

    in_body = await hook.async_pre_call_hook(KEY, None, proxy_data({**body, "condenser": {"bypass": True}}),
                                             "completion")
    assert in_body["metadata"][RESULT_KEY] == {"x-condenser-compression": "bypassed"}
    assert "condenser" not in in_body  # never forwarded: providers reject unknown fields

    short = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi there"}]}
    skipped = await hook.async_pre_call_hook(KEY, None, proxy_data(short), "completion")
    assert skipped["metadata"][RESULT_KEY] == {"x-condenser-compression": "skipped"}

    with pytest.raises(HTTPException) as bad:
        await hook.async_pre_call_hook(KEY, None, proxy_data(body, metadata={"condenser": {"rate": 2}}),
                                       "completion")
    assert bad.value.status_code == 400 and bad.value.detail["error"]["param"] == "condenser.rate"
    with pytest.raises(HTTPException) as header:
        await hook.async_pre_call_hook(KEY, None, proxy_data(body, {"x-condenser-method": "nope"}), "completion")
    assert header.value.status_code == 400 and "nope" in header.value.detail["error"]["message"]

    embeddings = {"model": "text-embedding-3-small", "input": ["x" * 5000]}
    assert await hook.async_pre_call_hook(KEY, None, dict(embeddings), "aembedding") == embeddings


async def test_anthropic_messages_system_is_compressed(item, hook):
    body = {"model": "claude-sonnet-4", "system": "\n\n".join(item["paragraphs"]),
            "messages": [{"role": "user", "content": item["question"]}]}
    data = await hook.async_pre_call_hook(KEY, None, proxy_data(body, {"x-condenser-rate": "0.25"}),
                                          "anthropic_messages")
    assert count_tokens(data["system"]) < 0.35 * count_tokens(body["system"])
    assert data["messages"] == body["messages"]


class Broken:
    """A compression service that fails with ``error``."""

    def __init__(self, error: Exception):
        self.settings, self.error = settings(), error

    async def compress(self, request, tenant):
        raise self.error


def broken_hook(error: Exception, **overrides) -> CondenserHook:
    hook = CondenserHook(settings(**overrides))
    hook._service = Broken(error)
    return hook


async def test_fails_open_with_the_original_request_or_closed_when_configured(item):
    body = chat(item)
    data = await broken_hook(RuntimeError("model exploded")).async_pre_call_hook(
        KEY, None, proxy_data(body), "completion")
    assert data["messages"] == body["messages"]
    assert data["metadata"][RESULT_KEY] == {"x-condenser-compression": "failed-open"}
    with pytest.raises(HTTPException) as failed:
        await broken_hook(RuntimeError("model exploded"), fail_open=False).async_pre_call_hook(
            KEY, None, proxy_data(body), "completion")
    assert failed.value.status_code == 503


async def test_overload_follows_condenser_overload(item):
    from api.admission import Overloaded

    body = chat(item)
    data = await broken_hook(Overloaded(2, 16)).async_pre_call_hook(KEY, None, proxy_data(body), "completion")
    assert data["messages"] == body["messages"]
    assert data["metadata"][RESULT_KEY] == {"x-condenser-compression": "failed-open",
                                            "x-condenser-reason": "overloaded"}
    with pytest.raises(HTTPException) as rejected:
        await broken_hook(Overloaded(2, 16), overload="reject").async_pre_call_hook(
            KEY, None, proxy_data(body), "completion")
    assert rejected.value.status_code == 503 and rejected.value.headers == {"Retry-After": "2"}


async def test_a_method_without_its_checkpoint_fails_open(item, hook, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    body = chat(item)
    data = await hook.async_pre_call_hook(KEY, None, proxy_data(body, {"x-condenser-method": "llmlingua2"}),
                                          "completion")
    assert data["messages"] == body["messages"]
    assert data["metadata"][RESULT_KEY]["x-condenser-compression"] == "failed-open"


def test_config_yaml_callback_resolves_to_the_hook(tmp_path):
    """LiteLLM's proxy loads ``litellm_settings.callbacks`` with ``get_instance_fn`` relative to config.yaml."""
    import yaml

    config = tmp_path / "config.yaml"
    config.write_text("litellm_settings:\n  callbacks: condenser_callbacks.proxy_handler_instance\n")
    (tmp_path / "condenser_callbacks.py").write_text("from condenser.litellm_hook import proxy_handler_instance\n")
    name = yaml.safe_load(config.read_text())["litellm_settings"]["callbacks"]
    assert get_instance_fn(name, config_file_path=str(config)) is litellm_hook.proxy_handler_instance
    # with config.yaml at the root of a Condenser checkout, the module's own path works as it stands
    in_checkout = get_instance_fn("condenser.litellm_hook.proxy_handler_instance",
                                  config_file_path=os.path.join(os.getcwd(), "config.yaml"))
    assert type(in_checkout).__name__ == "CondenserHook"
    assert isinstance(litellm_hook.proxy_handler_instance, litellm.integrations.custom_logger.CustomLogger)
