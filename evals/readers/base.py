"""The reader interface: whatever turns a prompt into an answer (an LLM) or scores the context directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from evals.data.item import EvalItem


@dataclass(frozen=True)
class ReaderRequest:
    """What a reader gets: the item, the final prompt, and the (compressed) context inside it."""

    item: EvalItem
    prompt: str
    context: str


@dataclass(frozen=True)
class Answer:
    """A reader's output. ``score`` set means the reader scored the item itself (offline oracles);
    otherwise the runner scores ``text`` with the benchmark's official metric."""

    text: str
    score: float | None = None
    latency_s: float = 0.0
    cached: bool = False


class Reader(Protocol):
    """Turns a request into an answer. Implementations must be safe to call from several threads."""

    name: str
    context_window: int | None  # prompt + generation tokens the reader accepts; None: no truncation
    scores_itself: bool  # True for oracles: no official metric is applied

    def answer(self, request: ReaderRequest) -> Answer:
        """Answer one request."""
        ...
