"""The result type every compression returns, shared by the SDK, the API and the integrations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from compressor.validation import model_known

#: characters of the text a repr shows
REPR_CHARS = 40


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

    def __str__(self) -> str:
        """The compressed text, so a result can go straight into a prompt (``f"{result}"``)."""
        return self.text

    def __repr__(self) -> str:
        head = self.text[:REPR_CHARS] + ("…" if len(self.text) > REPR_CHARS else "")
        return (f"{type(self).__name__}(method={self.method!r}, tokens={self.original_tokens}→"
                f"{self.compressed_tokens}, ratio={self.ratio:.2f}, text={head!r})")


def record_call(result: CompressionResult, model: str | None = None) -> CompressionResult:
    """``result`` with ``info`` saying what was done: method, encoding (and the ``model`` it was chosen
    for), budget and tokens in/out; keys a method set itself are left as they are."""
    call: dict[str, Any] = {"method": result.method, "encoding": result.encoding, "budget": result.budget,
                            "tokens_in": result.original_tokens, "tokens_out": result.compressed_tokens}
    if model is not None:
        call["model"] = model
        call["model_known"] = model_known(model)  # unknown: counted with the default encoding, approximate
    result.info = {**result.info, **call}
    return result
