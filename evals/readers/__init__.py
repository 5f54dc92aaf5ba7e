"""Readers: the LLM (any OpenAI-compatible endpoint, the Condenser proxy) or an offline oracle."""

from __future__ import annotations

import os

from evals.readers.base import Answer, Reader, ReaderRequest
from evals.readers.cache import ResponseCache
from evals.readers.openai import OpenAIReader, RetryPolicy
from evals.readers.oracle import OracleRetentionReader

PROXY_URL_ENV = "CONDENSER_PROXY_URL"
READER_HELP = (
    "oracle-retention | openai:MODEL | proxy:MODEL (Condenser proxy at $CONDENSER_PROXY_URL) | smollm2"
)

__all__ = [
    "Answer",
    "OpenAIReader",
    "OracleRetentionReader",
    "Reader",
    "ReaderRequest",
    "ResponseCache",
    "RetryPolicy",
    "make_reader",
]


def make_reader(
    spec: str,
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    context_window: int | None = None,
    max_concurrency: int = 4,
    cache: ResponseCache | None = None,
) -> Reader:
    """Build a reader from a spec string (see ``READER_HELP``).

    ``proxy:MODEL`` is the same OpenAI-compatible client pointed at the Condenser proxy
    (``base_url``, else ``$CONDENSER_PROXY_URL``, else ``http://127.0.0.1:8000/v1``).
    """
    kind, _, model = spec.partition(":")
    if spec == "oracle-retention":
        return OracleRetentionReader()
    if spec == "smollm2":
        from evals.readers.local import SmolLM2Reader

        return SmolLM2Reader(context_window)
    if kind in ("openai", "proxy") and model:
        if kind == "proxy":
            base_url = base_url or os.environ.get(PROXY_URL_ENV) or "http://127.0.0.1:8000/v1"
        window = {} if context_window is None else {"context_window": context_window}
        return OpenAIReader(
            model,
            base_url=base_url,
            api_key_env=api_key_env,
            max_concurrency=max_concurrency,
            cache=cache,
            name_prefix=kind,
            **window,
        )
    raise ValueError(f"unknown reader {spec!r}; expected {READER_HELP}")
