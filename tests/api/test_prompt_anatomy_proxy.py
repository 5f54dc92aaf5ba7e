"""Instructions reach the upstream verbatim through the proxy, with the real OpenAI and Anthropic SDKs
(issue 32.1): system, user and tool messages alike are compressed around their instructions."""

from __future__ import annotations

import pytest

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

INSTRUCTIONS = ("You are a support assistant.", "Always answer in French.", "Cite the passage number.",
                "Answer from the documents.")
FACTS = ("The widget model W{i} ships with a {i}-year warranty. It was designed in Lyon by a team of {n} "
         "engineers. Production moved to Porto in 20{i:02d}, and the factory there employs {n}0 people. The "
         "casing of W{i} is made of recycled aluminium sourced from {n} suppliers.")
PASSAGES = 20


def _passages(label: str = "Passage {i}:\n") -> str:
    return "\n\n".join(label.format(i=i) + FACTS.format(i=i, n=i + 11) for i in range(1, PASSAGES + 1))


#: the exact shape of issue 32.1: instructions, a blank line, labelled documents
RAG_SYSTEM = " ".join(INSTRUCTIONS) + "\n\n" + _passages()
QUESTION = "Where is the factory of W7, and how many people work there?"


@pytest.fixture(scope="module")
def condenser_proxy(upstream):
    """The proxy with the default method (condenser), compressing parts over 100 tokens, no Redis."""
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None, method="condenser", rate=0.33))) as url:
        yield url


def _with_text(output: str) -> list[int]:
    """Passages whose own text (the first words of a sentence naming their numbers) is in ``output``."""
    def starts(i):
        return [" ".join(x.split()[:7]) for x in FACTS.format(i=i, n=i + 11).split(". ")]
    return [i for i in range(1, PASSAGES + 1) if any(x in output for x in starts(i))]


def _last_body(upstream) -> dict:
    return upstream[1].state.seen[-1]["body"]


@pytest.mark.parametrize("rate", ["0.33", "0.1"])
def test_openai_sdk_system_prompt_instructions_reach_upstream_verbatim(condenser_proxy, upstream, rate):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{condenser_proxy}/v1", api_key="sk-openai-test", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": RAG_SYSTEM},
                                       {"role": "user", "content": QUESTION}],
        extra_headers={"X-Condenser-Rate": rate})
    assert raw.headers["x-condenser-compression"] == "applied"
    assert int(raw.headers["x-condenser-protected-tokens"]) > 0
    system = _last_body(upstream)["messages"][0]["content"]
    assert len(system) < len(RAG_SYSTEM) * (float(rate) + 0.25)
    assert system.startswith(" ".join(INSTRUCTIONS))
    kept = _with_text(system)
    assert kept and all(f"Passage {i}:" in system for i in kept)  # every passage that keeps text, its label


@pytest.mark.parametrize("rate", ["0.33", "0.1"])
def test_anthropic_sdk_system_and_xml_user_message_keep_instructions(condenser_proxy, upstream, rate):
    anthropic = pytest.importorskip("anthropic")
    client = anthropic.Anthropic(base_url=condenser_proxy, api_key="sk-ant-test", max_retries=0)
    documents = "<documents>\n" + "\n".join(
        f'<document index="{i}">\n<source>manual_{i}.pdf</source>\n<document_content>\n'
        f"{FACTS.format(i=i, n=i + 11)}\n</document_content>\n</document>" for i in range(1, PASSAGES + 1))
    user = (documents + "\n</documents>\n\nAnswer the question using only the documents above. Quote the "
            "relevant passage first.\n\n<question>" + QUESTION + "</question>")
    client.messages.create(model="claude-test", max_tokens=20, system=RAG_SYSTEM,
                           messages=[{"role": "user", "content": user}], extra_headers={"X-Condenser-Rate": rate})
    body = _last_body(upstream)
    assert body["system"].startswith(" ".join(INSTRUCTIONS)) and len(body["system"]) < len(RAG_SYSTEM)
    sent = body["messages"][0]["content"]
    sent = sent if isinstance(sent, str) else sent[0]["text"]
    assert len(sent) < len(user)
    assert "Answer the question using only the documents above. Quote the relevant passage first." in sent
    assert sent.endswith(f"<question>{QUESTION}</question>")
    assert "<documents>" in sent and "</documents>" in sent
    kept = _with_text(sent)
    assert kept and sent.count("<document ") == sent.count("</document>") == len(kept)
    for i in kept:  # each document that keeps text keeps its whole layout
        assert f'<document index="{i}">\n<source>manual_{i}.pdf</source>\n<document_content>' in sent


def test_openai_tool_message_and_keep_controls(condenser_proxy, upstream):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{condenser_proxy}/v1", api_key="sk-openai-test", max_retries=0)
    tool_output = ("Search results. Cite results as [n].\n\n" + _passages("[{i}] ") +
                   "\n\n<keep>Internal ticket: WR-4471.</keep> " + "Filler about the weather today. " * 30)
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": tool_output},
    ]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                   extra_headers={"X-Condenser-Rate": "0.1"},
                                   extra_body={"condenser": {"keep": ["Filler about the weather today."]}})
    tool = _last_body(upstream)["messages"][3]["content"]
    assert len(tool) < len(tool_output) / 2
    assert "Cite results as [n]." in tool
    kept = _with_text(tool)
    assert kept and all(f"[{i}]" in tool for i in kept)
    assert "Internal ticket: WR-4471." in tool and "<keep>" not in tool
    assert "Filler about the weather today." in tool
    assert _last_body(upstream)["messages"][0]["content"] == "You are a helpful assistant."


def test_compress_endpoint_reports_anatomy_and_takes_keep(condenser_proxy):
    httpx = pytest.importorskip("httpx")
    context = RAG_SYSTEM + "\n\n<keep>Internal ticket: WR-4471.</keep>"
    reply = httpx.post(f"{condenser_proxy}/v1/compress", timeout=120, json={
        "context": context, "query": QUESTION, "rate": 0.1, "options": {"keep": ["Passage 3:\nThe widget"]}})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["text"].startswith(" ".join(INSTRUCTIONS)) and "Internal ticket: WR-4471." in body["text"]
    assert "<keep>" not in body["text"] and "Passage 3:\nThe widget" in body["text"]
    anatomy = body["info"]["anatomy"]
    assert anatomy["counts"]["instruction"] == 4 and anatomy["counts"]["keep"] == 2
    assert anatomy["protected_tokens"] > 0 and body["compressed_tokens"] <= body["budget"]
    first = anatomy["protected"][0]
    assert context[first["start"] : first["end"]] == INSTRUCTIONS[0]


def test_question_tags_are_not_part_of_the_query():
    from api.proxy.messages import query_of, text_parts

    body = {"model": "claude-test", "messages": [{"role": "user", "content": f"<question>{QUESTION}</question>"}]}
    assert query_of(text_parts(body, True)) == QUESTION
