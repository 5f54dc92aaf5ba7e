"""Provider prompt caching through the proxy (issue 34.3): the cached prefix is kept as sent (``preserve``),
compressed without the question into the same bytes every time (``stable``), or compressed for the question
(``aggressive``); the response estimates the cost with the providers' cached-token prices."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

FACT = ("The widget model W{i} ships with a {i}-year warranty. It was designed in Lyon by a team of {n} "
        "engineers. Production moved to Porto in 20{i:02d}, and the factory there employs {n}0 people.")
#: a long, cacheable system prompt: instructions, then 40 labelled passages (about 2,000 tokens)
SYSTEM = "Answer from the documents. Cite the passage number.\n\n" + "\n\n".join(
    f"Passage {i}:\n" + FACT.format(i=i, n=i + 11) for i in range(1, 41))
QUESTIONS = ("How many engineers designed W3?", "When did production of W37 move to Porto?")
#: a long document sent with the question, after the cached prefix
NOTES = "\n\n".join(f"Note {i}: the service log of unit {i} reports {i * 7} repairs in {1990 + i}; "
                    f"its technician was trained in Lyon for {i % 5 + 1} weeks." for i in range(1, 31))
AUTH = {"Authorization": "Bearer sk-test"}
BREAKPOINT = {"type": "ephemeral"}


def _seen(upstream) -> dict:
    return upstream[1].state.seen[-1]["body"]


def _openai(question: str, model: str = "gpt-4o-mini", **extra) -> dict:
    return {"model": model, "messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": f"{NOTES}\n\n{question}"}], **extra}


def _prefix_bytes(body: dict) -> bytes:
    """The exact serialised messages before the last user message, as the upstream received them."""
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return orjson.dumps(messages[:last_user])


@pytest.fixture(scope="module")
def proxy(upstream):
    """The proxy (method truncate, parts over 100 tokens, no Redis), policy from each request."""
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None))) as url:
        yield url


def _post(url: str, body: dict, policy: str | None = None, path: str = "/v1/chat/completions") -> httpx.Response:
    headers = {**AUTH, **({"X-Condenser-Cache-Policy": policy} if policy else {})}
    response = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    return response


def test_stable_sends_byte_identical_prefixes_for_different_questions(upstream):
    """Two questions over one system prompt, each through a fresh proxy (no shared cache: the compressor itself
    must be deterministic), with the default method; ``aggressive`` shows the prefix would differ."""
    from api.app import create_app

    sent: dict[str, list[bytes]] = {"stable": [], "aggressive": []}
    for policy, prefixes in sent.items():
        for question in QUESTIONS:
            settings = proxy_settings(upstream[0], None, method="condenser", rate=0.3, cache_policy=policy)
            with serve(create_app(settings)) as url:
                response = _post(url, _openai(question))
            assert response.headers["x-condenser-cache-policy"] == policy
            body = _seen(upstream)
            prefixes.append(_prefix_bytes(body))
            assert body["messages"][-1]["content"].endswith(question)
    stable, aggressive = sent["stable"], sent["aggressive"]
    assert stable[0] == stable[1]
    assert len(stable[0]) < len(orjson.dumps([{"role": "system", "content": SYSTEM}])) * 0.6  # compressed
    assert aggressive[0] != aggressive[1]  # compressed for each question: a new prefix, a cache miss


def test_preserve_sends_the_prefix_untouched_and_compresses_the_rest(proxy, upstream):
    earlier = [{"role": "user", "content": NOTES}, {"role": "assistant", "content": "Noted."}]
    body = _openai(QUESTIONS[0])
    body["messages"][1:1] = earlier
    response = _post(proxy, body, "preserve")
    seen = _seen(upstream)
    assert _prefix_bytes(seen) == _prefix_bytes(body)  # system and earlier turns, byte for byte
    assert len(seen["messages"][-1]["content"]) < len(body["messages"][-1]["content"]) / 2
    assert response.headers["x-condenser-compression"] == "applied"
    assert response.headers["x-condenser-parts"] == "1"
    assert int(response.headers["x-condenser-prefix-tokens"]) > 2000  # system + the earlier NOTES turn


def test_preserve_with_only_the_prefix_long_reports_policy_and_prefix(proxy, upstream):
    """Nothing after the prefix is long: ``skipped``, yet the response still says which policy kept how many
    prefix tokens (it used to carry no cache headers at all), and the saving is zero."""
    for path, body in (("/v1/chat/completions", _openai(QUESTIONS[0]) | {"messages": [
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTIONS[0]}]}),
            ("/v1/messages", _anthropic([{"type": "text", "text": SYSTEM, "cache_control": BREAKPOINT}],
                                        [{"role": "user", "content": QUESTIONS[0]}]))):
        response = _post(proxy, body, "preserve", path=path)
        seen = _seen(upstream)
        assert seen["messages"] == body["messages"] and seen.get("system") == body.get("system")
        assert response.headers["x-condenser-compression"] == "skipped"
        assert response.headers["x-condenser-cache-policy"] == "preserve"
        assert int(response.headers["x-condenser-prefix-tokens"]) > 1000
        assert _saved(response) == 0
        assert "x-condenser-parts" not in response.headers  # nothing was compressed, nothing to count
    # a request with nothing long at all stays as before: skipped, no policy report
    short = _post(proxy, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}, "preserve")
    assert short.headers["x-condenser-compression"] == "skipped"
    assert "x-condenser-cache-policy" not in short.headers


def test_policy_from_the_body_field_and_the_setting(upstream):
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None, cache_policy="preserve"))) as url:
        response = _post(url, _openai(QUESTIONS[0]))  # the deployment's default
        assert response.headers["x-condenser-cache-policy"] == "preserve"
        assert _seen(upstream)["messages"][0]["content"] == SYSTEM
        response = _post(url, _openai(QUESTIONS[0], condenser={"cache_policy": "aggressive"}))
        assert response.headers["x-condenser-cache-policy"] == "aggressive"
        assert len(_seen(upstream)["messages"][0]["content"]) < len(SYSTEM) / 2
        assert "condenser" not in _seen(upstream)


def test_setting_is_read_from_the_environment(monkeypatch):
    from api.settings import Settings

    assert Settings(_env_file=None).cache_policy == "aggressive"  # today's behaviour unless configured
    monkeypatch.setenv("CONDENSER_CACHE_POLICY", "stable")
    assert Settings(_env_file=None).cache_policy == "stable"
    monkeypatch.setenv("CONDENSER_CACHE_POLICY", "sometimes")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def _anthropic(system, messages, model: str = "claude-sonnet-4-20250514") -> dict:
    return {"model": model, "max_tokens": 20, "system": system, "messages": messages}


def test_anthropic_cache_control_breakpoint_is_respected(proxy, upstream):
    # the breakpoint on the first system block: that block is the prefix, the second one is not
    system = [{"type": "text", "text": SYSTEM, "cache_control": BREAKPOINT}, {"type": "text", "text": NOTES}]
    question = [{"role": "user", "content": [{"type": "text", "text": QUESTIONS[0]}]}]
    _post(proxy, _anthropic(system, question), "preserve", path="/v1/messages")
    seen = _seen(upstream)
    assert seen["system"][0] == system[0]  # text and cache_control as sent
    assert len(seen["system"][1]["text"]) < len(NOTES) / 2

    # the breakpoint on a message block: the system string and every block up to it are the prefix
    messages = [{"role": "user", "content": [{"type": "text", "text": NOTES, "cache_control": BREAKPOINT}]},
                {"role": "assistant", "content": "Noted."},
                {"role": "user", "content": [{"type": "text", "text": f"{NOTES}\n\n{QUESTIONS[1]}"}]}]
    response = _post(proxy, _anthropic(SYSTEM, messages), "preserve", path="/v1/messages")
    seen = _seen(upstream)
    assert seen["system"] == SYSTEM and seen["messages"][:2] == messages[:2]
    assert seen["messages"][2]["content"][0]["text"].endswith(QUESTIONS[1])
    assert len(seen["messages"][2]["content"][0]["text"]) < len(NOTES) / 2
    assert int(response.headers["x-condenser-prefix-tokens"]) > 2000

    # no breakpoint: Anthropic caches nothing, so the system prompt is compressed for the question
    response = _post(proxy, _anthropic(SYSTEM, question), "preserve", path="/v1/messages")
    assert len(_seen(upstream)["system"]) < len(SYSTEM) / 2
    assert response.headers["x-condenser-prefix-tokens"] == "0"


def _saved(response: httpx.Response) -> float:
    return float(response.headers["x-condenser-est-cost-saved-usd"])


def test_cost_headers_use_cached_token_prices(proxy):
    from api.pricing import price_table

    table = price_table()
    # OpenAI, preserve: the prefix is a cache hit either way, so the saving is the compressed tokens at the
    # full input price (gpt-4o-mini: $0.15 per million)
    response = _post(proxy, _openai(QUESTIONS[0]), "preserve")
    removed = int(response.headers["x-condenser-tokens-before"]) - int(response.headers["x-condenser-tokens-after"])
    assert removed > 0
    assert _saved(response) == pytest.approx(removed * 0.15 / 1e6, abs=2e-6)
    assert response.headers["x-condenser-prices-as-of"] == table.as_of
    assert re.fullmatch(r"-?\d+\.\d{6}", response.headers["x-condenser-est-cost-saved-usd"])

    # Anthropic with a breakpoint on a long system prompt and a short question: compressing the prefix for each
    # question turns a cache read at 0.1x into a cache write at 1.25x, so "aggressive" costs more than sending
    # it whole; "stable" keeps the compressed prefix (over the 1,024-token minimum) a cache hit
    system = [{"type": "text", "text": "\n\n".join([SYSTEM] * 4), "cache_control": BREAKPOINT}]
    question = [{"role": "user", "content": QUESTIONS[0]}]
    sonnet = table.price_of("claude-sonnet-4")
    prefix_prices = {"stable": sonnet.cached_usd_per_mtok, "aggressive": sonnet.cache_write_usd_per_mtok}
    for policy, prefix_price in prefix_prices.items():
        response = _post(proxy, _anthropic(system, question), policy, path="/v1/messages")
        before = int(response.headers["x-condenser-tokens-before"])
        prefix = int(response.headers["x-condenser-prefix-tokens"])
        assert prefix >= table.cache_min_tokens
        expected = (before * sonnet.cached_usd_per_mtok - prefix * prefix_price) / 1e6
        assert _saved(response) == pytest.approx(expected, abs=2e-6)
        assert (_saved(response) > 0) == (policy == "stable")

    # an unknown model: token counts, no price
    response = _post(proxy, _openai(QUESTIONS[0], model="local-llama"), "preserve")
    assert "x-condenser-est-cost-saved-usd" not in response.headers
    assert int(response.headers["x-condenser-prefix-tokens"]) > 1000


def test_metrics_count_prefix_tokens_and_estimated_cost(proxy):
    _post(proxy, _openai(QUESTIONS[1]), "stable")
    metrics = httpx.get(f"{proxy}/metrics", timeout=30).text
    values = {m.group(1): float(m.group(2))
              for m in re.finditer(r"^(condenser_\w+\{[^}]*\}) (\S+)$", metrics, re.MULTILINE)}
    assert values['condenser_prefix_tokens_total{policy="stable"}'] > 0
    sent = values['condenser_est_input_cost_usd_total{scenario="sent"}']
    assert 0 < sent < values['condenser_est_input_cost_usd_total{scenario="uncompressed"}']


@pytest.mark.parametrize(("where", "param"), [("header", "x-condenser-cache-policy"),
                                              ("body", "condenser.cache_policy")])
def test_invalid_policy_is_a_400_naming_where_it_came_from(proxy, upstream, where, param):
    seen = len(upstream[1].state.seen)
    body = _openai(QUESTIONS[0], **({"condenser": {"cache_policy": "sometimes"}} if where == "body" else {}))
    headers = {**AUTH, **({"X-Condenser-Cache-Policy": "sometimes"} if where == "header" else {})}
    response = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and "preserve" in error["message"]
    assert len(upstream[1].state.seen) == seen  # nothing was forwarded


def test_prefix_of_each_api():
    from api.proxy.cache_policy import prefix_slots
    from api.proxy.messages import text_parts

    def prefix_texts(body, anthropic):
        slots = prefix_slots(body, anthropic)
        return [p.text for p in text_parts(body, anthropic) if (id(p.container), p.key) in slots]

    openai = {"messages": [{"role": "developer", "content": "rules"}, {"role": "user", "content": "a"},
                           {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}
    assert prefix_texts(openai, False) == ["rules", "a", "b"]
    tool_result = {"type": "tool_result", "tool_use_id": "t", "cache_control": BREAKPOINT,
                   "content": [{"type": "text", "text": "tool out"}]}
    anthropic = {"tools": [{"name": "t", "description": "d", "cache_control": BREAKPOINT}], "system": "sys",
                 "messages": [{"role": "user", "content": [tool_result, {"type": "text", "text": "after"}]}]}
    assert prefix_texts(anthropic, True) == ["sys", "tool out"]  # a breakpoint's nested blocks are inside it
    anthropic["messages"][0]["content"][0].pop("cache_control")
    assert prefix_texts(anthropic, True) == []  # a breakpoint on the tools only: no text before it


def test_price_table_matches_model_families():
    from api.pricing import input_cost, price_table

    table = price_table()
    assert table.price_of("gpt-4o-mini-2024-07-18").model == "gpt-4o-mini"
    assert table.price_of("openai/gpt-4.1").model == "gpt-4.1"
    assert table.price_of("local-llama") is None
    sonnet, mini = table.price_of("claude-sonnet-4-20250514"), table.price_of("gpt-4.1-mini")
    assert sonnet.cached_usd_per_mtok == pytest.approx(0.1 * sonnet.usd_per_mtok)  # Anthropic cache read
    assert mini.cached_usd_per_mtok == pytest.approx(0.25 * mini.usd_per_mtok)
    assert table.price_of("gpt-4o").cached_usd_per_mtok == pytest.approx(0.5 * 2.5)
    assert input_cost(sonnet, 2000, 0, True, 1024) == pytest.approx(2000 * 0.3 / 1e6)
    assert input_cost(sonnet, 2000, 0, False, 1024) == pytest.approx(2000 * 3.75 / 1e6)  # a cache write
    assert input_cost(sonnet, 1000, 10, True, 1024) == pytest.approx(1010 * 3.0 / 1e6)  # too short to cache


def test_playground_reads_the_same_price_table(proxy):
    from api.pricing import price_table

    served = httpx.get(f"{proxy}/playground/prices.json", timeout=30).json()
    assert served["as_of"] == price_table().as_of
    assert {m["model"]: m["cached_usd_per_mtok"] for m in served["models"]} == {
        p.model: p.cached_usd_per_mtok for p in price_table().prices}
    script = httpx.get(f"{proxy}/playground/app.js", timeout=30).text
    assert "/playground/prices.json" in script and "usdPerMTok: 2.5" not in script  # one table, not two
