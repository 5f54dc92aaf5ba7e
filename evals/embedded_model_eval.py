"""The embedded ``condenser`` model against unsupervised baselines, on the dev split it never trained on.

    python -m evals.embedded_model_eval [--sets hotpotqa,musique] [--factors 3,5,10] [--limit N]
                                        [--speed-tokens 10000] [--no-speed] [--plot recall.png]
                                        [--no-query]

For each dev item (``compressor.training.splits.is_dev``) whose gold answer occurs in the full context
(so uncompressed recall is 100 %), compress to original/F target tokens (cl100k_base) and check whether
an informative gold answer still occurs as whole words (SQuAD normalisation, ``qa_sets.answer_in``). Every method sees the whole context (no coarse
retrieval stage), so rows compare the scorers alone; ``condenser (pipeline)`` is the default
``compress()`` path with its coarse stage. Then tokens/s on a ~10k-token input: the token model's pass,
and ``compress()`` at 5x on a cold document.
``--no-query`` withholds the question from the compressor (query-agnostic mode: prompts compressed
before the question is known) and still checks for its answer.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from compressor import compress, count_tokens
from compressor.training.splits import is_dev
from evals import baselines  # noqa: F401  (registers `random`)
from evals.metrics.intervals import paired, wilson
from evals.qa_sets import answer_in, is_dev_item, load

#: row id -> (label, method, options, coarse stage: False = off, None = the pipeline's default)
ROWS = {
    "truncate": ("truncate", "truncate", {}, False),
    "random": ("random sentences", "random", {}, False),
    "bm25": ("BM25 sentences", "extractive", {"dense_weight": 0.0}, False),
    "cosine": ("MiniLM cosine sentences (same embedding)", "extractive", {"dense_weight": 1.0}, False),
    "hybrid": ("hybrid BM25+MiniLM (extractive default)", "extractive", {}, False),
    "hybrid2": ("hybrid, two hops (query expansion)", "extractive", {"hops": 2}, False),
    "model": ("condenser model alone (blend 0)", "condenser", {"blend": 0.0}, False),
    "condenser": ("condenser", "condenser", {}, False),
    "full": ("condenser, full 6-layer retriever", "condenser", {"embedder": "condenser"}, False),
    "fast": ("condenser, fast 3-layer retriever", "condenser", {"embedder": "condenser-fast"}, False),
    "pipeline": ("condenser (default pipeline: coarse stage on)", "condenser", {}, None),
    "pipeline1": ("condenser (default pipeline, one hop)", "condenser", {"hops": 1}, None),
}


@dataclass(frozen=True)
class Cell:
    """One method on one set at one factor: whether each item kept its answer, and seconds per item."""

    kept: list[bool]
    seconds: float

    @property
    def recall(self) -> float:
        return 100.0 * sum(self.kept) / max(1, len(self.kept))


def recall(items, method: str, options: dict, factor: float, coarse: bool | None,
           with_query: bool = True) -> Cell:
    """Per-item answer survival at compression factor ``factor``, and seconds per item; with
    ``with_query=False`` the question is withheld (query-agnostic compression)."""
    kept, start = [], time.perf_counter()
    extra = {} if coarse is None else {"coarse": coarse}
    for item in items:
        budget = max(1, int(count_tokens(item.context) / factor))
        query = item.question if with_query else None
        result = compress(item.context, query, target_tokens=budget, method=method, **options, **extra)
        assert result.compressed_tokens <= budget
        kept.append(answer_in(result.text, item.answers))
    return Cell(kept, (time.perf_counter() - start) / max(1, len(items)))


def table(sets: dict[str, list], factors: list[float], rows: list[str], model_path: str | None = None,
          cells: dict[str, dict[str, list[Cell]]] | None = None, with_query: bool = True) -> str:
    """Markdown table of answer recall per method (``rows``: ids of ``ROWS``), set and factor; each
    row's cells are also stored in ``cells`` (row id -> set -> one per factor) when given.
    ``with_query=False`` compresses without the question."""
    head = [f"{name} {f:g}x" for name in sets for f in factors]
    lines = ["| method | " + " | ".join(head) + " |", "|---|" + "---:|" * len(head)]
    lines.append("| uncompressed | " + " | ".join("100.0" for _ in head) + " |")
    print("\n".join(lines), flush=True)
    for row in rows:
        label, method, options, coarse = ROWS[row]
        if model_path and method == "condenser":
            options = {**options, "model_path": model_path}
        by_set = {name: [recall(items, method, options, f, coarse, with_query) for f in factors]
                  for name, items in sets.items()}
        if cells is not None:
            cells[row] = by_set
        row_cells = [c for per_set in by_set.values() for c in per_set]
        lines.append(f"| {label} | " + " | ".join(f"{c.recall:.1f}" for c in row_cells) + " |")
        print(lines[-1] + f"  <!-- {sum(c.seconds for c in row_cells) / len(row_cells):.3f} s/item -->", flush=True)
    return "\n".join(lines)


def significance(factors: list[float], cells: dict[str, dict[str, list[Cell]]], ours: str) -> str:
    """Markdown table: row ``ours`` per set and factor with its 95 % Wilson interval, against the best
    baseline row (a method other than ``condenser``) of that cell, paired on the same items (McNemar's
    exact test: items only ours kept / only the baseline kept, two-sided p)."""
    rivals = [r for r in cells if ROWS[r][1] != "condenser"]
    head = f"| {ROWS[ours][0]} | recall | 95 % interval | best baseline | gain | ours only / baseline only | p |"
    lines = [head, "|---|---:|---|---|---:|---|---:|"]
    for name, mine_per_factor in cells[ours].items():
        lines.extend(_significance_line(name, factors[k], mine, {r: cells[r][name][k] for r in rivals})
                     for k, mine in enumerate(mine_per_factor))
    return "\n".join(lines)


def _significance_line(name: str, factor: float, mine: Cell, rivals: dict[str, Cell]) -> str:
    """One row of ``significance``: ``mine`` against the best of ``rivals`` (row id -> its cell)."""
    lo, hi = wilson(sum(mine.kept), len(mine.kept))
    line = f"| {name} {factor:g}x | {mine.recall:.1f} | {lo:.1f}-{hi:.1f} |"
    if not rivals:
        return line + " - | - | - | - |"
    best = max(rivals, key=lambda r: rivals[r].recall)
    theirs = rivals[best]
    test = paired(mine.kept, theirs.kept)
    return line + (f" {ROWS[best][0]} {theirs.recall:.1f} | {mine.recall - theirs.recall:+.1f}"
                   f" | {test.wins} / {test.losses} | {test.p:.3f} |")


def speed(tokens: int, repeats: int = 3) -> dict:
    """Throughput on a ~``tokens``-token input (cl100k) built from HotpotQA dev contexts: the token model's
    pass alone, and ``compress()`` at 5x on a cold document (default pipeline, and without its coarse
    stage), each the best of ``repeats``."""
    from compressor.inference import score_tokens
    from compressor.models import load_condenser_model

    items = [x for x in load("hotpotqa") if is_dev("hotpotqa", x.id)]
    parts, question = [], items[0].question
    for item in items:
        parts.append(item.context)
        if count_tokens("\n\n".join(parts)) >= tokens:
            break
    text = "\n\n".join(parts)
    model, tok, info = load_condenser_model()
    n_model = len(tok(text, add_special_tokens=False, verbose=False)["input_ids"])
    score_tokens(model, tok, text[:2000], question, max_length=info["max_length"])  # warm up
    best = min(_timed(lambda: score_tokens(model, tok, text, question, max_length=info["max_length"]))
               for _ in range(repeats))
    piped = min(_timed_cold(lambda: compress(text, question, rate=0.2)) for _ in range(repeats))
    whole = min(_timed_cold(lambda: compress(text, question, rate=0.2, coarse=False)) for _ in range(repeats))
    n = count_tokens(text)
    return {"input_tokens_cl100k": n, "model_tokens": n_model, "model_seconds": round(best, 2),
            "model_tokens_per_s": round(n_model / best), "compress_seconds": round(piped, 2),
            "cl100k_tokens_per_s": round(n / piped), "no_coarse_seconds": round(whole, 2),
            "no_coarse_tokens_per_s": round(n / whole)}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_cold(fn) -> float:
    """Seconds of ``fn`` on a cold document: the dev rows above cached its sentence vectors."""
    from retriever import clear_caches

    clear_caches()
    return _timed(fn)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="hotpotqa,musique", help="among hotpotqa, musique, musique-long "
                    "(each MuSiQue context followed by the next one's: ~11k tokens, through the coarse stage)")
    ap.add_argument("--factors", default="3,5,10")
    ap.add_argument("--rows", default=",".join(ROWS), help=f"methods, among {', '.join(ROWS)}")
    ap.add_argument("--limit", type=int, default=0, help="first N dev items per set (0: all)")
    ap.add_argument("--data", default=None, help="folder holding hotpotqa/ and musique/")
    ap.add_argument("--speed-tokens", type=int, default=10_000)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--model-path", default=None, help="weights folder to evaluate (default: the shipped one)")
    ap.add_argument("--compare", default=None, choices=sorted(ROWS),
                    help="the row set against the best baseline, with intervals (default: the last condenser row)")
    ap.add_argument("--no-query", action="store_true",
                    help="compress without the question (query-agnostic mode); recall is still of its answer")
    ap.add_argument("--plot", default=None, help="also write recall vs compression as a PNG to this path")
    args = ap.parse_args(argv)
    if args.compare and args.compare not in args.rows.split(","):
        ap.error(f"--compare {args.compare} is not among --rows")
    sets = {}
    for name in args.sets.split(","):
        items = [x for x in load(name, args.data) if is_dev_item(name, x)]
        sets[name] = items[: args.limit] if args.limit else items
    factors = [float(f) for f in args.factors.split(",")]
    first = next(iter(sets.values()))[0]
    opts = {"model_path": args.model_path} if args.model_path else {}
    compress(first.context, first.question, rate=0.5, method="condenser", **opts)  # load models before timing
    mode = "; question withheld from the compressor" if args.no_query else ""
    print("dev items: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()) + f"; gold-answer recall %{mode}\n")
    cells: dict[str, dict[str, list[Cell]]] = {}
    rows = args.rows.split(",")
    table(sets, factors, rows, args.model_path, cells, with_query=not args.no_query)
    ours = args.compare or next((r for r in reversed(rows) if ROWS[r][1] == "condenser"), None)
    if ours:
        print("\nHow far to trust it (dev sets this small move a few points per item):\n")
        print(significance(factors, cells, ours))
    if args.plot:
        from pathlib import Path

        from evals.runner.plots import plot_recall_vs_factor

        recalls = {ROWS[r][0]: {name: [c.recall for c in per_set] for name, per_set in cells[r].items()}
                   for r in rows}
        path = plot_recall_vs_factor(recalls, factors, Path(args.plot), "Gold answer kept, dev split")
        print(f"plot: {path}")
    if not args.no_speed:
        print("\nspeed:", speed(args.speed_tokens))


if __name__ == "__main__":
    main()
