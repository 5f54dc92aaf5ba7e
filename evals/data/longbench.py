"""LongBench (and LongBench-E) items from the official JSON Lines fields, with the official prompts.

Fields: ``input`` (the question; empty for some tasks), ``context``, ``answers``, ``length``, ``dataset``,
``language``, ``all_classes``, ``_id``. Files may hold one task (``hotpotqa.jsonl``, ``hotpotqa_e.jsonl``,
the official layout) or many (``minilongbench.jsonl.gz``: the task is read from ``dataset``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from evals.data import hub
from evals.data.io import default_data_dir, file_task, jsonl_files, read_jsonl
from evals.data.item import EvalItem
from evals.metrics.longbench import LONGBENCH_E_TASKS, TASKS, base_task

HUB_NAME = "THUDM/LongBench"
_CONFIG = Path(__file__).parent / "longbench_config"
_PLACEHOLDER = re.compile(r"\{(context|input)\}")


@lru_cache(maxsize=1)
def prompts() -> dict[str, str]:
    """Official prompt template per task (placeholders ``{context}`` and ``{input}``)."""
    return json.loads((_CONFIG / "dataset2prompt.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def max_new_tokens() -> dict[str, int]:
    """Official maximum generation length per task (tokens)."""
    return json.loads((_CONFIG / "dataset2maxlen.json").read_text(encoding="utf-8"))


def split_template(task: str, question: str) -> tuple[str, str]:
    """The task's prompt around ``{context}``, with ``{input}`` filled in: (prefix, suffix).

    One regex pass replaces the placeholders, so braces inside the question are left alone.
    """
    marker = "\x00CONTEXT\x00"
    filled = _PLACEHOLDER.sub(
        lambda m: marker if m.group(1) == "context" else question, prompts()[base_task(task)]
    )
    prefix, _, suffix = filled.partition(marker)
    return prefix, suffix


def item_from_row(row: dict, task: str | None = None) -> EvalItem:
    """Build an ``EvalItem`` from one official LongBench row (``task`` overrides ``row['dataset']``)."""
    task = task or row.get("dataset")
    if not task or base_task(task) not in TASKS:
        raise ValueError(f"unknown LongBench task {task!r} (row {row.get('_id')!r})")
    question = row.get("input") or ""
    prefix, suffix = split_template(task, question)
    return EvalItem(
        benchmark="longbench",
        task=task,
        id=str(row.get("_id") or row.get("id")),
        context=row["context"],
        query=question or None,
        answers=list(row.get("answers") or []),
        prefix=prefix,
        suffix=suffix,
        max_new_tokens=max_new_tokens()[base_task(task)],
        language=row.get("language") or "en",
        all_classes=row.get("all_classes"),
        length=int(row["length"]) if row.get("length") is not None else None,
        truncation="middle",
    )


def _wanted(task: str, tasks: set[str] | None, longbench_e: bool) -> bool:
    if longbench_e and base_task(task) not in LONGBENCH_E_TASKS:
        return False
    return tasks is None or task in tasks or base_task(task) in tasks


def _local_rows(source: Path, longbench_e: bool) -> Iterable[tuple[dict, str | None]]:
    files = jsonl_files(source)
    if longbench_e and any(file_task(f).endswith("_e") for f in files):
        files = [f for f in files if file_task(f).endswith("_e")]  # the official LongBench-E files
    for path in files:
        stem = file_task(path)
        for row in read_jsonl(path):
            if "context" in row:  # skip prediction files and other companions
                yield row, row.get("dataset") or stem


def _hub_rows(name: str, tasks: set[str] | None, longbench_e: bool) -> Iterable[tuple[dict, str | None]]:
    names = LONGBENCH_E_TASKS if longbench_e else TASKS
    for task in names:
        if tasks is None or task in tasks:
            config = f"{task}_e" if longbench_e else task
            yield from ((row, config) for row in hub.load_rows(name, config, "test"))


def load_longbench(
    source: str | Path | None = None,
    *,
    tasks: Iterable[str] | None = None,
    longbench_e: bool = False,
    limit: int | None = None,
) -> list[EvalItem]:
    """Load LongBench items from a local file or folder (default ``<data>/longbench``) or a hub name.

    Args:
        source: a ``.jsonl[.gz]`` file, a folder of them, or a hub name such as ``THUDM/LongBench``.
        tasks: keep only these tasks (base names; ``hotpotqa`` also matches ``hotpotqa_e``).
        longbench_e: keep the 13 LongBench-E tasks (and prefer ``<task>_e`` files in a folder).
        limit: at most this many items per task, in file order.
    """
    wanted = set(tasks) if tasks else None
    source = default_data_dir() / "longbench" if source is None else source
    if hub.looks_like_hub_name(source):
        rows = _hub_rows(str(source), wanted, longbench_e)
    else:
        rows = _local_rows(Path(source), longbench_e)
    items: list[EvalItem] = []
    per_task: dict[str, int] = {}
    for row, task in rows:
        if task and _wanted(task, wanted, longbench_e) and per_task.get(task, 0) < (limit or float("inf")):
            items.append(item_from_row(row, task))
            per_task[task] = per_task.get(task, 0) + 1
    return items
