"""Aggregate result rows into the summary table: task x method x rate -> score, achieved ratio, latency."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from evals.metrics import longbench as lb
from evals.metrics import zeroscrolls as zs

AVERAGE = "average"
COLUMNS = ["task", "method", "rate", "n", "scored", "score", "ratio", "compress_ms", "reader_ms"]


def _task_score(task: str, rows: Sequence[dict]) -> float | None:
    """Official task score when components are there (ZeroSCROLLS), else 100 x mean of the scored rows."""
    if rows and all(r.get("components") for r in rows) and rows[0]["benchmark"] == "zeroscrolls":
        return zs.task_score(task, [r["components"] for r in rows])
    scores = [r["score"] for r in rows if r.get("score") is not None]
    return lb.task_score(scores) if scores else None


def _cell(task: str, method: str, rate: float, rows: Sequence[dict], buckets: bool) -> dict:
    cell = {
        "task": task, "method": method, "rate": rate, "n": len(rows),
        "scored": sum(r.get("score") is not None for r in rows), "score": _task_score(task, rows),
        "ratio": round(sum(r["original_tokens"] for r in rows) / max(sum(r["compressed_tokens"] for r in rows), 1), 2),
        "compress_ms": round(1000 * sum(r["compress_s"] for r in rows) / len(rows), 1),
        "reader_ms": round(1000 * sum(r["reader_s"] for r in rows) / len(rows), 1),
    }  # fmt: skip
    if buckets:
        scored = [r for r in rows if r.get("score") is not None and r.get("length") is not None]
        cell.update(lb.bucket_scores([r["score"] for r in scored], [r["length"] for r in scored]))
    return cell


def _average(method: str, rate: float, cells: Sequence[dict], rows: Sequence[dict]) -> dict:
    """Macro average over tasks (each task counts once, as benchmarks report), totals for ratio and latency."""
    scores = [c["score"] for c in cells if c["score"] is not None]
    avg = _cell(AVERAGE, method, rate, rows, buckets=False)
    avg["score"] = round(sum(scores) / len(scores), 2) if scores else None
    return avg


def summarize(rows: Iterable[dict], *, buckets: bool = False) -> list[dict]:
    """Summary rows, one per (task, method, rate) plus an ``average`` row per (method, rate).

    Order: methods and tasks as first seen, rates from mildest to strongest compression.
    """
    groups: dict[tuple[str, float], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        groups[(row["method"], row["rate"])][row["task"]].append(row)
    methods = list(dict.fromkeys(m for m, _ in groups))
    out: list[dict] = []
    for method in methods:
        for rate in sorted((r for m, r in groups if m == method), reverse=True):
            by_task = groups[(method, rate)]
            cells = [_cell(t, method, rate, rs, buckets) for t, rs in by_task.items()]
            out += cells + [_average(method, rate, cells, [r for rs in by_task.values() for r in rs])]
    return out


def write_csv(summary: Sequence[dict], path: Path) -> None:
    """Long-format CSV of the summary (bucket columns appended when present)."""
    extra = [b for b in lb.LENGTH_BUCKETS if any(b in s for s in summary)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS + extra, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def markdown(summary: Sequence[dict], title: str = "Summary") -> str:
    """Markdown: an overview (average per method x rate), then the full task x method x rate table."""
    extra = [b for b in lb.LENGTH_BUCKETS if any(b in s for s in summary)]
    cols = COLUMNS + extra
    lines = [f"# {title}", "", "## Average over tasks", "", "| method | rate | score | achieved ratio | compress ms |",
             "|---|---|---|---|---|"]  # fmt: skip
    for s in summary:
        if s["task"] == AVERAGE:
            lines.append(f"| {s['method']} | {_fmt(s['rate'])} | {_fmt(s['score'])} | {_fmt(s['ratio'])} "
                         f"| {_fmt(s['compress_ms'])} |")  # fmt: skip
    lines += ["", "## Per task", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(s.get(c)) for c in cols) + " |" for s in summary]
    return "\n".join(lines) + "\n"
