"""The result type every compression returns, shared by the SDK, the API and the integrations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Span(BaseModel):
    """A kept piece of the input: character offsets ``[start, end)`` into original document ``doc``."""

    doc: int = 0
    start: int
    end: int
    score: float | None = None


class CompressionResult(BaseModel):
    """What ``compress()`` returns. Token counts are in the target LLM's tokens (``encoding``)."""

    text: str
    original_tokens: int
    compressed_tokens: int
    ratio: float = Field(description="original_tokens / compressed_tokens (inf-safe: >= 1 when compressed)")
    method: str
    kept: list[Span] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per pipeline stage")
    documents: list[str] | None = Field(default=None, description="per-document output for list input")
    encoding: str = "cl100k_base"
    budget: int | None = Field(default=None, description="the token budget that was honoured")
    info: dict[str, Any] = Field(default_factory=dict,
                                 description="what the method reports beside its spans (e.g. rerank scores)")

    @property
    def saved_tokens(self) -> int:
        return self.original_tokens - self.compressed_tokens
