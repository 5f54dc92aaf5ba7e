"""``compress()`` and its batch form ``compress_many()``: the SDK entry points."""

from __future__ import annotations

from collections.abc import Sequence
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
            e.g. ``gpt-4o``; a model tiktoken does not know counts with ``cl100k_base`` and warns once),
            ``instruction`` (text kept verbatim before the compressed context, counted against the budget:
            see ``compressor.instruction``), ``question`` / ``target_token`` (LLMLingua's names, aliases of
            ``query`` / ``target_tokens``), ``coarse`` (force the question-aware page-retrieval stage on/off),
            ``repeat_words`` (text kept once from overlapping chunks: runs of at least this many words,
            default 20 from the pipeline config; 0 keeps repeats), ``keep`` (a str or list of str: every
            occurrence is kept verbatim, like ``<keep>...</keep>`` in the text, whose markers are removed),
            ``anatomy`` (default True: the input's instructions, question, document labels, XML tags and
            headings of kept sections are kept whole and only its context is compressed, a ``rate`` applying
            to that context; ``result.info["anatomy"]`` says what was protected; see
            ``compressor.anatomy``), plus the method's own options.

    Returns:
        ``CompressionResult``; an input already within budget comes back unchanged. ``str(result)`` is the
        compressed text; ``result.info`` records what was done (method, encoding, model, budget,
        tokens in/out).

    Raises:
        TypeError / ValueError naming the argument for bad input (an unknown option with a did-you-mean).
    """
    from pipelines import default_pipeline  # late: pipelines builds on this package

    return default_pipeline().run(context, query, rate=rate, target_tokens=target_tokens, method=method,
                                  **options)


def compress_many(
    contexts: Sequence[str | list[str]],
    queries: Sequence[str | None] | None = None,
    *,
    rate: float | None = None,
    target_tokens: int | None = None,
    method: str = "condenser",
    progress: bool = False,
    **options: Any,
) -> list[CompressionResult]:
    """Compress many contexts at once: batch jobs and evaluations (throughput mode).

    Each result is what ``compress(contexts[i], queries[i], ...)`` gives, but the model work of all
    inputs runs together in large length-sorted batches; with ``device="cuda"`` the ``condenser``
    method's sentence embedder runs on the GPU in float16. The same budget and options apply to every
    input.

    Args:
        contexts: the inputs, each a text or a list of documents.
        queries: one question per context, or None (question-agnostic for all).
        rate, target_tokens, method, **options: as for ``compress``.
        progress: show a progress bar.

    Raises:
        TypeError / ValueError naming the argument (``contexts[i]: ...`` for one bad input).
    """
    from pipelines import default_pipeline

    return default_pipeline().run_many(contexts, queries, rate=rate, target_tokens=target_tokens,
                                       method=method, progress=progress, **options)
