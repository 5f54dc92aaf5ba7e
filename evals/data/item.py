"""One evaluation item, benchmark-neutral: what to compress, what to ask, how to score."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvalItem:
    """A benchmark item split into the parts the runner needs.

    The prompt the reader sees is ``prefix + context + suffix`` (``context`` possibly compressed);
    ``truncation`` says how an over-long prompt is cut: ``"middle"`` (LongBench: keep both ends) or
    ``"tail"`` (ZeroSCROLLS: cut the document's end, then ``separator``, then the suffix).
    """

    benchmark: str  # "longbench" or "zeroscrolls"
    task: str  # the benchmark's task name, e.g. "hotpotqa" ("hotpotqa_e" for LongBench-E)
    id: str
    context: str  # the long document: what a compressor shrinks
    query: str | None  # the question or instruction the compressor may use; None when there is none
    answers: list[str]
    prefix: str
    suffix: str
    max_new_tokens: int
    language: str = "en"
    all_classes: list[str] | None = None
    length: int | None = None  # LongBench `length` (words, or characters for Chinese)
    truncation: str = "middle"
    separator: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """Unique name of the item within a run: ``task/id``."""
        return f"{self.task}/{self.id}"

    def prompt(self, context: str | None = None) -> str:
        """The full prompt with ``context`` (default: the original context) in place."""
        return self.prefix + (self.context if context is None else context) + self.suffix
