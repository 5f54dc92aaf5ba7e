"""A tiny OpenAI/Anthropic-compatible upstream for trying the proxy without a provider key.

It answers ``/v1/chat/completions``, ``/v1/messages`` and ``/v1/models``. Its reply is readable words that
start with what it received ("received 1234 characters in 2 messages; ..."), and a ``received`` report
(beside the JSON answer, or in a stream's first event) says what reached it: the body's size and sha256,
each message's role, characters and sha256, and the headers that arrived (credentials by name only). The
reply's words are derived from the body's digest (``reply_text``), so a client can check that an answer or
a stream came back complete and in order. ``app.state.seen`` records each request for in-process tests.

Faults on purpose, by model name, by a header on one request, or by plan for every n-th request:

- ``fail-<status>``: that status with a JSON error body (429 with ``Retry-After``);
- ``slow-<seconds>``: wait before answering; ``stall-<seconds>``: a stream pauses after its first chunk;
- ``cut``: the answer breaks off half-way (stream or not).

Set them with the model ``fail-503``, the header ``x-fake-fault: slow-2``, or
``POST /_control/faults {"faults": ["fail-503", "cut"], "every": 2}`` (every 2nd chat request gets the next
fault in turn; ``{"faults": []}`` stops; ``GET`` shows the plan and how many requests it has seen).

    python -m api.fake_upstream --port 9000    # then CONDENSER_OPENAI_BASE_URL=http://127.0.0.1:9000/v1
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STREAM_CHUNKS = 4
FAULT_HEADER = "x-fake-fault"
#: header names whose values are never echoed back (only that they arrived)
CREDENTIALS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie",
                         "x-condenser-key"})
FAULT = re.compile(r"^(fail-\d{3}|slow-\d+(\.\d+)?|stall-\d+(\.\d+)?|cut)$")
WORDS = ("amber river stone quiet bright market harbour garden copper winter signal valley paper morning "
         "lantern orchard silver meadow bridge candle forest island letter mountain ocean pepper rocket "
         "saddle thunder velvet window yellow anchor basket cobalt desert engine feather glacier hollow "
         "ivory jacket kettle ladder marble needle oyster pillow quartz ribbon summit timber umbrella violet "
         "walnut willow zephyr maple cedar falcon harvest juniper lagoon meteor nectar").split()


def message_texts(body: Mapping[str, Any], anthropic: bool) -> list[tuple[str, str]]:
    """``(role, text)`` of each message (Anthropic's ``system`` first); block contents joined."""
    def text_of(content: Any) -> str:
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(text_of(b.get("text", b.get("content", ""))) for b in content if isinstance(b, dict))
        return ""

    out = []
    if anthropic and body.get("system") is not None:
        out.append(("system", text_of(body.get("system"))))
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            out.append((str(message.get("role", "")), text_of(message.get("content"))))
    return out


def received_report(raw: bytes, body: Mapping[str, Any], headers: Mapping[str, str], anthropic: bool) -> dict:
    """What the upstream got: body size and sha256, per-message role/chars/sha256, headers less credentials."""
    messages = [{"role": role, "chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
                for role, text in message_texts(body, anthropic)]
    return {"body_bytes": len(raw), "body_sha256": hashlib.sha256(raw).hexdigest(), "messages": messages,
            "headers": {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS},
            "credentials": sorted(k.lower() for k in headers if k.lower() in CREDENTIALS)}


def reply_text(received: Mapping[str, Any]) -> str:
    """The reply for a ``received`` report: what arrived, then words spelled from the body's digest."""
    chars = sum(m["chars"] for m in received["messages"])
    digest = bytes.fromhex(received["body_sha256"])
    words = " ".join(WORDS[b % len(WORDS)] for b in digest[:16])
    return f"received {chars} characters in {len(received['messages'])} messages; {words}."


def stream_pieces(text: str, n: int = STREAM_CHUNKS) -> list[str]:
    """``text`` in ``n`` pieces cut between words, which join back to exactly ``text``."""
    words = text.split(" ")
    bounds = [round(i * len(words) / n) for i in range(n + 1)]
    return [" ".join(words[a:b]) + (" " if a < b < len(words) else "") for a, b in itertools.pairwise(bounds)]


def _sse(event: dict, name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(event)}\n\n".encode()


def _openai_events(text: str, model: str, received: dict) -> list[tuple[bytes, bool]]:
    pieces = stream_pieces(text)
    out = []
    for i, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        event: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": model, "choices": [{"index": 0, "delta": delta,
                                                              "finish_reason": "stop" if i == len(pieces) - 1 else None}]}
        if i == 0:
            event["received"] = received
        out.append((_sse(event), i > 0))
    return out + [(b"data: [DONE]\n\n", False)]


def _anthropic_events(text: str, model: str, received: dict) -> list[tuple[bytes, bool]]:
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "usage": {"input_tokens": 0, "output_tokens": 0}, "received": received}
    deltas = [(_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                    "content_block_delta"), i > 0) for i, piece in enumerate(stream_pieces(text))]
    start = [_sse({"type": "message_start", "message": message}, "message_start"),
             _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                  "content_block_start")]
    end = [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
           _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}},
                "message_delta"),
           _sse({"type": "message_stop"}, "message_stop")]
    return [(e, False) for e in start] + deltas + [(e, False) for e in end]


async def _play(events: list[tuple[bytes, bool]], delay: float, fault: str) -> AsyncIterator[bytes]:
    """Yield ``events``, waiting ``delay`` before each paced one (content after the first piece); ``cut``
    breaks off half-way, ``stall-<s>`` pauses after the first event."""
    for i, (event, paced) in enumerate(events):
        if paced and delay:
            await asyncio.sleep(delay)
        if fault == "cut" and i == len(events) // 2:
            raise ConnectionResetError("fake upstream cut the stream")
        yield event
        if i == 0 and fault.startswith("stall-"):
            await asyncio.sleep(float(fault.split("-", 1)[1]))


class FaultPlan:
    """Every ``every``-th chat request gets the next of ``faults`` in turn (none when empty)."""

    def __init__(self) -> None:
        self.faults: list[str] = []
        self.every = 1
        self.requests = 0
        self.injected: dict[str, int] = {}

    def next(self) -> str:
        """The fault for the request that just came in, or "" for none."""
        self.requests += 1
        if not self.faults or self.requests % self.every:
            return ""
        fault = self.faults[(self.requests // self.every - 1) % len(self.faults)]
        self.injected[fault] = self.injected.get(fault, 0) + 1
        return fault

    def state(self) -> dict:
        return {"faults": self.faults, "every": self.every, "requests": self.requests, "injected": self.injected}


def _error(status: int, message: str) -> JSONResponse:
    headers = {"retry-after": "1"} if status == 429 else None
    return JSONResponse({"error": {"message": message, "type": "upstream_test"}}, status_code=status,
                        headers=headers)


def create_fake_upstream(stream_delay: float = 0.0, record: bool = True) -> Starlette:
    """The fake provider; ``stream_delay`` seconds between streamed chunks; ``record`` keeps what it was sent."""

    async def chat(request: Request) -> Response:
        anthropic = request.url.path.endswith("/messages")
        raw = await request.body()
        try:
            body: dict[str, Any] = json.loads(raw)
        except (ValueError, RecursionError):
            return _error(400, "fake upstream: body is not JSON it can read")
        if not isinstance(body, dict):
            return _error(400, "fake upstream: body is not a JSON object")
        if record:
            request.app.state.seen.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        model = str(body.get("model", ""))
        planned = request.app.state.faults.next()
        fault = next((f for f in (request.headers.get(FAULT_HEADER, ""), model, planned) if FAULT.match(f)), "")
        if fault.startswith("fail-"):
            status = int(fault.split("-", 1)[1])
            return _error(status, f"fake upstream failure {status}")
        if fault.startswith("slow-") or (fault.startswith("stall-") and not body.get("stream")):
            await asyncio.sleep(float(fault.split("-", 1)[1]))
        received = received_report(raw, body, request.headers, anthropic)
        text = reply_text(received)
        headers = {"x-upstream": "fake", "x-fake-body-sha256": received["body_sha256"]}
        if body.get("stream"):
            events = (_anthropic_events if anthropic else _openai_events)(text, model, received)
            return StreamingResponse(_play(events, stream_delay, fault), media_type="text/event-stream",
                                     headers=headers)
        if anthropic:
            answer = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                      "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                      "usage": {"input_tokens": 0, "output_tokens": 0}, "received": received}
        else:
            answer = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                   "finish_reason": "stop"}], "received": received}
        if fault == "cut":  # half the JSON, then the connection breaks
            data = json.dumps(answer).encode()
            halves = [(data[: len(data) // 2], False), (data[len(data) // 2:], False)]
            return StreamingResponse(_play(halves, 0, "cut"),
                                     media_type="application/json", headers=headers)
        return JSONResponse(answer, headers=headers)

    async def models(request: Request) -> Response:
        if record:
            request.app.state.seen.append({"path": request.url.path, "headers": dict(request.headers), "body": None})
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def faults(request: Request) -> Response:
        plan: FaultPlan = request.app.state.faults
        if request.method == "POST":
            wanted = await request.json()
            given = [str(f) for f in wanted.get("faults", [])]
            bad = [f for f in given if not FAULT.match(f)]
            if bad or int(wanted.get("every", 1)) < 1:
                return _error(400, f"unknown faults {bad} or every < 1")
            plan.faults, plan.every = given, int(wanted.get("every", 1))
            plan.requests, plan.injected = 0, {}
        return JSONResponse(plan.state())

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                            Route("/v1/messages", chat, methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"]),
                            Route("/_control/faults", faults, methods=["GET", "POST"]),
                            Route("/healthz", healthz, methods=["GET"])])
    app.state.seen = []
    app.state.faults = FaultPlan()
    return app


def main() -> None:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--stream-delay", type=float, default=0.05, help="seconds between streamed chunks")
    parser.add_argument("--no-record", action="store_true", help="do not keep requests (long load runs)")
    args = parser.parse_args()
    app = create_fake_upstream(args.stream_delay, record=not args.no_record)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
