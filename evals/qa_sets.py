"""Multi-passage QA items from ../shared/data as (id, question, context, answers), for retention benchmarks.

The context is built the way LongBench and the shared yardstick build it: "Passage i:\\ntitle\\ntext".
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from compressor.training.splits import is_dev
from evals.metrics.retention import answer_survives

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    context: str
    answers: list[str]


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: ``path``, else ``$CONDENSER_DATA``, else ../shared/data beside the repo."""
    found = Path(path or os.environ.get("CONDENSER_DATA") or DEFAULT_DATA)
    if not found.is_dir():
        raise FileNotFoundError(f"data folder not found: {found} (pass --data or set CONDENSER_DATA)")
    return found


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def hotpotqa(data: Path) -> Iterator[QAItem]:
    for r in _rows(data / "hotpotqa" / "distractor.jsonl.gz"):
        ctx = "\n\n".join(f"Passage {i + 1}:\n{t}\n{''.join(s)}" for i, (t, s) in enumerate(r["context"]))
        yield QAItem(r["_id"], r["question"], ctx, [r["answer"]])


def musique(data: Path) -> Iterator[QAItem]:
    for r in _rows(data / "musique" / "musique_s.jsonl.gz"):
        ctx = "\n\n".join(
            f"Passage {i + 1}:\n{c.get('title', '')}\n{c['text']}" for i, c in enumerate(r["ctxs"])
        )
        yield QAItem(r["id"], r["question"], ctx, list(r["answers"]))


def musique_long(data: Path) -> Iterator[QAItem]:
    """Each MuSiQue context followed by the next item's (~11k tokens): long enough for the pipeline's
    coarse stage, and made of overlapping windows, so it shows what repeats cost there."""
    items = list(musique(data))
    for i, item in enumerate(items):
        context = f"{item.context}\n\n{items[(i + 1) % len(items)].context}"
        yield QAItem(item.id, item.question, context, item.answers)


LOADERS = {"hotpotqa": hotpotqa, "musique": musique, "musique-long": musique_long}
#: the dataset whose train/dev split a derived set follows
SOURCES = {"musique-long": "musique"}


def is_dev_item(name: str, item: QAItem) -> bool:
    """Whether ``item`` of set ``name`` is in the dev split (``compressor.training.splits``) of its source."""
    return is_dev(SOURCES.get(name, name), item.id)


def answer_in(text: str, answers: list[str]) -> bool:
    """Whether an informative gold answer occurs in ``text`` as whole words after SQuAD/LongBench
    normalisation (``evals.metrics.retention.answer_survives``). Until 2026-12-03 this was a plain
    substring test, which counted "24" inside "1924" and "no" inside "Arnold"."""
    return answer_survives(answers, text)


def load(name: str, data: str | os.PathLike | None = None, *, answerable_only: bool = True) -> list[QAItem]:
    """Items of set ``name``; by default only those whose answer occurs in the full context."""
    if name not in LOADERS:
        raise ValueError(f"unknown set {name!r}; available: {', '.join(LOADERS)}")
    items = list(LOADERS[name](data_dir(data)))
    return [x for x in items if answer_in(x.context, x.answers)] if answerable_only else items
