"""The LLM proxy: OpenAI ``/v1/chat/completions``, Anthropic ``/v1/messages``, ``/v1/models`` pass-through.

Change one ``base_url`` to this service and long message parts arrive at the provider compressed. The reply
comes back exactly as the provider sent it (streams chunk by chunk), plus ``x-condenser-*`` headers.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from api.access import Caller
from api.errors import APIError
from api.proxy.controls import BODY_FIELD, controls_of
from api.proxy.rewrite import compress_request
from api.state import CallerDep, state_of

log = logging.getLogger("condenser.api.proxy")

router = APIRouter(prefix="/v1", tags=["proxy"])

#: the documented shape; the body is forwarded as sent (less the ``condenser`` field), so anything else passes
ChatBody = Annotated[dict[str, Any], Body(examples=[{"model": "gpt-4o-mini",
                                                     "messages": [{"role": "user", "content": "Hi"}]}])]


def _check(body: dict[str, Any]) -> dict[str, Any]:
    """The few fields the proxy reads; everything else is the provider's business."""
    if not isinstance(body.get("messages"), list):
        raise APIError(400, "messages must be a list of messages", param="messages")
    if "model" in body and not isinstance(body["model"], str):
        raise APIError(400, "model must be a string", param="model")
    return body


async def _proxy_chat(request: Request, body: dict[str, Any], caller: Caller, path: str,
                      anthropic: bool) -> Response:
    state = state_of(request)
    body = _check(body)
    controls = controls_of(request.headers, body, state.settings)
    status, extra = "bypassed", {}
    if not controls.bypass:
        try:
            outcome = await compress_request(body, anthropic, controls, state.service, caller.tenant)
            status = "applied" if outcome else "skipped"
            extra = outcome.headers(status) if outcome else {}
        except APIError:
            raise
        except Exception as exc:  # the compressor's failure is not the client's: forward the original
            if not state.settings.fail_open:
                raise APIError(503, f"compression failed ({type(exc).__name__}); fail-closed is configured",
                               type="compression_error") from exc
            log.warning("compression failed (%s); forwarding the original (fail open)", type(exc).__name__)
            body = json.loads(await request.body())  # the parsed copy may be half rewritten
            body.pop(BODY_FIELD, None)
            status = "failed-open"
    extra.setdefault("x-condenser-compression", status)
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return await state.upstream.forward("POST", path, headers=request.headers, caller=caller, body=payload,
                                        anthropic=anthropic, model=body.get("model"), extra_headers=extra)


@router.post("/chat/completions")
async def chat_completions(request: Request, body: ChatBody,
                           caller: CallerDep) -> Response:
    """OpenAI-compatible chat completions (streaming or not), compressed on the way."""
    return await _proxy_chat(request, body, caller, "/chat/completions", anthropic=False)


@router.post("/messages")
async def messages(request: Request, body: ChatBody, caller: CallerDep) -> Response:
    """Anthropic-compatible messages (streaming or not), compressed on the way."""
    return await _proxy_chat(request, body, caller, "/messages", anthropic=True)


@router.get("/models")
async def models(request: Request, caller: CallerDep) -> Response:
    """The upstream's model list, passed through."""
    return await state_of(request).upstream.forward("GET", "/models", headers=request.headers, caller=caller,
                                                    query=request.url.query)
