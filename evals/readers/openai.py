"""A reader for any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp, the Condenser proxy, ...)."""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass

import httpx

from evals.readers.base import Answer, ReaderRequest
from evals.readers.cache import ResponseCache, cache_key

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class ReaderError(RuntimeError):
    """The endpoint kept failing, or answered with an error that retrying cannot fix."""


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter: ``base * 2**attempt`` seconds, capped, ``Retry-After`` honoured."""

    max_retries: int = 5
    base_s: float = 1.0
    cap_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after:
            try:
                return min(float(retry_after), self.cap_s)
            except ValueError:
                pass  # an HTTP date: fall back to backoff
        return min(self.base_s * 2**attempt, self.cap_s) * (0.5 + random.random() / 2)


class OpenAIReader:
    """Chat completions over httpx with a concurrency limit, retries, and an on-disk response cache.

    The API key is read from the environment variable ``api_key_env`` at construction; it is sent only in
    the Authorization header and is never part of the cache key, a log line, or the run record.
    """

    scores_itself = False

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        context_window: int | None = 128_000,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        cache: ResponseCache | None = None,
        timeout_s: float = 120.0,
        temperature: float = 0.0,
        name_prefix: str = "openai",
    ) -> None:
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip(
            "/"
        )
        self.name = f"{name_prefix}:{model}"
        self.context_window = context_window
        self.retry = retry or RetryPolicy()
        self.cache = cache
        self.temperature = temperature
        self._slots = threading.BoundedSemaphore(max_concurrency)
        key = os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)

    def _payload(self, request: ReaderRequest) -> tuple[list[dict], dict]:
        messages = [{"role": "user", "content": request.prompt}]
        params = {"max_tokens": request.item.max_new_tokens, "temperature": self.temperature}
        return messages, params

    def _post(self, body: dict) -> dict:
        """POST /chat/completions with retries on 429/5xx and connection errors."""
        for attempt in range(self.retry.max_retries + 1):
            last = attempt == self.retry.max_retries
            try:
                with self._slots:
                    resp = self._client.post("/chat/completions", json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if last:
                    raise ReaderError(
                        f"{self.base_url}: {type(exc).__name__} after {attempt + 1} tries"
                    ) from exc
                time.sleep(self.retry.delay(attempt))
                continue
            if resp.status_code in _RETRY_STATUS and not last:
                time.sleep(self.retry.delay(attempt, resp.headers.get("retry-after")))
                continue
            if resp.status_code >= 400:
                raise ReaderError(f"{self.base_url}: HTTP {resp.status_code}: {resp.text[:200]}")
            return resp.json()
        raise AssertionError("unreachable")

    def answer(self, request: ReaderRequest) -> Answer:
        """The model's reply to ``request.prompt`` (from the cache when this exact request was made before)."""
        messages, params = self._payload(request)
        key = cache_key(self.base_url, self.model, messages, params)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return Answer(text=hit["text"], cached=True)
        start = time.perf_counter()
        data = self._post({"model": self.model, "messages": messages, **params})
        text = (data.get("choices") or [{}])[0].get("message", {}).get("content") or ""
        if self.cache is not None:
            self.cache.put(key, {"text": text, "usage": data.get("usage")})
        return Answer(text=text, latency_s=time.perf_counter() - start)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
