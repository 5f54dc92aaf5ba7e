"""``compress()``: the SDK entry point."""

from __future__ import annotations

from typing import Any

from compressor.result import CompressionResult


def compress(
    context: str | list[str],
    query: str | None = None,
    *,
    rate: float | None = None,
    target_tokens: int | None = None,
    method: str = "condenser",
    **options: Any,
) -> CompressionResult:
    """Compress ``context`` for ``query`` to a token budget.

    Args:
        context: the text, or a list of documents (their boundaries are kept: see ``result.documents``).
        query: the question the compressed text must still answer; None runs question-agnostic.
        rate: fraction of the target LLM's tokens to keep, in (0, 1]. Default 0.33 when neither budget
            argument is given.
        target_tokens: hard ceiling on the output's tokens; the output uses at least 90 % of it when the
            input allows.
        method: a name from ``available_methods()``.
        **options: ``encoding`` (tiktoken encoding, default ``cl100k_base``) or ``model`` (the target LLM,
            e.g. ``gpt-4o``), ``coarse`` (force the question-aware page-retrieval stage on/off), plus
            the method's own options.

    Returns:
        ``CompressionResult``; an input already within budget comes back unchanged.

    Raises:
        TypeError / ValueError naming the argument for bad input.
    """
    from pipelines import default_pipeline  # late: pipelines builds on this package

    return default_pipeline().run(context, query, rate=rate, target_tokens=target_tokens, method=method,
                                  **options)
