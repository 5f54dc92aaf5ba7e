"""Putting a (compressed) context into an item's official prompt, truncated to the reader's window.

Token counts are tiktoken tokens of ``encoding`` (the reader's tokenizer stand-in; default cl100k_base).
- LongBench (pred.py): a prompt over ``window - max_new_tokens`` keeps its first and last half
  (``int(max_len / 2)`` tokens each) and drops the middle.
- ZeroSCROLLS (official runners): the document's end is cut so that prefix + document + separator +
  query/answer suffix fit in ``window - max_new_tokens - 1``.
"""

from __future__ import annotations

from compressor import count_tokens, get_encoding
from evals.data.item import EvalItem


def middle_truncate(text: str, max_tokens: int, encoding: str = "cl100k_base") -> str:
    """Keep the first and last ``int(max_tokens / 2)`` tokens of ``text`` when it is longer than ``max_tokens``."""
    enc = get_encoding(encoding)
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    half = int(max_tokens / 2)
    return enc.decode(tokens[:half]) + enc.decode(tokens[-half:])


def head_truncate(text: str, max_tokens: int, encoding: str = "cl100k_base") -> str:
    """The first ``max_tokens`` tokens of ``text`` (all of it when shorter)."""
    enc = get_encoding(encoding)
    tokens = enc.encode(text, disallowed_special=())
    return text if len(tokens) <= max_tokens else enc.decode(tokens[: max(max_tokens, 0)])


def render_prompt(
    item: EvalItem, context: str | None = None, *, window: int | None = None, encoding: str = "cl100k_base"
) -> str:
    """The reader's prompt for ``item`` with ``context`` in place, cut the benchmark's way to ``window`` tokens.

    ``window`` is the reader's context window (prompt + generation); None means no truncation.
    """
    prompt = item.prompt(context)
    if window is None:
        return prompt
    if item.truncation == "middle":
        return middle_truncate(prompt, window - item.max_new_tokens, encoding)
    budget = window - item.max_new_tokens - 1
    if count_tokens(prompt, encoding) <= budget:
        return prompt
    tail = item.separator + item.suffix.lstrip("\n")
    doc_budget = budget - count_tokens(item.prefix, encoding) - count_tokens(tail, encoding)
    return (
        item.prefix + head_truncate(item.context if context is None else context, doc_budget, encoding) + tail
    )
