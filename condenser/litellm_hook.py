"""LiteLLM callback: compress the long message parts of requests passing through LiteLLM, as Condenser's own
proxy does (the same parts, controls, cache and outcome headers; compression failures fail open).

LiteLLM proxy (``config.yaml``)::

    litellm_settings:
      callbacks: condenser.litellm_hook.proxy_handler_instance

LiteLLM SDK or Router::

    litellm.callbacks = [condenser.litellm_hook.proxy_handler_instance]

Per request: the ``x-condenser-*`` headers (``x-condenser-rate: 0.2``, ``x-condenser-bypass: true``, ...) or a
``condenser`` dict in the request's ``metadata`` (``{"condenser": {"rate": 0.2}}``) or body. What was done is
recorded in the request's metadata under ``condenser_result`` (the ``x-condenser-*`` header values) and, in
the proxy, returned as response headers. Deployment settings come from the ``CONDENSER_*`` environment, as
for ``condenser serve``. Needs ``pip install 'condenser[litellm,api]'``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

try:
    from litellm.integrations.custom_logger import CustomLogger
except ImportError as exc:  # the callback is optional: say how to get it instead of a bare traceback
    raise ImportError("condenser.litellm_hook needs litellm: pip install 'condenser[litellm,api]'") from exc

from api.errors import APIError
from api.proxy.controls import BODY_FIELD, controls_of
from api.proxy.rewrite import compress_or_fail_open
from api.settings import Settings

__all__ = ["RESULT_KEY", "CondenserHook", "proxy_handler_instance"]

RESULT_KEY = "condenser_result"
#: LiteLLM call types whose request holds chat messages, and whether the body is Anthropic-shaped
CHAT_CALLS = {"completion": False, "acompletion": False, "anthropic_messages": True}
#: where LiteLLM keeps a request's metadata (``litellm_metadata`` on some routes)
METADATA_FIELDS = ("metadata", "litellm_metadata")


class CondenserHook(CustomLogger):
    """A LiteLLM ``CustomLogger`` that compresses requests before they reach the provider.

    ``async_pre_call_hook`` runs in the LiteLLM proxy; ``async_pre_call_deployment_hook`` in the SDK and
    Router (and after the proxy's hook, which it then leaves alone). ``settings`` defaults to the
    ``CONDENSER_*`` environment; the compression service (model, cache) is built on the first request.
    """

    def __init__(self, settings: Settings | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._settings = settings
        self._service: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    @property
    def service(self) -> Any:
        """The same cached compression service as ``condenser serve`` uses, built once."""
        if self._service is None:
            self._service = _build_service(self.settings)
        return self._service

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict,
                                  call_type: Any) -> dict:
        """LiteLLM proxy: compress ``data`` in place before it is routed; returns it."""
        tenant = _digest(getattr(user_api_key_dict, "token", None) or getattr(user_api_key_dict, "api_key", None))
        await self._compress(data, _call_name(call_type), _request_headers(data), tenant)
        return data

    async def async_pre_call_deployment_hook(self, kwargs: dict[str, Any], call_type: Any) -> dict[str, Any]:
        """LiteLLM SDK and Router: compress the call's ``kwargs`` just before they are sent."""
        headers = {**(kwargs.get("headers") or {}), **(kwargs.get("extra_headers") or {})}
        await self._compress(kwargs, _call_name(call_type), headers, _digest(kwargs.get("api_key")))
        return kwargs

    async def async_post_call_response_headers_hook(self, data: dict, user_api_key_dict: Any, response: Any,
                                                    request_headers: dict[str, str] | None = None
                                                    ) -> dict[str, str] | None:
        """LiteLLM proxy: the ``x-condenser-*`` headers of what was done, on the response."""
        result = _metadata(data, create=False).get(RESULT_KEY)
        return dict(result) if isinstance(result, dict) else None

    async def _compress(self, data: dict, call: str | None, headers: Mapping[str, str], tenant: str) -> None:
        """Rewrite ``data``'s long parts in place and record the outcome in its metadata."""
        if call not in CHAT_CALLS or not isinstance(data.get("messages"), list):
            return
        meta = _metadata(data, create=True)
        if RESULT_KEY in meta:  # already compressed (the proxy's hook ran before the deployment hook)
            return
        anthropic = CHAT_CALLS[call]
        body = _body_view(data, meta)
        try:
            controls = controls_of({k.lower(): v for k, v in headers.items()}, body, self.settings)
        except APIError as exc:  # a bad control is the caller's mistake, as in Condenser's proxy
            raise _http_error(exc) from exc
        data.pop(BODY_FIELD, None)
        # what failing open restores: compress_or_fail_open rewrites body's parts in place
        original = {} if controls.bypass else {k: copy.deepcopy(body[k]) for k in ("messages", "system") if k in body}
        try:
            extra, failed_open = await compress_or_fail_open(body, anthropic, controls, self.service, tenant,
                                                               self.settings)
        except APIError as exc:  # overloaded under reject, a capacity answer, or fail-closed
            raise _http_error(exc) from exc
        if failed_open:
            body.update(original)
        data.update({k: body[k] for k in ("messages", "system") if k in body})
        meta[RESULT_KEY] = extra


def _call_name(call_type: Any) -> str | None:
    return getattr(call_type, "value", call_type) if call_type is not None else None


def _body_view(data: dict, meta: dict) -> dict:
    """What ``compress_request`` reads: the messages (and Anthropic system), the bare model name (LiteLLM's
    ``openai/gpt-4o`` counts as ``gpt-4o``), and the ``condenser`` controls from the body or the metadata."""
    model = data.get("model")
    body: dict[str, Any] = {k: data[k] for k in ("messages", "system") if k in data}
    if isinstance(model, str):
        body["model"] = model.rsplit("/", 1)[-1]
    controls = data.get(BODY_FIELD, meta.get(BODY_FIELD))
    if controls is not None:
        body[BODY_FIELD] = controls
    return body


def _metadata(data: dict, create: bool) -> dict:
    for field in METADATA_FIELDS:
        if isinstance(data.get(field), dict):
            return data[field]
    if not create:
        return {}
    data["metadata"] = {}
    return data["metadata"]


def _request_headers(data: dict) -> Mapping[str, str]:
    """The client's request headers, where the LiteLLM proxy keeps them."""
    request = data.get("proxy_server_request")
    if isinstance(request, dict) and isinstance(request.get("headers"), Mapping):
        return request["headers"]
    headers = _metadata(data, create=False).get("headers")
    return headers if isinstance(headers, Mapping) else {}


def _digest(key: Any) -> str:
    """The cache scope of a caller: a hash of its key, never the key itself."""
    if not key:
        return "litellm:anonymous"
    return "litellm:" + hashlib.sha256(str(key).encode()).hexdigest()[:16]


def _http_error(exc: APIError) -> Exception:
    """An error the LiteLLM proxy answers with its status and an OpenAI-style body."""
    from fastapi import HTTPException

    detail = {"error": {"message": exc.message, "type": exc.type, "param": exc.param}}
    return HTTPException(status_code=exc.status, detail=detail, headers=exc.headers)


def _build_service(settings: Settings) -> Any:
    from api.cache import CompressionCache
    from api.metrics import Metrics
    from api.service import CompressionService

    return CompressionService(settings, CompressionCache.from_settings(settings), Metrics())


#: the instance a LiteLLM ``config.yaml`` names: ``callbacks: condenser.litellm_hook.proxy_handler_instance``
proxy_handler_instance = CondenserHook()
