"""Per-request compression controls: ``X-Condenser-*`` headers or a ``condenser`` body field.

The body field is removed before the request is forwarded (providers reject unknown fields). A header wins
over the body field; both fall back to the deployment's settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.errors import APIError
from api.limits import MAX_TARGET_TOKENS
from api.settings import CachePolicy, Settings
from compressor import available_methods

BODY_FIELD = "condenser"
HEADERS = {"bypass": "x-condenser-bypass", "rate": "x-condenser-rate", "method": "x-condenser-method",
           "target_tokens": "x-condenser-target-tokens", "min_tokens": "x-condenser-min-tokens",
           "cache_policy": "x-condenser-cache-policy"}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class Controls(BaseModel):
    """How to compress one proxied request."""

    model_config = ConfigDict(extra="forbid")

    bypass: bool = False
    rate: float | None = Field(None, gt=0, le=1)
    target_tokens: int | None = Field(None, ge=1, le=MAX_TARGET_TOKENS, description="budget for each compressed part")
    method: str | None = None
    min_tokens: int | None = Field(None, ge=0)
    keep: list[str] | None = Field(None, description="spans kept verbatim in every compressed part (body field "
                                   "only); <keep>...</keep> in a message does the same inline")
    cache_policy: CachePolicy | None = Field(
        None, description="the provider-cached prefix: as sent, compressed without the question, or for it "
        "(api.proxy.cache_policy)")

    @field_validator("method")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in available_methods():
            raise ValueError(f"unknown method {value!r}; available: {', '.join(available_methods())}")
        return value


def _header_values(headers: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, name in HEADERS.items():
        raw = headers.get(name)
        if raw is None:
            continue
        if field == "bypass":
            if raw.strip().lower() not in TRUE | FALSE:
                raise APIError(400, f"{name} must be true or false, got {raw!r}", param=name)
            values[field] = raw.strip().lower() in TRUE
        else:
            values[field] = raw.strip()
    return values


def controls_of(headers: Any, body: dict, settings: Settings) -> Controls:
    """The request's controls (the body field is popped from ``body``); 400 naming the bad one."""
    from_body = body.pop(BODY_FIELD, None)
    if from_body is not None and not isinstance(from_body, dict):
        raise APIError(400, f"{BODY_FIELD} must be an object", param=BODY_FIELD)
    values = {**(from_body or {}), **_header_values(headers)}
    try:
        controls = Controls.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else BODY_FIELD
        where = HEADERS.get(field, f"{BODY_FIELD}.{field}") if field in _header_values(headers) else f"{BODY_FIELD}.{field}"
        raise APIError(400, f"{where}: {first['msg']}", param=where) from exc
    if controls.rate is not None and controls.target_tokens is not None:
        raise APIError(400, "give a rate or target_tokens, not both", param="x-condenser-rate")
    if controls.min_tokens is None:
        controls.min_tokens = settings.min_tokens
    if controls.cache_policy is None:
        controls.cache_policy = settings.cache_policy
    return controls
