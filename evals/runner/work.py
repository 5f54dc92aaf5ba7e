"""One unit of work: compress an item's context, ask the reader, score the answer, return a result row."""

from __future__ import annotations

import time
from dataclasses import dataclass

from evals.data.item import EvalItem
from evals.data.prompt import render_prompt
from evals.metrics import longbench as lb
from evals.metrics import zeroscrolls as zs
from evals.readers.base import Reader, ReaderRequest
from evals.runner.config import NO_COMPRESSION
from evals.runner.store import row_key


@dataclass(frozen=True)
class Unit:
    """An item to evaluate with one compression method at one rate."""

    item: EvalItem
    method: str
    rate: float

    def key(self, reader: str) -> str:
        """The result's identity (see ``store.row_key``)."""
        return row_key(f"{self.item.benchmark}/{self.item.key}", self.method, self.rate, reader)


@dataclass(frozen=True)
class Compressed:
    """The compressor's output for one unit, with its cost."""

    text: str
    original_tokens: int
    compressed_tokens: int
    seconds: float


def compress_unit(unit: Unit, encoding: str) -> Compressed:
    """Compress ``unit.item.context`` for its query with ``unit.method`` at ``unit.rate`` (timed, wall clock)."""
    from compressor import compress, count_tokens

    context = unit.item.context
    if unit.method == NO_COMPRESSION:
        tokens = count_tokens(context, encoding)
        return Compressed(context, tokens, tokens, 0.0)
    start = time.perf_counter()
    result = compress(context, unit.item.query, rate=unit.rate, method=unit.method, encoding=encoding)
    seconds = time.perf_counter() - start
    return Compressed(result.text, result.original_tokens, result.compressed_tokens, seconds)


def official_score(item: EvalItem, prediction: str) -> tuple[float, list[float] | None]:
    """The benchmark's own item score, plus the per-item components a ZeroSCROLLS task aggregates."""
    if item.benchmark == "zeroscrolls":
        comps = zs.item_components(item.task, prediction, item.answers)
        score = zs.geometric_mean(comps) if item.task in zs.ROUGE_TASKS else comps[0]
        return score, comps
    return lb.score_item(item.task, prediction, item.answers, item.all_classes), None


def evaluate(unit: Unit, reader: Reader, *, encoding: str = "cl100k_base", window: int | None = None) -> dict:
    """Run one unit end to end and return its result row (JSON-serialisable)."""
    item = unit.item
    comp = compress_unit(unit, encoding)
    window = window if window is not None else reader.context_window
    prompt = (
        render_prompt(item, comp.text, window=window, encoding=encoding) if not reader.scores_itself else ""
    )
    answer = reader.answer(ReaderRequest(item=item, prompt=prompt, context=comp.text))
    score, comps = (answer.score, None) if reader.scores_itself else official_score(item, answer.text)
    return {
        "key": unit.key(reader.name), "benchmark": item.benchmark, "task": item.task, "id": item.id,
        "method": unit.method, "rate": unit.rate, "reader": reader.name,
        "original_tokens": comp.original_tokens, "compressed_tokens": comp.compressed_tokens,
        "ratio": comp.original_tokens / max(comp.compressed_tokens, 1), "compress_s": comp.seconds,
        "reader_s": answer.latency_s, "cached": answer.cached, "prediction": answer.text,
        "score": score, "components": comps, "length": item.length,
    }  # fmt: skip
