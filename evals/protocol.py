"""A tuning protocol that cannot overfit: k-fold answer recall over every answerable item of ../shared/data.

    python -m evals.protocol [--per-source 20] [--limit N] [--rows truncate,bm25,...] [--name NAME]
                             [--time-budget SECONDS] [--data DIR] [--report-only] [--choose ROW,ROW]

Items (``evals.protocol_data``): HotpotQA, MuSiQue, NQ, SQuAD 2.0, LongBench English QA, and MuSiQue /
HotpotQA contexts joined to 10k+ tokens; items the shipped models were trained on
(``compressor.training.splits``) are excluded and counted. Each item has one of 5 folds by a salted hash
of its id. The rows here choose no parameter, so every fold is scored with the same settings; a row that
did would choose on the other four folds (``cross_validated``; ``--choose`` prints such a choice).

Each item is compressed to original/F cl100k tokens (F = 3, 5, 10) and scored by the official rule of
``../shared/tools/retention.py`` (a normalised gold answer is a substring of the output). Results are
appended per item and row to ``runs/protocol/<name>.jsonl`` and skipped when re-run, so a killed run
resumes; ``<name>.summary.json`` holds the tables' figures. Printed: answer recall per source and pooled
with 95 % Wilson intervals, a paired McNemar test of each row against the default (``condenser``), and
what the coarse stage costs (``condenser`` against ``condenser`` reading the whole input).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.embedded_model_eval import ROWS as EMBEDDED_ROWS
from evals.metrics.intervals import paired, wilson
from evals.protocol_data import FOLDS, SOURCES, Item, Pool, build_pool, contains, load_all

FACTORS = (3.0, 5.0, 10.0)
DEFAULT_ROW = "condenser"
#: default per-source sample: the whole run (7 sources x 6 rows x 3 factors) within ~25 min on 2 cores
PER_SOURCE = 20


@dataclass(frozen=True)
class Row:
    """One compression setting: ``compress(method=..., **options)``; ``coarse`` False reads the input
    whole, None follows the pipeline; ``coarse_config`` overrides the coarse stage's constants."""

    label: str
    method: str
    options: dict[str, Any]
    coarse: bool | None
    coarse_config: dict[str, Any] | None = None


def _embedded(row_id: str, label: str | None = None) -> Row:
    """A row of ``evals.embedded_model_eval.ROWS``, so both evaluations compare the same settings."""
    old_label, method, options, coarse = EMBEDDED_ROWS[row_id]
    return Row(label or old_label, method, options, coarse)


ROWS: dict[str, Row] = {
    "truncate": _embedded("truncate"),
    "bm25": _embedded("bm25"),
    "cosine": _embedded("cosine", "MiniLM sentence cosine"),
    "extractive": _embedded("hybrid", "extractive (hybrid BM25+MiniLM)"),
    "condenser": _embedded("pipeline", "condenser (default)"),
    "no-coarse": _embedded("condenser", "condenser, no coarse stage"),
    # opt-in variants of the coarse stage (pipelines.config.CoarseConfig), for measuring a change
    "coarse-6k": Row("condenser, coarse keeps up to 6,000 tokens", "condenser", {}, None, {"max_tokens": 6000}),
    "coarse-8x": Row("condenser, coarse keeps 8x the budget", "condenser", {}, None,
                     {"multiple": 8.0, "max_tokens": 6000}),
}
#: ``rerank:<reranker>:<candidates>:<weight>[:<hops>]`` rows: the default with the sentence reranker stage;
#: ``<reranker>`` is ``shipped`` or a variant trained into ``RERANKER_RUNS/<reranker>``, with ``+int8``
#: appended to run it int8
RERANKER_RUNS = Path("runs/reranker")


def row_for(name: str) -> Row:
    """``ROWS[name]``, or a reranker row parsed from ``rerank:<reranker>:<candidates>:<weight>``."""
    if name in ROWS:
        return ROWS[name]
    if retriever_row(name):
        return Row(f"condenser, retriever {retriever_row(name)}", "condenser", {}, None)
    parts = name.split(":")
    if len(parts) not in (4, 5) or parts[0] != "rerank":
        raise KeyError(name)
    _, variant, k, w, *hops = parts
    int8 = variant.endswith("+int8")
    variant = variant.removesuffix("+int8")
    options = {"rerank": int(k), "rerank_weight": float(w), "rerank_hops": int(hops[0]) if hops else 1,
               "rerank_int8": int8}
    if variant != "shipped":
        from retriever.rerank import register_reranker

        register_reranker(f"run-{variant}", RERANKER_RUNS / variant)
        options["reranker"] = f"run-{variant}"
    label = (f"condenser + reranker {variant}{' int8' if int8 else ''} ({k} candidates, share {w}"
             f"{', 2 hops' if hops == ['2'] else ''})")
    return Row(label, "condenser", options, None)


RETRIEVER_RUNS = Path("runs/retriever")


def retriever_row(name: str) -> str | None:
    """The variant of a ``retriever:<variant>`` row (the default with the retriever trained into
    ``RETRIEVER_RUNS/<variant>`` in place of the shipped one), else None."""
    return name.split(":", 1)[1] if name.startswith("retriever:") else None


def use_retriever(variant: str) -> None:
    """Make ``variant`` this process's ``condenser`` retriever; before any embedder is loaded (so a
    ``retriever:`` row runs in an invocation of its own, beside an already scored default)."""
    from retriever import embeddings

    embeddings.SHIPPED["condenser"] = RETRIEVER_RUNS / variant


def known_row(name: str) -> bool:
    if retriever_row(name):
        return (RETRIEVER_RUNS / retriever_row(name)).is_dir()
    try:
        row_for(name)
    except (KeyError, ValueError):
        return False
    return True


STANDARD_ROWS = ("truncate", "bm25", "cosine", "extractive", "condenser", "no-coarse")


def compressor_for(row: Row) -> Callable[[str, str, int], tuple[str, int]]:
    """``(context, question, budget) -> (compressed text, its tokens)`` for ``row``."""
    from compressor import compress

    run: Callable[..., Any] = compress
    if row.coarse_config:
        from pipelines import CoarseConfig, Pipeline, PipelineConfig

        run = Pipeline(PipelineConfig(coarse=CoarseConfig(**row.coarse_config))).run
    extra = {} if row.coarse is None else {"coarse": row.coarse}

    def fn(context: str, question: str, budget: int) -> tuple[str, int]:
        result = run(context, question, target_tokens=budget, method=row.method, **row.options, **extra)
        return result.text, result.compressed_tokens

    return fn


def score_item(item: Item, fn: Callable[[str, str, int], tuple[str, int]], count: Callable[[str], int],
               factors: Iterable[float] = FACTORS) -> dict[str, Any]:
    """Whether ``item``'s answer survives ``fn`` at each factor (budget = original tokens / factor), and
    by how many tokens an output went over its budget (``over``: factors where it did)."""
    n = count(item.context)
    kept, over, start = {}, {}, time.perf_counter()
    for f in factors:
        budget = max(1, int(n / f))
        text, used = fn(item.context, item.question, budget)
        kept[f"{f:g}x"] = contains(text, item.answers)
        if used > budget:
            over[f"{f:g}x"] = used - budget
    return {"tokens": n, "kept": kept, "over": over, "seconds": round(time.perf_counter() - start, 3)}


def _key(source: str, item_id: str, row: str) -> tuple[str, str, str]:
    return source, item_id, row


def read_results(path: Path) -> dict[tuple[str, str, str], dict]:
    """Results already written, by (source, item id, row); a line cut by a kill is ignored."""
    done = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[_key(r["source"], r["id"], r["row"])] = r
    return done


def interleave(pool: Pool) -> list[Item]:
    """Items alternating between sources, so a run stopped early still covers every source."""
    queues = [list(v) for v in pool.items.values()]
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def run(pool: Pool, rows: list[str], path: Path, count: Callable[[str], int],
        time_budget: float = 0.0, progress: bool = True,
        compressors: dict[str, Callable[[str, str, int], tuple[str, int]]] | None = None) -> dict[tuple[str, str, str], dict]:
    """Score every (item, row) of ``pool`` not yet in ``path``, appending each as one JSON line; stop
    starting new items after ``time_budget`` seconds (0: no limit). Returns every result in the file."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    done = read_results(path)
    if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with path.open("a", encoding="utf-8") as out:  # a line cut by a kill: start the next one cleanly
            out.write("\n")
    todo = [(item, r) for item in interleave(pool) for r in rows if _key(item.source, item.id, r) not in done]
    fns = dict(compressors or {})
    start = time.perf_counter()
    with path.open("a", encoding="utf-8") as out, tqdm(total=len(todo), disable=not progress,
                                                       desc="protocol", unit="item-row") as bar:
        for item, r in todo:
            if time_budget and time.perf_counter() - start > time_budget:
                break
            if r not in fns:
                fns[r] = compressor_for(row_for(r))
            result = {"source": item.source, "id": item.id, "fold": item.fold, "row": r,
                      **score_item(item, fns[r], count)}
            out.write(json.dumps(result) + "\n")
            out.flush()
            done[_key(item.source, item.id, r)] = result
            bar.update()
    return done


@dataclass(frozen=True)
class Cell:
    """One row on one set of items at one factor."""

    kept: int
    total: int
    low: float
    high: float

    @property
    def recall(self) -> float:
        return 100.0 * self.kept / max(1, self.total)


def outcomes(results: dict[tuple[str, str, str], dict], pool: Pool, row: str, source: str | None,
             factor: str) -> list[bool] | None:
    """Per-item outcomes of ``row`` at ``factor`` on ``source`` (None: pooled), in pool order; None while
    any item lacks a result (tables pair rows on the same items only)."""
    out = []
    for name, items in pool.items.items():
        if source not in (None, name):
            continue
        for item in items:
            r = results.get(_key(name, item.id, row))
            if r is None:
                return None
            out.append(bool(r["kept"][factor]))
    return out


def complete_pool(results: dict[tuple[str, str, str], dict], pool: Pool, rows: list[str]) -> Pool:
    """The items every row has a result for (a partial run is reported on what it finished)."""
    return Pool({name: [x for x in items if all(_key(name, x.id, r) in results for r in rows)]
                 for name, items in pool.items.items()}, pool.excluded, pool.eligible)


def cell(kept: list[bool]) -> Cell:
    lo, hi = wilson(sum(kept), len(kept))
    return Cell(sum(kept), len(kept), lo, hi)


def summary(results: dict[tuple[str, str, str], dict], pool: Pool, rows: list[str],
            baseline: str = DEFAULT_ROW) -> dict[str, Any]:
    """Recall with interval per row, source (and ``pooled``) and factor, and McNemar against ``baseline``."""
    out: dict[str, Any] = {"items": {k: len(v) for k, v in pool.items.items()}, "excluded_trained": pool.excluded,
                           "eligible": pool.eligible, "cells": {}}
    for source in [*pool.items, None]:
        name = source or "pooled"
        for r in rows:
            for f in FACTORS:
                fx = f"{f:g}x"
                mine = outcomes(results, pool, r, source, fx)
                if not mine:
                    continue
                c = cell(mine)
                entry = {"recall": round(c.recall, 1), "kept": c.kept, "n": c.total,
                         "interval": [round(c.low, 1), round(c.high, 1)]}
                theirs = outcomes(results, pool, baseline, source, fx) if r != baseline else None
                if theirs:
                    t = paired(mine, theirs)
                    entry["vs_default"] = {"gain": round(c.recall - 100.0 * sum(theirs) / len(theirs), 1),
                                           "wins": t.wins, "losses": t.losses, "p": round(t.p, 4)}
                out["cells"].setdefault(name, {}).setdefault(r, {})[fx] = entry
    out["over_budget"] = {r: sum(len(results[_key(name, x.id, r)].get("over", {}))
                                 for name, items in pool.items.items() for x in items) for r in rows}
    return out


def markdown(summ: dict[str, Any], rows: list[str], baseline: str = DEFAULT_ROW) -> str:
    """Per source and pooled: recall [95 % interval] per factor; against the default, the gain and
    McNemar's wins / losses and p."""
    lines = []
    for name, by_row in summ["cells"].items():
        n = next(iter(next(iter(by_row.values())).values()))["n"]
        lines += ["", f"**{name}** ({n} items)", "",
                  "| row | " + " | ".join(f"{f:g}x" for f in FACTORS) + " | vs default: gain (wins/losses, p) |",
                  "|---|" + "---|" * len(FACTORS) + "---|"]
        for r in rows:
            cells = by_row.get(r)
            if not cells:
                continue
            recall = [f"{c['recall']:.1f} [{c['interval'][0]:.0f}-{c['interval'][1]:.0f}]" for c in cells.values()]
            versus = "; ".join(f"{c['vs_default']['gain']:+.1f} ({c['vs_default']['wins']}/"
                               f"{c['vs_default']['losses']}, p {c['vs_default']['p']:.2f})"
                               for c in cells.values() if "vs_default" in c) or "-"
            lines.append(f"| {row_for(r).label} | " + " | ".join(recall) + f" | {versus} |")
    return "\n".join(lines).strip()


def coarse_cost(summ: dict[str, Any], without: str = "no-coarse", baseline: str = DEFAULT_ROW) -> str:
    """What narrowing costs: per source and factor, recall reading the input whole minus the default's
    (issue 32.6 asks for at most 1 point), with McNemar's p."""
    lines = ["| set | " + " | ".join(f"{f:g}x default / whole: cost (p)" for f in FACTORS) + " |",
             "|---|" + "---|" * len(FACTORS)]
    for name, by_row in summ["cells"].items():
        if baseline not in by_row or without not in by_row:
            continue
        parts = []
        for fx, c in by_row[without].items():
            d = by_row[baseline][fx]
            parts.append(f"{d['recall']:.1f} / {c['recall']:.1f}: {c['vs_default']['gain']:+.1f} "
                         f"(p {c['vs_default']['p']:.2f})")
        lines.append(f"| {name} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def cross_validated(results: dict[tuple[str, str, str], dict], pool: Pool, candidates: list[str],
                    factor: str) -> tuple[list[bool], list[str]]:
    """Choosing among ``candidates`` without overfitting: for each fold, the candidate with the best recall
    on the other folds is scored on that fold. Returns the per-item outcomes of the choices and the
    choice per fold (an item's outcome is never used to choose for it)."""
    items = [x for v in pool.items.values() for x in v]

    def hits(row: str, folds: set[int]) -> int:
        return sum(bool(results[_key(x.source, x.id, row)]["kept"][factor]) for x in items if x.fold in folds)

    kept, choices = [], []
    for fold in range(FOLDS):
        others = set(range(FOLDS)) - {fold}
        best = max(candidates, key=lambda r: (hits(r, others), -candidates.index(r)))
        choices.append(best)
        kept += [bool(results[_key(x.source, x.id, best)]["kept"][factor]) for x in items if x.fold == fold]
    return kept, choices


def choice_table(results: dict[tuple[str, str, str], dict], pool: Pool, candidates: list[str]) -> str:
    """Per factor: the row ``cross_validated`` picks for each fold, and the pooled recall of those picks
    with its interval and McNemar against the default."""
    lines = [f"cross-validated choice among {', '.join(candidates)}:", "",
             "| factor | choice per fold | recall [95 %] | vs default (wins/losses, p) |", "|---|---|---|---|"]
    for f in FACTORS:
        fx = f"{f:g}x"
        kept, choices = cross_validated(results, pool, candidates, fx)
        ordered = [bool(results[_key(x.source, x.id, DEFAULT_ROW)]["kept"][fx])
                   for fold in range(FOLDS) for v in pool.items.values() for x in v if x.fold == fold]
        c, t = cell(kept), paired(kept, ordered)
        lines.append(f"| {fx} | {', '.join(choices)} | {c.recall:.1f} [{c.low:.0f}-{c.high:.0f}] "
                     f"| {t.wins}/{t.losses}, p {t.p:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-source", type=int, default=PER_SOURCE, help="seeded sample per source (0: all)")
    ap.add_argument("--limit", type=int, default=0, help="smoke run: first N sampled items per source")
    ap.add_argument("--rows", default=",".join(STANDARD_ROWS),
                    help=f"among {', '.join(ROWS)}, rerank:<reranker>:<candidates>:<share>[:<hops>], or "
                    "retriever:<variant> (alone beside condenser)")
    ap.add_argument("--sources", default=",".join(SOURCES))
    ap.add_argument("--name", default="protocol", help="results go to runs/protocol/NAME.jsonl")
    ap.add_argument("--out-dir", default="runs/protocol")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-budget", type=float, default=0.0,
                    help="stop starting new items after this many seconds (re-run to resume)")
    ap.add_argument("--data", default=None, help="folder holding ../shared/data's sets")
    ap.add_argument("--report-only", action="store_true", help="print the tables of what is written")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--choose", default="", help="comma-separated rows (among --rows) to choose between per "
                    "factor, fold by fold on the other folds: the cross-validated recall of that choice")
    args = ap.parse_args(argv)
    rows = args.rows.split(",")
    unknown = [r for r in rows if not known_row(r)]
    if unknown:
        ap.error(f"unknown row(s) {unknown}; available: {', '.join(ROWS)}, rerank:<reranker>:<k>:<share>, "
                 "retriever:<variant>")
    choose = [r for r in args.choose.split(",") if r]
    if any(r not in rows for r in choose):
        ap.error("--choose rows must be among --rows")
    if DEFAULT_ROW not in rows:
        ap.error(f"--rows must include {DEFAULT_ROW} (the paired tests compare against it)")
    swapped = [r for r in rows if retriever_row(r)]
    if swapped and (len(swapped) > 1 or set(rows) - {DEFAULT_ROW, *swapped}):
        ap.error("a retriever:<variant> row runs alone beside an already scored condenser row")

    from compressor import count_tokens
    from evals.qa_sets import data_dir

    memo: dict[str, int] = {}

    def count(text: str) -> int:
        if text not in memo:
            memo[text] = count_tokens(text)
        return memo[text]

    pool = build_pool(load_all(data_dir(args.data), count, args.seed, tuple(args.sources.split(","))),
                      args.per_source, args.seed)
    if args.limit:
        pool.items = {k: v[: args.limit] for k, v in pool.items.items()}
    print("items per source (scored / eligible / excluded as trained on): " + ", ".join(
        f"{k} {len(v)}/{pool.eligible[k]}/{pool.excluded[k]}" for k, v in pool.items.items()), flush=True)
    path = Path(args.out_dir) / f"{args.name}.jsonl"
    if args.report_only:
        results = read_results(path)
    elif swapped:
        results = read_results(path)
        if any(_key(x.source, x.id, DEFAULT_ROW) not in results for v in pool.items.values() for x in v):
            ap.error(f"score {DEFAULT_ROW} on this pool first: the retriever row replaces its retriever")
        use_retriever(retriever_row(swapped[0]))
        results = run(pool, rows, path, count, args.time_budget, progress=not args.no_progress)
    else:
        results = run(pool, rows, path, count, args.time_budget, progress=not args.no_progress)
    scored = complete_pool(results, pool, rows)
    summ = summary(results, scored, rows)
    missing = sum(len(v) for v in pool.items.values()) - sum(len(v) for v in scored.items.values())
    summ["unfinished_items"] = missing
    (path.with_suffix(".summary.json")).write_text(json.dumps(summ, indent=1), encoding="utf-8")
    print(f"\nanswer recall %, [95 % Wilson interval]; paired McNemar against {row_for(DEFAULT_ROW).label}"
          + (f"; {missing} items unfinished (re-run to resume)" if missing else "") + "\n")
    print(markdown(summ, rows))
    print("\noutputs over their budget (of items x factors): " + ", ".join(
        f"{row_for(r).label} {n}" for r, n in summ["over_budget"].items()))
    if choose:
        print("\n" + choice_table(results, scored, choose))
    if "no-coarse" in rows:
        print("\ncoarse stage cost (whole minus default: a positive cost is answers narrowing loses):\n")
        print(coarse_cost(summ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
