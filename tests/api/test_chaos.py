"""Chaos and abuse: the real service (uvicorn process), a real redis-server and the fake provider, on loopback.

One bounded run (``benchmarks.chaos``: seven phases of ``CONDENSER_CHAOS_SECONDS`` each, default 5, about
45 s in all) sends concurrent cache hits, misses and streams while the provider fails, Redis is frozen,
killed and restarted, and abusive requests come in between; the tests below read its report. ``pytest -s`` prints the table; ``python benchmarks/chaos.py`` is the long
mode. The first tests check the fake provider itself, which the run relies on to tell right from garbled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import httpx
import pytest
from starlette.testclient import TestClient

from api.fake_upstream import create_fake_upstream, reply_text, stream_pieces

SECRET = "sk-chaos-SECRET-never-echoed"


@pytest.fixture()
def fake():
    with TestClient(create_fake_upstream()) as client:
        yield client


def _chat(stream: bool = False, model: str = "gpt-4o-mini") -> dict:
    return {"model": model, "stream": stream, "messages": [
        {"role": "system", "content": "Some long context. " * 20}, {"role": "user", "content": "Who?"}]}


def _sse_data(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


def test_fake_upstream_answers_in_words_and_reports_what_it_received(fake):
    raw = json.dumps(_chat()).encode()
    r = fake.post("/v1/chat/completions", content=raw, headers={"authorization": f"Bearer {SECRET}",
                                                                 "x-trace": "t-1", "content-type": "application/json"})
    answer = r.json()
    received, text = answer["received"], answer["choices"][0]["message"]["content"]
    assert received["body_sha256"] == hashlib.sha256(raw).hexdigest() == r.headers["x-fake-body-sha256"]
    assert [(m["role"], m["chars"]) for m in received["messages"]] == [("system", 380), ("user", 4)]
    assert received["messages"][1]["sha256"] == hashlib.sha256(b"Who?").hexdigest()
    assert received["headers"]["x-trace"] == "t-1" and received["credentials"] == ["authorization"]
    assert SECRET not in r.text  # the credential arrived, and is named, never echoed
    assert text == reply_text(received) and text.startswith("received 384 characters in 2 messages; ")
    assert re.fullmatch(r"[a-z0-9 ;]+\.", text) and len(text.split()) >= 20  # readable words, not bytes


def test_fake_upstream_streams_whole_words_in_order(fake):
    r = fake.post("/v1/chat/completions", json=_chat(stream=True))
    chunks = _sse_data(r.text)
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks]
    text = reply_text(chunks[0]["received"])
    assert pieces == stream_pieces(text) and "".join(pieces) == text and len(pieces) == 4
    assert all(p.endswith(" ") for p in pieces[:-1])  # cut between words
    assert r.text.rstrip().endswith("data: [DONE]")
    body = {"model": "claude", "max_tokens": 9, "stream": True, "system": "Context. " * 30,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Who?"}]}]}
    events = _sse_data(fake.post("/v1/messages", json=body).text)
    assert [e["type"] for e in events] == ["message_start", "content_block_start"] + ["content_block_delta"] * 4 + [
        "content_block_stop", "message_delta", "message_stop"]
    received = events[0]["message"]["received"]
    assert [m["chars"] for m in received["messages"]] == [270, 4]
    assert "".join(e["delta"]["text"] for e in events[2:6]) == reply_text(received)


def test_fake_upstream_streams_read_with_the_official_sdks():
    """The fake's event streams are the providers' shapes: both SDKs assemble them into the reply."""
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    from tests.condenser.live_server import serve

    with serve(create_fake_upstream()) as url:
        client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
        with client.messages.stream(model="claude", max_tokens=9, system="Context. " * 30,
                                    messages=[{"role": "user", "content": "Who?"}]) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        assert text.startswith("received 274 characters in 2 messages; ") and final.content[0].text == text
        assert final.stop_reason == "end_turn"
        chunks = openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
        pieces = [c.choices[0].delta.content for c in chunks]
        assert len(pieces) == 4 and "".join(pieces).startswith("received 2 characters in 1 messages; ")


def test_fake_upstream_fails_on_request_by_model_header_or_plan(fake):
    r = fake.post("/v1/chat/completions", json=_chat(), headers={"x-fake-fault": "fail-429"})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["message"] == "fake upstream failure 429"
    assert fake.post("/v1/messages", json=_chat(model="fail-503")).status_code == 503
    plan = fake.post("/_control/faults", json={"faults": ["fail-502", "fail-500"], "every": 2}).json()
    assert plan["faults"] == ["fail-502", "fail-500"]
    statuses = [fake.post("/v1/chat/completions", json=_chat()).status_code for _ in range(6)]
    assert statuses == [200, 502, 200, 500, 200, 502]
    assert fake.get("/_control/faults").json()["injected"] == {"fail-502": 2, "fail-500": 1}
    assert fake.post("/_control/faults", json={"faults": ["explode"]}).status_code == 400
    fake.post("/_control/faults", json={"faults": []})
    assert fake.post("/v1/chat/completions", json=_chat()).status_code == 200


def test_fake_upstream_cuts_a_stream_and_a_body_half_way(fake):
    for stream in (True, False):
        with pytest.raises((ConnectionResetError, httpx.HTTPError)):
            fake.post("/v1/chat/completions", json=_chat(stream=stream), headers={"x-fake-fault": "cut"})


def test_the_chaos_checker_tells_whole_answers_from_garbled_ones(fake):
    """What the chaos run counts as correct, a documented error or lost: judged on real provider answers."""
    from benchmarks.chaos import ChaosConfig, Traffic, Verdict, note

    context, question, nonce = "Long context here. " * 40, "Who?", "run-7"
    checker = Traffic(ChaosConfig(), "http://127.0.0.1:9")

    def answer(api: str, stream: bool, **headers: str) -> tuple[int, httpx.Headers, bytes]:
        body = _chat(stream) | {"messages": [{"role": "system", "content": context},
                                             {"role": "user", "content": question}]}
        if api == "anthropic":
            body = {"model": "claude", "max_tokens": 9, "stream": stream, "system": context,
                    "messages": body["messages"][1:]}
        path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
        credential = {"x-api-key": "k"} if api == "anthropic" else {"authorization": "Bearer k"}
        r = fake.post(path, json=body, headers={"x-chaos-id": nonce, "x-chaos-note": note(nonce), **credential,
                                                **headers})
        return r.status_code, httpx.Headers({**r.headers, "x-condenser-compression": "skipped"}), r.content

    def verdict(status: int, headers: httpx.Headers, raw: bytes, api: str = "openai", sent: str = nonce) -> str:
        try:
            checker.check_chat(status, headers, raw, api, context, question, sent, hit=False)
        except Verdict as v:
            return v.outcome
        return "correct"

    for api in ("openai", "anthropic"):
        for stream in (False, True):
            got = answer(api, stream)
            assert verdict(*got, api=api) == "correct"
            assert verdict(*got, api=api, sent="run-8") == "bad"  # another request's answer
    status, headers, raw = answer("openai", True)
    events = raw.split(b"\n\n")
    error_event = b'event: error\ndata: {"error": {"message": "upstream stream interrupted", "type": "x"}}\n\n'
    assert verdict(status, headers, b"\n\n".join(events[:1] + events[2:])) == "bad"  # a piece lost
    assert verdict(status, headers, b"\n\n".join([events[0], events[2], events[1], *events[3:]])) == "bad"
    assert verdict(status, headers, b"\n\n".join(events[:3]) + b"\n\n") == "bad"  # stops, says nothing
    assert verdict(status, headers, b"\n\n".join(events[:3]) + b"\n\n" + error_event) == "error"
    status, headers, raw = answer("openai", False)
    changed = json.loads(raw)
    changed["choices"][0]["message"]["content"] = changed["choices"][0]["message"]["content"].replace(";", ",")
    assert verdict(status, headers, json.dumps(changed).encode()) == "bad"  # one character changed
    applied = httpx.Headers({**headers, "x-condenser-compression": "applied"})
    assert verdict(status, applied, raw) == "bad"  # said compressed, but the provider got it whole
    assert verdict(*answer("openai", False, **{"x-chaos-note": note(nonce).decode("latin-1").encode()})) == "bad"
    assert verdict(*answer("openai", False, **{"x-fake-fault": "fail-503"})) == "error"  # passed through
    assert verdict(500, headers, b'{"error": {"message": "internal error", "type": "server_error"}}') == "bad"
    assert verdict(504, headers, b'{"error": {"message": "upstream timed out", "type": "upstream_timeout"}}') \
        == "error"


# --- the chaos run ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chaos_report():
    """One bounded chaos run (a few tens of seconds), shared by the tests that read it."""
    from benchmarks.chaos import ChaosConfig, chaos, table

    cfg = ChaosConfig(phase_s=float(os.environ.get("CONDENSER_CHAOS_SECONDS", "5")),
                      concurrency=int(os.environ.get("CONDENSER_CHAOS_CONCURRENCY", "8")))
    try:
        report = chaos(cfg)
    except FileNotFoundError as exc:  # no redis-server binary
        pytest.skip(str(exc))
    print(f"\nchaos run, {cfg.phase_s:g} s per phase, concurrency {cfg.concurrency}, method {cfg.method}\n")
    print(table(report))
    return report


def _phases(report: dict) -> dict[str, dict]:
    return {p["name"]: p for p in report["phases"]}


@pytest.mark.redis
def test_every_answer_is_correct_or_a_documented_error(chaos_report):
    from benchmarks.chaos import KINDS

    examples = json.dumps(chaos_report["bad_examples"][:5], indent=1)
    for phase in chaos_report["phases"]:
        if phase["name"] == "abuse":
            continue  # its own test below
        assert phase["requests"] >= (len(KINDS) if phase["name"] == "warm-up" else 20), phase  # the phase ran
        assert phase["lost_or_garbled"] == 0, f"{phase['name']}: {examples}"
        assert phase["hung"] == 0, f"{phase['name']}: {examples}"
        assert phase["max_latency_s"] <= chaos_report["config"]["client_timeout_s"]


@pytest.mark.redis
def test_redis_faults_never_fail_a_request(chaos_report):
    """Redis is optional at every moment: frozen, killed or restarted, every answer is still right."""
    for name in ("warm-up", "baseline", "redis frozen", "redis killed", "redis restarted"):
        phase = _phases(chaos_report)[name]
        assert phase["correct"] == phase["requests"], phase


@pytest.mark.redis
def test_upstream_faults_come_back_as_documented_errors(chaos_report):
    """503/429/500 passed through as the provider sent them, a too slow provider a 504 and a cut answer a 502,
    a stalled or cut stream an SSE error event; the service gives up at its own timeout (the provider's
    delays run 3 s past it)."""
    config = chaos_report["config"]
    kinds: set[str] = set()
    for name in ("upstream faults", "all at once"):
        phase = _phases(chaos_report)[name]
        assert phase["documented_errors"] > 0 and phase["correct"] > 0, phase
        assert set(phase["upstream_faults"]) == set(config["faults"])  # each kind was met
        assert phase["max_latency_s"] < config["upstream_timeout_s"] + 2.5, phase
        kinds |= set(phase["error_kinds"])
    # over both phases: a cut lands on a plain answer (502) rather than a stream a few times in each
    assert {"upstream", "service 504 upstream_timeout", "service 502 upstream_error", "stream error event"} <= kinds


@pytest.mark.redis
def test_abusive_requests_get_a_4xx_and_break_nothing(chaos_report):
    """Malformed, deeply nested, oversized bodies and headers, client-chosen checkpoints: each a 4xx JSON error;
    streams abandoned after their first event; the ordinary requests between them (on the same pooled
    connections) all answered right."""
    from benchmarks.chaos import ABUSE

    phase = _phases(chaos_report)["abuse"]
    bad = [b for b in chaos_report["bad_examples"] if b["phase"] == "abuse"]
    assert phase["lost_or_garbled"] == phase["hung"] == 0, bad
    assert phase["documented_errors"] == phase["abusive"] and phase["correct"] == phase["requests"] - phase["abusive"]
    refused = {kind.split(":")[0] for kind in phase["error_kinds"]}
    assert {f"refused {name}" for name, *_ in ABUSE} | {"stream abandoned by the client"} == refused


@pytest.mark.redis
def test_provider_keys_arrive_and_stay_out_of_logs_and_redis(chaos_report):
    """Every proxied request carried a key (checked to reach the provider); none is in the log or in Redis."""
    assert chaos_report["secret_in_logs"] is False and chaos_report["secret_in_redis"] is False


@pytest.mark.redis
def test_readiness_sees_redis_go_without_waiting_for_traffic(chaos_report):
    """Issue 35.6: /readyz asks Redis itself, so it says degraded at once, not after a cache call failed."""
    phases = _phases(chaos_report)
    assert phases["baseline"]["readyz_first"] == "ready"
    assert phases["redis frozen"]["readyz_first"] == phases["redis killed"]["readyz_first"] == "degraded"


@pytest.mark.redis
def test_caching_and_readiness_resume_after_redis_returns(chaos_report):
    assert _phases(chaos_report)["redis killed"]["readyz"] == "degraded"
    assert chaos_report["ready_after_restart"] == "ready"
    resume = chaos_report["resume"]
    assert resume["resumed"], resume  # a new compression was found in Redis after the restart
    assert resume["seconds"] <= chaos_report["config"]["redis_retry_s"] + 5, resume


@pytest.mark.redis
def test_first_compression_after_redis_restart_is_stored(chaos_report):
    """Issue 35.6: a pooled connection the restart dropped is retried, not counted as Redis being down."""
    assert chaos_report["resume"]["compressions_not_stored"] == 0, chaos_report["resume"]
