"""Gold-answer retention at 3x/5x/10x for every method on HotpotQA (or MuSiQue), with time per question.

    python -m evals.hotpotqa_retention [--set hotpotqa|musique] [--split all|dev] [--methods a,b]
                                       [--factors 3,5,10] [--limit N]

For each item whose answer occurs in the full context, compress to original/F target tokens
(cl100k_base) and check whether a gold answer still occurs in the output as whole words (SQuAD normalisation;
``evals.qa_sets.answer_in``).
A method may carry options: ``extractive[dense_weight=1.0]`` (embedding only), ``extractive[dense_weight=0]``
(BM25 only). ``random`` is the chance baseline. ``--split dev`` keeps the items the embedded model
never trained on.
"""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from compressor import available_methods, compress
from compressor.training.splits import is_dev
from evals import baselines  # noqa: F401  (registers `random`)
from evals.qa_sets import answer_in, load

BASE_METHODS = ["truncate", "retrieve", "cfic", "extractive", "condenser"]


def parse_method(spec: str) -> tuple[str, dict]:
    """``name[key=value,...]`` -> (name, options) with numeric values."""
    name, _, rest = spec.partition("[")
    options = {}
    for pair in filter(None, rest.rstrip("]").split(",")):
        key, _, value = pair.partition("=")
        options[key.strip()] = float(value)
    return name.strip(), options


def measure(items, spec: str, factor: float) -> tuple[float, float, float]:
    """(answer retention %, mean achieved ratio, seconds per question on documents not seen before)."""
    from retriever.embeddings import clear_embedding_caches

    method, options = parse_method(spec)
    clear_embedding_caches()
    kept, ratios, start = 0, [], time.perf_counter()
    for item in tqdm(items, desc=f"{spec} {factor:g}x", leave=False):
        budget = max(1, int(_tokens(item.context) / factor))
        result = compress(item.context, item.question, target_tokens=budget, method=method, **options)
        kept += answer_in(result.text, item.answers)
        ratios.append(result.ratio)
    elapsed = (time.perf_counter() - start) / max(1, len(items))
    return 100.0 * kept / max(1, len(items)), sum(ratios) / max(1, len(ratios)), elapsed


def _tokens(text: str) -> int:
    from compressor import count_tokens

    return count_tokens(text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="hotpotqa", choices=["hotpotqa", "musique"])
    ap.add_argument("--methods", default=",".join(m for m in BASE_METHODS if m in available_methods()))
    ap.add_argument("--factors", default="3,5,10")
    ap.add_argument("--split", default="all", choices=["all", "dev"], help="dev: items never trained on")
    ap.add_argument("--limit", type=int, default=0, help="first N answerable items (0: all)")
    ap.add_argument("--data", default=None, help="folder holding hotpotqa/ and musique/")
    args = ap.parse_args(argv)
    items = load(args.set, args.data)
    if args.split == "dev":
        items = [x for x in items if is_dev(args.set, x.id)]
    items = items[: args.limit] if args.limit else items
    factors = [float(f) for f in args.factors.split(",")]
    compress(items[0].context, items[0].question, rate=0.5)  # load models before timing
    print(
        f"{args.set} ({args.split}): {len(items)} items whose answer is in the context; "
        "retention % (s/question)\n"
    )
    print("| method | " + " | ".join(f"{f:g}x" for f in factors) + " |")
    print("|---|" + "---|" * len(factors))
    for method in _split_specs(args.methods):
        cells = [measure(items, method, f) for f in factors]
        print(f"| {method} | " + " | ".join(f"{r:.1f} ({t:.3f}s)" for r, _, t in cells) + " |", flush=True)


def _split_specs(text: str) -> list[str]:
    """Split on commas outside brackets."""
    specs, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            specs.append(current)
            current = ""
        else:
            current += ch
    return [s for s in [*specs, current] if s]


if __name__ == "__main__":
    main()
