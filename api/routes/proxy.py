"""The LLM proxy: OpenAI ``/v1/chat/completions``, Anthropic ``/v1/messages``, ``/v1/models`` pass-through.

Change one ``base_url`` to this service and long message parts arrive at the provider compressed. The reply
comes back exactly as the provider sent it (streams chunk by chunk), plus ``x-condenser-*`` headers.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access import Caller
from api.errors import APIError
from api.limits import check_chat
from api.proxy.controls import BODY_FIELD, controls_of
from api.proxy.rewrite import compress_or_fail_open
from api.settings import Settings
from api.state import CallerDep, state_of

router = APIRouter(prefix="/v1", tags=["proxy"])

#: the documented shape; the body is forwarded as sent (less the ``condenser`` field), so anything else passes
#: the documented body; parsed by hand (orjson, after auth) and forwarded as sent, less the ``condenser`` field
CHAT_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["messages"], "additionalProperties": True,
               "properties": {"model": {"type": "string"}, "messages": {"type": "array", "items": {"type": "object"}},
                              "stream": {"type": "boolean"}, BODY_FIELD: {"type": "object"}}},
    "example": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}}}}}


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise APIError(400, "request body is not valid JSON", param="body") from exc
    if not isinstance(body, dict):
        raise APIError(400, "request body must be a JSON object", param="body")
    return body


def _check(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The few fields the proxy reads, and the message and part counts; the rest is the provider's business."""
    if not isinstance(body.get("messages"), list):
        raise APIError(400, "messages must be a list of messages", param="messages")
    refused = check_chat(body, settings.max_messages, settings.max_parts)
    if refused is not None:
        raise APIError(refused.status, refused.message, param=refused.param)
    if "model" in body and not isinstance(body["model"], str):
        raise APIError(400, "model must be a string", param="model")
    return body


async def _original(request: Request) -> dict[str, Any]:
    """The client's body as sent, without the ``condenser`` field: what failing open forwards."""
    body = _parse(await request.body())
    body.pop(BODY_FIELD, None)
    return body


async def _proxy_chat(request: Request, caller: Caller, path: str, anthropic: bool) -> Response:
    state = state_of(request)
    body = _check(_parse(await request.body()), state.settings)
    controls = controls_of(request.headers, body, state.settings)
    # a proxy-key caller routed where the deployment has no key is refused before any compression work
    state.upstream.credential(caller, state.upstream.route(anthropic, body.get("model")))
    extra, failed_open = await compress_or_fail_open(body, anthropic, controls, state.service, caller.tenant,
                                                       state.settings)
    if failed_open:
        body = await _original(request)  # the parsed copy may be half rewritten
    payload = orjson.dumps(body)
    return await state.upstream.forward("POST", path, headers=request.headers, caller=caller, body=payload,
                                        anthropic=anthropic, model=body.get("model"), extra_headers=extra)


@router.post("/chat/completions", openapi_extra=CHAT_BODY)
async def chat_completions(request: Request, caller: CallerDep) -> Response:
    """OpenAI-compatible chat completions (streaming or not), compressed on the way."""
    return await _proxy_chat(request, caller, "/chat/completions", anthropic=False)


@router.post("/messages", openapi_extra=CHAT_BODY)
async def messages(request: Request, caller: CallerDep) -> Response:
    """Anthropic-compatible messages (streaming or not), compressed on the way."""
    return await _proxy_chat(request, caller, "/messages", anthropic=True)


@router.get("/models")
async def models(request: Request, caller: CallerDep) -> Response:
    """The upstream's model list, passed through."""
    return await state_of(request).upstream.forward("GET", "/models", headers=request.headers, caller=caller,
                                                    query=request.url.query)
