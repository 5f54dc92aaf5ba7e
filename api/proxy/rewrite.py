"""Compress the long parts of a chat request in place, through the same cached service as ``/v1/compress``."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from api.admission import Overloaded
from api.cache import LRU
from api.errors import APIError
from api.proxy.cache_policy import CachePlan, PrefixReport
from api.proxy.controls import Controls
from api.proxy.messages import Part, query_of, split_question, text_parts
from api.schemas import CompressRequest
from api.service import CompressionService
from api.settings import Settings
from compressor.tokens import count_tokens, encoding_for_model

log = logging.getLogger("condenser.api.proxy")


@dataclass
class Outcome:
    """What compression did to one request (reported in response headers)."""

    tokens_before: int = 0
    tokens_after: int = 0
    parts: int = 0
    method: str = ""
    cached: bool = True
    #: tokens of instructions, questions and scaffolding kept whole (``compressor.anatomy``)
    protected_tokens: int = 0
    #: the provider-cached prefix and the cost estimate (``api.proxy.cache_policy``)
    cache_prefix: PrefixReport | None = None

    @property
    def status(self) -> str:
        """``applied`` when a part was compressed; ``skipped`` when only the kept (preserved) prefix was long."""
        return "applied" if self.parts else "skipped"

    def headers(self, status: str) -> dict[str, str]:
        out = {"x-condenser-compression": status}
        if status == "applied":
            out.update({"x-condenser-tokens-before": str(self.tokens_before),
                        "x-condenser-tokens-after": str(self.tokens_after),
                        "x-condenser-method": self.method, "x-condenser-parts": str(self.parts),
                        "x-condenser-cache": "hit" if self.cached else "miss",
                        "x-condenser-protected-tokens": str(self.protected_tokens)})
        if status in ("applied", "skipped") and self.cache_prefix is not None:
            out.update(self.cache_prefix.headers())
        return out


def _long_parts(parts: list[Part], controls: Controls, roles: list[str], encoding: str) -> list[tuple[Part, int]]:
    """Parts of a compressible role over ``min_tokens``.

    A token is at least one UTF-8 byte, so parts with fewer bytes are skipped without counting; the others
    are counted in this thread (tiktoken's batch API hands off to a thread pool: slower for a few texts).
    """
    threshold = controls.min_tokens or 0
    eligible = [p for p in parts if p.role in roles and len(p.text.encode("utf-8")) > threshold]
    counted = [(p, _count(p.text, encoding)) for p in eligible]
    return [(p, n) for p, n in counted if n > threshold]


_counts = LRU(4096)


def _count(text: str, encoding: str) -> int:
    """Token count, remembered by content digest: the same long system prompt comes with every request."""
    key = encoding + hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    known = _counts.get(key)
    if known is None:
        known = count_tokens(text, encoding)
        _counts.put(key, known)
    return known


async def compress_request(body: dict, anthropic: bool, controls: Controls, service: CompressionService,
                           tenant: str) -> Outcome | None:
    """Rewrite ``body``'s long parts; None when nothing was long enough to compress, an outcome with no parts
    (``skipped``, with the prefix report) when only the preserved prefix was."""
    settings = service.settings
    model = body.get("model") if isinstance(body.get("model"), str) else None
    encoding = encoding_for_model(model) if model else "cl100k_base"
    parts = text_parts(body, anthropic)
    plan = CachePlan.of(body, anthropic, controls.cache_policy or settings.cache_policy)
    found = _long_parts(parts, controls, settings.compress_roles, encoding)
    if not found:
        return None
    long_parts = plan.compressible(found)
    query = query_of(parts)
    outcome = Outcome(method=controls.method or settings.method)
    for part, tokens in long_parts:
        context, question = split_question(part.text) if part.last_user else (part.text, "")
        # system, user and tool parts alike: the pipeline's anatomy keeps their instructions whole
        options = {"encoding": encoding, **({"keep": controls.keep} if controls.keep else {})}
        request = CompressRequest(context=context, query=plan.query_for(part, query), rate=controls.rate,
                                  target_tokens=controls.target_tokens, method=outcome.method, options=options)
        result = await service.compress(request, tenant)
        part.text = f"{result.text}\n\n{question}" if question else result.text
        after = result.compressed_tokens + (tokens - result.original_tokens)
        outcome.tokens_before += tokens
        outcome.tokens_after += after
        plan.compressed(part, tokens, after)
        outcome.parts += 1
        outcome.cached = outcome.cached and result.cached
        outcome.protected_tokens += result.info.get("anatomy", {}).get("protected_tokens", 0)
    outcome.cache_prefix = plan.report(parts, model, lambda text: _count(text, encoding))
    outcome.cache_prefix.record(service.metrics)
    return outcome


async def compress_or_fail_open(body: dict, anthropic: bool, controls: Controls, service: CompressionService,
                                tenant: str, settings: Settings) -> tuple[dict[str, str], bool]:
    """``compress_request`` with the proxy's failure policy: the response headers, and whether the caller
    must forward its original body (failed open: the compressor failed, or the queue was full under
    ``settings.overload`` ``fail-open``; ``body`` may then be half rewritten). Raises the ``APIError`` to
    answer with: overloaded under ``reject``, a capacity answer (429/503), or 503 when fail-closed. The
    controls are checked before: what fails here is the compressor, not the client."""
    if controls.bypass:
        return {"x-condenser-compression": "bypassed"}, False
    try:
        outcome = await compress_request(body, anthropic, controls, service, tenant)
    except Overloaded:  # the compression queue is full: back-pressure by CONDENSER_OVERLOAD
        if settings.overload == "reject":
            raise
        return {"x-condenser-reason": "overloaded", "x-condenser-compression": "failed-open"}, True
    except Exception as exc:
        if isinstance(exc, APIError) and exc.status in (429, 503):
            raise  # a capacity answer is the service's verdict, not a compressor failure
        if not settings.fail_open:
            raise APIError(503, f"compression failed ({type(exc).__name__}); fail-closed is configured",
                           type="compression_error") from exc
        log.warning("compression failed (%s); forwarding the original (fail open)", type(exc).__name__)
        return {"x-condenser-compression": "failed-open"}, True
    if outcome is None:
        return {"x-condenser-compression": "skipped"}, False
    return outcome.headers(outcome.status), False
