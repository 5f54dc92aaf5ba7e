"""Request and response bodies of the compression endpoints (field names as in ``CompressionResult``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.limits import MAX_TARGET_TOKENS
from compressor import CompressionResult, available_methods


class CompressRequest(BaseModel):
    """``POST /v1/compress``: what ``compress(context, query, ...)`` takes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"context": "Paris is the capital of France. Berlin is the capital of Germany.",
         "query": "What is the capital of France?", "rate": 0.5, "method": "condenser"}]})

    context: str | list[str] = Field(description="the text, or a list of documents compressed jointly")
    query: str | None = Field(None, description="the question; omit for question-agnostic compression")
    rate: float | None = Field(None, gt=0, le=1, description="fraction of tokens kept (default: the service's)")
    target_tokens: int | None = Field(None, ge=1, le=MAX_TARGET_TOKENS,
                                      description=f"exact token budget instead of a rate (at most {MAX_TARGET_TOKENS:,})")
    method: str | None = Field(None, description="compression method (GET /v1/methods); default: the service's")
    options: dict[str, Any] = Field(default_factory=dict, description="method options, e.g. {\"model\": \"gpt-4o\"}")

    @field_validator("context")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        docs = [value] if isinstance(value, str) else value
        if not any(d.strip() for d in docs):
            raise ValueError("context is empty: nothing to compress")
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None) -> str | None:
        if value is not None and value not in available_methods():
            raise ValueError(f"unknown method {value!r}; available: {', '.join(available_methods())}")
        return value

    @model_validator(mode="after")
    def _one_budget(self) -> CompressRequest:
        if self.rate is not None and self.target_tokens is not None:
            raise ValueError("give rate or target_tokens, not both")
        return self


class CompressResponse(CompressionResult):
    """``CompressionResult`` plus whether it came from the cache."""

    cached: bool = False


class BatchRequest(BaseModel):
    """``POST /v1/compress/batch``: many independent items in one call."""

    model_config = ConfigDict(extra="forbid")

    items: list[CompressRequest] = Field(min_length=1, description="at most the service's max_batch_items")


class ErrorDetail(BaseModel):
    message: str
    type: str = "invalid_request_error"
    param: str | None = None


class BatchItemError(BaseModel):
    """One failed batch item (the others still succeed)."""

    error: ErrorDetail


class BatchResponse(BaseModel):
    results: list[CompressResponse | BatchItemError] = Field(description="one per item, in order")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class MethodInfo(BaseModel):
    name: str
    description: str
    ready: bool = Field(description="whether it can run now (a method that needs a checkpoint it lacks is not)")
    detail: str = Field(description="what it runs on, or the checkpoint it needs and how to give one")


class MethodsResponse(BaseModel):
    methods: list[str]
    default: str
    details: list[MethodInfo] = Field(default_factory=list, description="per method: description and readiness")
