"""The remote client takes LLMLingua's names as the SDK does (issue 32.7)."""

from __future__ import annotations

import json

import httpx
import pytest

from condenser.client import Client
from tests.condenser.live_server import serve, service_app

CANNED = {"text": "ok", "original_tokens": 10, "compressed_tokens": 1, "ratio": 10.0, "method": "truncate"}
TEXT = " ".join(f"Sentence {i} mentions the value {i * 13}." for i in range(80))


def _recording_client(bodies: list[dict]) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=CANNED)

    return Client("http://condenser.test", transport=httpx.MockTransport(answer), retries=0)


def test_client_sends_aliases_under_their_names():
    bodies: list[dict] = []
    with _recording_client(bodies) as client:
        client.compress(TEXT, question="who?", target_token=30, instruction="Answer in French.")
    assert bodies[0]["query"] == "who?" and bodies[0]["target_tokens"] == 30
    assert bodies[0]["options"] == {"instruction": "Answer in French."}


def test_client_refuses_alias_and_name_before_sending():
    bodies: list[dict] = []
    with _recording_client(bodies) as client, pytest.raises(ValueError, match="query or question"):
        client.compress(TEXT, "who?", question="who?")
    assert bodies == []


def test_instruction_and_info_through_a_live_service():
    with serve(service_app()) as url, Client(url) as client:
        r = client.compress(TEXT, question="Which sentence mentions 650?", target_token=60,
                            instruction="Answer in French.", method="extractive")
    assert r.text.startswith("Answer in French.\n\n") and r.compressed_tokens <= 60
    assert r.info["method"] == "extractive" and r.info["tokens_out"] == r.compressed_tokens
