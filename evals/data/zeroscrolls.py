"""ZeroSCROLLS items. Each row's ``input`` is the full official prompt:

``{instruction}\\n\\n{Doc header}:\\n{document}\\n\\n{Query header}:\\n{query}\\n\\n{Answer header}:\\n``
(summarisation tasks have no query part). The document is what gets compressed; everything around it is
kept verbatim. Hub rows carry the split indices; local rows are split by these headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from evals.data import hub
from evals.data.io import default_data_dir, file_task, jsonl_files, read_jsonl
from evals.data.item import EvalItem
from evals.metrics.zeroscrolls import TASKS

HUB_NAME = "tau/zero_scrolls"
# Tokens left for generation per task, from the official ZeroSCROLLS runners.
MAX_NEW_TOKENS = {
    "gov_report": 1024, "summ_screen_fd": 512, "qmsum": 512, "qasper": 128, "narrative_qa": 64,
    "quality": 10, "musique": 32, "squality": 512, "space_digest": 36, "book_sum_sort": 256,
}  # fmt: skip
_QUERY_HEADERS = ("Question and Possible Answers", "Question", "Query")
_ANSWER_TAIL = re.compile(r"\n\n([A-Z][A-Za-z ]{1,40}):\n?\s*$")
_DOC_HEADER = re.compile(r"\n\n([A-Z][A-Za-z ]{1,40}):\n")


class PromptSplitError(ValueError):
    """The prompt does not have the expected ZeroSCROLLS layout."""


def split_prompt(text: str) -> tuple[str, str, str, str | None]:
    """Split a full ZeroSCROLLS prompt into (prefix, document, suffix, query).

    ``prefix`` ends with the document header line, ``suffix`` starts at the blank line after the
    document; ``query`` is the question text (None for summarisation tasks).
    """
    head = _DOC_HEADER.search(text)
    tail = _ANSWER_TAIL.search(text)
    if head is None or tail is None or tail.start() < head.end():
        raise PromptSplitError("no document header or answer prefix found")
    doc_start, doc_end, query = head.end(), tail.start(), None
    for header in _QUERY_HEADERS:
        at = text.rfind(f"\n\n{header}:\n", doc_start, tail.start())
        if at >= 0:
            query = text[at + len(header) + 4 : tail.start()].strip()
            doc_end = at
            break
    return text[:doc_start], text[doc_start:doc_end], text[doc_end:], query


def _hub_split(row: dict) -> tuple[str, str, str, str | None]:
    text = row["input"]
    start, end = row["document_start_index"], row["document_end_index"]
    query = text[row["query_start_index"] : row["query_end_index"]].strip() or None
    return text[:start], text[start:end], text[end:], query


def _separator(prefix: str) -> str:
    """The official truncation marker, e.g. ``... [The rest of the story is omitted]\\n\\n``."""
    header = prefix.rstrip().rstrip(":").rsplit("\n", 1)[-1].strip().lower() or "document"
    return f"... [The rest of the {header} is omitted]\n\n"


def item_from_row(row: dict, task: str, answers: list[str]) -> EvalItem:
    """Build an ``EvalItem`` from one ZeroSCROLLS row; an unsplittable prompt is compressed whole."""
    try:
        prefix, document, suffix, query = (
            _hub_split(row) if "document_start_index" in row else split_prompt(row["input"])
        )
    except PromptSplitError:
        prefix, document, suffix, query = "", row["input"], "", None
    return EvalItem(
        benchmark="zeroscrolls",
        task=task,
        id=str(row["id"]),
        context=document,
        query=query,
        answers=answers,
        prefix=prefix,
        suffix=suffix,
        max_new_tokens=MAX_NEW_TOKENS.get(task, 512),
        length=len(row["input"].split()),
        truncation="tail",
        separator=row.get("truncation_seperator") or _separator(prefix),
    )


def _group(rows: Iterable[tuple[dict, str]]) -> list[tuple[dict, str, list[str]]]:
    """Merge rows that share an id (one row per gold answer) into one item with all answers."""
    merged: dict[tuple[str, str], tuple[dict, str, list[str]]] = {}
    for row, task in rows:
        key = (task, str(row["id"]))
        entry = merged.setdefault(key, (row, task, []))
        if row.get("output"):
            entry[2].append(row["output"])
    return list(merged.values())


def _local_rows(source: Path) -> Iterable[tuple[dict, str]]:
    for path in jsonl_files(source):
        for row in read_jsonl(path):
            if "input" in row and "id" in row:
                yield row, row.get("task") or file_task(path)


def load_zeroscrolls(
    source: str | Path | None = None,
    *,
    tasks: Iterable[str] | None = None,
    split: str = "validation",
    limit: int | None = None,
) -> list[EvalItem]:
    """Load ZeroSCROLLS items from a local file or folder (default ``<data>/zeroscrolls``) or a hub name.

    Args:
        source: a ``.jsonl[.gz]`` file, a folder of them (one per task), or ``tau/zero_scrolls``.
        tasks: keep only these tasks.
        split: hub split (``validation`` has gold answers; ``test`` does not).
        limit: at most this many items per task, in file order.
    """
    wanted = set(tasks) if tasks else None
    source = default_data_dir() / "zeroscrolls" if source is None else source
    if hub.looks_like_hub_name(source):
        names = [t for t in TASKS if wanted is None or t in wanted]
        rows: Iterable[tuple[dict, str]] = (
            (r, t) for t in names for r in hub.load_rows(str(source), t, split)
        )
    else:
        rows = ((r, t) for r, t in _local_rows(Path(source)) if wanted is None or t in wanted)
    items: list[EvalItem] = []
    per_task: dict[str, int] = {}
    for row, task, answers in _group(rows):
        if per_task.get(task, 0) < (limit or float("inf")):
            items.append(item_from_row(row, task, answers))
            per_task[task] = per_task.get(task, 0) + 1
    return items
