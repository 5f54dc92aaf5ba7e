"""The OpenAI-compatible reader against a fake server on loopback: answers, retries, cache, errors."""

import json
import socket

import pytest

from evals.data.item import EvalItem
from evals.readers import (
    OpenAIReader,
    OracleRetentionReader,
    ReaderRequest,
    ResponseCache,
    RetryPolicy,
    make_reader,
)
from evals.readers.cache import cache_key
from evals.readers.openai import ReaderError

FAST = RetryPolicy(max_retries=3, base_s=0.001, cap_s=0.01)
ITEM = EvalItem(benchmark="longbench", task="hotpotqa", id="1", context="ctx", query="q", answers=["Paris"],
                prefix="", suffix="", max_new_tokens=32)  # fmt: skip
REQUEST = ReaderRequest(item=ITEM, prompt="Context.\nQuestion: Paris\nAnswer:", context="ctx")


def test_answers_and_sends_model_params_and_key(fake_openai, monkeypatch):
    monkeypatch.setenv("TEST_EVAL_KEY", "sk-secret")
    reader = OpenAIReader("m1", base_url=fake_openai.url, api_key_env="TEST_EVAL_KEY", retry=FAST)
    answer = reader.answer(REQUEST)
    assert answer.text == "Paris" and not answer.cached and answer.score is None
    body = fake_openai.requests[0]
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("m1", 32, 0.0)
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-secret"


def test_retries_on_429_and_5xx(fake_openai):
    fake_openai.fail_with = [429, 503, 500]
    reader = OpenAIReader("m", base_url=fake_openai.url, retry=FAST)
    assert reader.answer(REQUEST).text == "Paris"
    assert len(fake_openai.requests) == 4


def test_gives_up_after_max_retries_and_on_client_errors(fake_openai):
    fake_openai.fail_with = [500] * 10
    with pytest.raises(ReaderError, match="HTTP 500"):
        OpenAIReader("m", base_url=fake_openai.url, retry=FAST).answer(REQUEST)
    assert len(fake_openai.requests) == 4
    fake_openai.fail_with = [400]
    with pytest.raises(ReaderError, match="HTTP 400"):
        OpenAIReader("m", base_url=fake_openai.url, retry=FAST).answer(REQUEST)


def test_connection_errors_are_retried_then_reported():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reader = OpenAIReader("m", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST)
    with pytest.raises(ReaderError, match="ConnectError after 4 tries"):
        reader.answer(REQUEST)


def test_cache_makes_reruns_free_and_never_stores_the_key(fake_openai, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_EVAL_KEY", "sk-secret")
    cache = ResponseCache(tmp_path)
    reader = OpenAIReader("m", base_url=fake_openai.url, api_key_env="TEST_EVAL_KEY", cache=cache, retry=FAST)
    first, second = reader.answer(REQUEST), reader.answer(REQUEST)
    assert (first.text, second.text, second.cached) == ("Paris", "Paris", True)
    assert len(fake_openai.requests) == 1
    stored = list(tmp_path.rglob("*.json"))
    assert len(stored) == 1 and "sk-secret" not in stored[0].read_text()
    assert json.loads(stored[0].read_text())["text"] == "Paris"


def test_cache_key_depends_on_everything_but_the_key():
    msgs = [{"role": "user", "content": "hi"}]
    base = cache_key("http://a/v1", "m", msgs, {"max_tokens": 5})
    assert base == cache_key("http://a/v1/", "m", msgs, {"max_tokens": 5})
    assert base != cache_key("http://a/v1", "m2", msgs, {"max_tokens": 5})
    assert base != cache_key("http://a/v1", "m", msgs, {"max_tokens": 6})


def test_make_reader_specs(monkeypatch):
    assert isinstance(make_reader("oracle-retention"), OracleRetentionReader)
    monkeypatch.setenv("CONDENSER_PROXY_URL", "http://127.0.0.1:9/v1")
    proxy = make_reader("proxy:gpt-x", context_window=8000)
    assert (proxy.name, proxy.base_url, proxy.context_window) == (
        "proxy:gpt-x",
        "http://127.0.0.1:9/v1",
        8000,
    )
    with pytest.raises(ValueError, match="unknown reader"):
        make_reader("llama")


def test_oracle_reader_scores_the_compressed_context():
    answer = OracleRetentionReader().answer(ReaderRequest(item=ITEM, prompt="", context="It is Paris."))
    assert answer.score == 1.0 and answer.text == ""


def test_smollm2_spec_is_known():
    reader = make_reader("smollm2", context_window=1024)
    assert (reader.name, reader.context_window, reader.scores_itself) == ("smollm2", 1024, False)
