"""A tiny OpenAI/Anthropic-compatible upstream for trying the proxy without a provider key.

It answers ``/v1/chat/completions``, ``/v1/messages`` and ``/v1/models`` with a canned reply that reports how
many characters it received, streams SSE when asked, and records what it was sent (``app.state.seen``) so
tests and benchmarks can check what the proxy forwarded. Special model names make it misbehave on purpose:
``fail-<status>`` answers that status, ``slow-<seconds>`` waits first, ``cut`` breaks the stream mid-way.

    python -m api.fake_upstream --port 9000    # then CONDENSER_OPENAI_BASE_URL=http://127.0.0.1:9000/v1
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STREAM_CHUNKS = 4


def _reply_text(body: dict) -> str:
    chars = sum(len(json.dumps(m.get("content", ""))) for m in body.get("messages", []) if isinstance(m, dict))
    return f"received {chars} characters"


def _chunks(text: str, anthropic: bool, delay: float, cut: bool):
    async def generate():
        words = [text[i::STREAM_CHUNKS] for i in range(STREAM_CHUNKS)]
        for i, piece in enumerate(words):
            if i and delay:
                await asyncio.sleep(delay)
            if cut and i == STREAM_CHUNKS // 2:
                raise ConnectionResetError("fake upstream cut the stream")
            if anthropic:
                event = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
                yield f"event: content_block_delta\ndata: {json.dumps(event)}\n\n".encode()
            else:
                event = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}],
                         "sent_at": time.time()}
                yield f"data: {json.dumps(event)}\n\n".encode()
        yield b"event: message_stop\ndata: {}\n\n" if anthropic else b"data: [DONE]\n\n"
    return generate()


async def _misbehave(model: str) -> Response | None:
    if model.startswith("fail-"):
        status = int(model.split("-", 1)[1])
        return JSONResponse({"error": {"message": f"fake upstream failure {status}", "type": "upstream_test"}},
                            status_code=status)
    if model.startswith("slow-"):
        await asyncio.sleep(float(model.split("-", 1)[1]))
    return None


def create_fake_upstream(stream_delay: float = 0.0, record: bool = True) -> Starlette:
    """The fake provider; ``stream_delay`` seconds between streamed chunks; ``record`` keeps what it was sent."""

    async def chat(request: Request) -> Response:
        anthropic = request.url.path.endswith("/messages")
        raw = await request.body()
        body: dict[str, Any] = json.loads(raw)
        if record:
            request.app.state.seen.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        model = str(body.get("model", ""))
        failure = await _misbehave(model)
        if failure is not None:
            return failure
        text = _reply_text(body)
        if body.get("stream"):
            return StreamingResponse(_chunks(text, anthropic, stream_delay, model == "cut"),
                                     media_type="text/event-stream", headers={"x-upstream": "fake"})
        if anthropic:
            answer = {"type": "message", "role": "assistant", "model": model,
                      "content": [{"type": "text", "text": text}]}
        else:
            answer = {"object": "chat.completion", "model": model,
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
        return JSONResponse(answer, headers={"x-upstream": "fake"})

    async def models(request: Request) -> Response:
        request.app.state.seen.append({"path": request.url.path, "headers": dict(request.headers), "body": None})
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                            Route("/v1/messages", chat, methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"])])
    app.state.seen = []
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

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app.add_route("/healthz", healthz, methods=["GET"])
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
