"""The official OpenAI and Anthropic SDKs pointed at the proxy with ``base_url`` (the README's snippet)."""

from __future__ import annotations

import pytest

from tests.condenser.hotpotqa import hotpotqa_items


@pytest.fixture(scope="module")
def item(shared_data):
    item = hotpotqa_items(shared_data, 1)[0]
    item["context"] = "\n\n".join(item["paragraphs"])
    return item


def test_openai_sdk_through_the_proxy(proxy, upstream, item):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-openai-test", max_retries=0)
    messages = [{"role": "system", "content": item["context"]}, {"role": "user", "content": item["question"]}]
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages,
                                                            extra_headers={"X-Condenser-Rate": "0.2"})
    reply = raw.parse()
    assert reply.choices[0].message.content.startswith("received")
    assert raw.headers["x-condenser-compression"] == "applied"
    assert len(upstream[1].state.seen[-1]["body"]["messages"][0]["content"]) < len(item["context"]) / 3
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
    pieces = [chunk.choices[0].delta.content for chunk in stream]
    assert len(pieces) == 4 and "".join(pieces)


def test_anthropic_sdk_through_the_proxy(proxy, upstream, item):
    anthropic = pytest.importorskip("anthropic")
    client = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-test", max_retries=0)
    reply = client.messages.create(model="claude-test", max_tokens=20, system=item["context"],
                                   messages=[{"role": "user", "content": item["question"]}])
    assert reply.content[0].text.startswith("received")
    seen = upstream[1].state.seen[-1]
    credential = seen["headers"].get("x-api-key") or seen["headers"].get("authorization")
    assert credential.endswith("sk-ant-test") and len(seen["body"]["system"]) < len(item["context"]) / 2
