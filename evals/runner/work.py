"""One unit of work: compress an item's context, ask the reader, score the answer, return a result row."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from evals.data.item import EvalItem
from evals.data.prompt import render_prompt
from evals.metrics import longbench as lb
from evals.metrics import zeroscrolls as zs
from evals.readers.base import Reader, ReaderRequest
from evals.runner.config import NO_COMPRESSION
from evals.runner.store import row_key

log = logging.getLogger("evals.runner")

#: long enough that every method runs its model (the budget is below the text)
WARM_UP_TEXT = "Warm-up sentence one names Ada. Warm-up sentence two names Paris. " * 20


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


def preload_methods(methods: Iterable[str], encoding: str) -> None:
    """Load each of ``methods`` (its lazy imports and model) with one small compression in this thread,
    before worker threads start: imports racing in two threads fail (``cannot import name
    'AutoTokenizer' from 'transformers'`` lost an item). A method that fails here is left to its units,
    which report the error."""
    from compressor import compress, count_tokens

    count_tokens(WARM_UP_TEXT, encoding)
    for method in dict.fromkeys(methods):
        if method == NO_COMPRESSION:
            continue
        try:
            compress(WARM_UP_TEXT, "Where is Ada?", rate=0.5, method=method, encoding=encoding)
        except Exception as exc:  # noqa: BLE001 - each unit of this method reports it
            log.warning("could not preload method %s (%s: %s)", method, type(exc).__name__, exc)


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
