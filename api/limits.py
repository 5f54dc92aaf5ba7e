"""Input limits: JSON nesting depth and header count and size before anything is parsed (``InputLimits``
middleware), messages and content parts of a proxied chat request right after its parse.

Each check returns a ``LimitExceeded`` (status, message naming the limit and its setting, parameter) or None,
so the middleware and the proxy route answer with the same clear 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: the upper bound of a token budget (``X-Condenser-Target-Tokens``, ``target_tokens``): far above any context
MAX_TARGET_TOKENS = 10_000_000

_NOT_SYNTAX = bytes(b for b in range(256) if b not in b'[]{}"')
#: opening brackets to +1, closing to -1 (as int8)
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_CHUNK = 1 << 20  # bounds the scan's working memory on a body made of brackets


@dataclass(frozen=True)
class LimitExceeded:
    """A refused input: the status to answer, a message naming the limit and its setting, the parameter."""

    status: int
    message: str
    param: str


def json_depth(raw: bytes, stop_above: int | None = None) -> int:
    """The nesting depth of JSON text ``raw`` (arrays and objects), from its bytes without parsing them.

    Brackets inside strings are skipped; with ``stop_above``, counting stops once that depth is passed.
    Invalid JSON gets a best-effort number: its parser refuses it afterwards anyway.
    """
    brackets = _outside_strings(raw).translate(_STEPS)
    steps = np.frombuffer(brackets, dtype=np.int8)
    depth = deepest = 0
    for start in range(0, len(steps), _CHUNK):
        running = np.cumsum(steps[start:start + _CHUNK], dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        if stop_above is not None and deepest > stop_above:
            break
        depth = int(running[-1])
    return deepest


def _outside_strings(raw: bytes) -> bytes:
    """The brackets of ``raw`` that are not inside JSON strings (C-speed bytes operations only)."""
    # an escaped backslash or quote never delimits a string; every other quote does
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(unescaped.translate(None, _NOT_SYNTAX).split(b'"')[::2])


def check_depth(raw: bytes, limit: int) -> LimitExceeded | None:
    """400 when the body nests arrays/objects deeper than ``limit`` (``CONDENSER_MAX_JSON_DEPTH``)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # cannot nest deeper than it has openings: no scan
        return None
    if json_depth(raw, stop_above=limit) > limit:
        return LimitExceeded(400, f"request body nests arrays/objects deeper than {limit} levels "
                                  "(CONDENSER_MAX_JSON_DEPTH)", "body")
    return None


def check_headers(headers: list[tuple[bytes, bytes]], max_count: int, max_bytes: int) -> LimitExceeded | None:
    """431 when the request has more than ``max_count`` headers or more than ``max_bytes`` of them in total
    (names and values; ``CONDENSER_MAX_HEADERS``, ``CONDENSER_MAX_HEADER_BYTES``)."""
    if len(headers) > max_count:
        return LimitExceeded(431, f"request has {len(headers)} headers, more than {max_count} "
                                  "(CONDENSER_MAX_HEADERS)", "headers")
    size = sum(len(name) + len(value) for name, value in headers)
    if size > max_bytes:
        return LimitExceeded(431, f"request headers take {size} bytes, more than {max_bytes} "
                                  "(CONDENSER_MAX_HEADER_BYTES)", "headers")
    return None


def _blocks(content: Any) -> int:
    """Content parts of one message: a string is one, a list counts its blocks and those nested in them
    (Anthropic ``tool_result`` blocks carry a list of their own)."""
    if isinstance(content, str):
        return 1
    if not isinstance(content, list):
        return 0
    return sum(1 + (_blocks(b.get("content")) if isinstance(b, dict) and isinstance(b.get("content"), list) else 0)
               for b in content)


def check_chat(body: dict, max_messages: int, max_parts: int) -> LimitExceeded | None:
    """413 when a proxied chat request has more than ``max_messages`` messages (``CONDENSER_MAX_MESSAGES``)
    or more than ``max_parts`` content parts in all (``CONDENSER_MAX_PARTS``; the system prompt counts)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    if len(messages) > max_messages:
        return LimitExceeded(413, f"request has {len(messages)} messages, more than {max_messages} "
                                  "(CONDENSER_MAX_MESSAGES)", "messages")
    parts = _blocks(body.get("system")) + sum(_blocks(m.get("content")) for m in messages if isinstance(m, dict))
    if parts > max_parts:
        return LimitExceeded(413, f"request has {parts} content parts, more than {max_parts} "
                                  "(CONDENSER_MAX_PARTS)", "messages")
    return None
