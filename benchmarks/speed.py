"""Speed of the default path, side by side in one run on the same inputs (issue 9: 10k tokens in 0.5 s).

    python benchmarks/speed.py [--sizes 10000,50000] [--dev-items 40] [--long-items 30] [--skip-llmlingua]
    python benchmarks/speed.py --quick        # smoke run: one 2k prompt, 3 dev items, 2 long (3k) items

Prompts of ~10k and ~50k tokens are built from HotpotQA dev contexts; the first question is the first
item's, the second question (same prompt) another item's, asked once the background embedding of what the
cascade left out is done (its time is shown in brackets). For each configuration, in its own subprocess
(clean peak RSS, models loaded and warmed before timing): wall time of the first call on the prompt (the
median of ``--repeats`` cold calls, every content cache cleared before each; once for the llmlingua
package, which caches nothing), of the second question on it, tokens/s of the first call, the
condenser's stage timings, answer retention at 5x on HotpotQA dev items (their own ~1.3k-token
contexts) and on long dev prompts (an item's context among distractor items, ~10k tokens: where the
cascade matters), and peak RSS.

Torch uses every core unless OMP_NUM_THREADS says otherwise. Numbers are only comparable within one run
on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

# with the extra `fast`: extractive's base MiniLM is int8 ONNX, Condenser's retrievers fp32 ONNX
# (the cascade's fast retriever int8)
CONFIGS = {
    "condenser (cascade)": {"method": "condenser"},
    "condenser (cascade, one hop)": {"method": "condenser", "hops": 1},
    "condenser (cascade, reranker 30)": {"method": "condenser", "rerank": 30},
    "condenser (cascade, reranker 30, 2 hops)": {"method": "condenser", "rerank": 30, "rerank_hops": 2},
    "condenser (cascade, reranker 30 int8)": {"method": "condenser", "rerank": 30, "rerank_int8": True},
    "condenser (cascade, every retriever int8)": {"method": "condenser",
                                                  "env": {"CONDENSER_EMBEDDER": "onnx-int8"}},
    "condenser (cascade, fast retriever fp32)": {"method": "condenser", "cascade_int8": False},
    "condenser (cascade, full retriever)": {"method": "condenser", "cascade_embedder": "condenser",
                                            "cascade_int8": False},
    "condenser (cascade, BM25 only)": {"method": "condenser", "dense_weight": 0.0},
    # the model over everything: no coarse stage, and the full retriever even on long inputs (which
    # condenser otherwise reads with its fast one)
    "condenser (no cascade)": {"method": "condenser", "coarse": False, "cascade_embedder": "condenser",
                               "cascade_int8": False},
    "extractive": {"method": "extractive"},
    "llmlingua2 (llmlingua pkg, random mBERT-size)": {"method": "llmlingua-reference"},
}
SECOND = 1  # index of the dev item whose question is asked second


def _dev_items():
    from compressor.training.splits import is_dev
    from evals.qa_sets import answer_in, load

    return [x for x in load("hotpotqa") if is_dev("hotpotqa", x.id) and answer_in(x.context, x.answers)]


def build_prompt(tokens: int, items=None):
    """(~``tokens``-token prompt of consecutive dev contexts, first question, second question)."""
    from compressor import count_tokens

    items = items or _dev_items()
    parts = []
    for item in items:
        parts.append(item.context)
        if count_tokens("\n\n".join(parts)) >= tokens:
            break
    return "\n\n".join(parts), items[0].question, items[SECOND].question


def long_prompts(n: int, tokens: int = 10_000, items=None):
    """``n`` (prompt, question, answers): a dev item's context placed at random among other dev items'
    contexts up to ~``tokens`` tokens (seeded)."""
    from compressor import count_tokens

    items = items or _dev_items()
    pool = items[n:]
    out = []
    for i, item in enumerate(items[:n]):
        rng = random.Random(i)
        parts = [item.context]
        while count_tokens("\n\n".join(parts)) < tokens:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(pool).context)
        out.append(("\n\n".join(parts), item.question, item.answers))
    return out


def _reference_compressor():
    """llmlingua's PromptCompressor on a random-weight BERT of mBERT-base size (no hub)."""
    import tempfile

    from llmlingua import PromptCompressor
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    import compressor  # noqa: F401  (offline tiktoken for llmlingua)
    from retriever.embeddings import default_model_path

    path = tempfile.mkdtemp(suffix="-bert-base-multilingual-cased")
    tok = AutoTokenizer.from_pretrained(default_model_path())
    cfg = BertConfig(vocab_size=119_547, num_labels=2)  # bert-base-multilingual-cased's shape
    BertForTokenClassification(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return PromptCompressor(model_name=path, use_llmlingua2=True, device_map="cpu")


def _runner(name: str):
    """``run(context, question, budget) -> (text, timings or None)`` for one configuration."""
    from compressor import compress

    spec = dict(CONFIGS[name])
    method = spec.pop("method")
    spec.pop("env", None)
    if method == "llmlingua-reference":
        ref = _reference_compressor()
        return lambda ctx, q, budget: (ref.compress_prompt(ctx, target_token=budget)["compressed_prompt"], None)

    def run(ctx, q, budget):
        r = compress(ctx, q, target_tokens=budget, method=method, **spec)
        return r.text, r.timings

    return run


def run_one(name: str, sizes: list[int], dev_items: int, long_items: int, long_tokens: int = 10_000,
            repeats: int = 3) -> dict:
    import resource

    import torch

    from compressor import count_tokens
    from evals.qa_sets import answer_in
    from retriever import clear_caches
    from retriever.embeddings import wait_prefetches

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(os.cpu_count() or 1)
    items = _dev_items()
    run = _runner(name)
    repeats = 1 if CONFIGS[name]["method"] == "llmlingua-reference" else repeats
    warm_ctx, warm_q, _ = build_prompt(3000, items[-20:])  # load and warm every model before timing
    run(warm_ctx, warm_q, 400)
    out: dict = {"name": name, "threads": torch.get_num_threads()}
    for size in sizes:
        ctx, first_q, second_q = build_prompt(size, items)
        n = count_tokens(ctx)
        firsts = []
        for _ in range(repeats):  # the median of cold calls: single timings on a shared VM move +-20 %
            clear_caches()  # a cold document (after any running prefetch): no vectors, chunking or BM25 index
            start = time.perf_counter()
            _, timings = run(ctx, first_q, n // 5)
            firsts.append(time.perf_counter() - start)
        first = statistics.median(firsts)
        start = time.perf_counter()
        wait_prefetches()  # the background embedding of what the cascade left out (after the reply)
        background = time.perf_counter() - start
        start = time.perf_counter()
        run(ctx, second_q, n // 5)
        second = time.perf_counter() - start
        out[str(size)] = {"tokens": n, "first_s": first, "first_all_s": [round(t, 3) for t in firsts],
                          "second_s": second, "tokens_per_s": n / first,
                          "background_s": background,
                          "stages": {k: round(v, 3) for k, v in (timings or {}).items()}}
    kept = sum(answer_in(run(x.context, x.question, max(1, count_tokens(x.context) // 5))[0], x.answers)
               for x in items[:dev_items])
    out["retention_5x"] = 100.0 * kept / max(1, min(dev_items, len(items)))
    if long_items:
        prompts = long_prompts(long_items, long_tokens, items=items)
        kept = sum(answer_in(run(c, q, count_tokens(c) // 5)[0], a) for c, q, a in prompts)
        out["retention_5x_long"] = 100.0 * kept / len(prompts)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _table(rows: list[dict], sizes: list[int]) -> str:
    head = "| method | " + " | ".join(f"{s // 1000}k: 1st s (2nd q s) [background s] | {s // 1000}k tok/s"
                                      for s in sizes)
    lines = [head + " | retention@5x dev | retention@5x long | peak RSS MB |",
             "|---" * (1 + 2 * len(sizes) + 3) + "|"]
    for r in rows:
        cells = []
        for s in sizes:
            m = r[str(s)]
            cells += [f"{m['first_s']:.2f} ({m['second_s']:.2f}) [{m.get('background_s', 0):.1f}]",
                      f"{m['tokens_per_s']:,.0f}"]
        long = r.get("retention_5x_long")
        cells += [f"{r['retention_5x']:.1f}", "-" if long is None else f"{long:.1f}", f"{r['peak_rss_mb']:.0f}"]
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--dev-items", type=int, default=40, help="short dev items for retention")
    ap.add_argument("--long-items", type=int, default=30, help="~10k-token dev prompts for retention")
    ap.add_argument("--long-tokens", type=int, default=10_000, help="size of those prompts")
    ap.add_argument("--repeats", type=int, default=3, help="cold first calls per size (median reported)")
    ap.add_argument("--skip-llmlingua", action="store_true")
    ap.add_argument("--only", help="semicolon-separated configuration names (default: all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2k prompt, 3 dev items, 2 long items")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.dev_items, args.long_items, args.long_tokens, args.repeats = "2000", 3, 2, 3000, 1
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.one:
        print(json.dumps(run_one(args.one, sizes, args.dev_items, args.long_items, args.long_tokens,
                                 args.repeats)))
        return
    names = args.only.split(";") if args.only else list(CONFIGS)
    rows = []
    for name in names:
        if args.skip_llmlingua and "llmlingua" in name:
            continue
        start = time.perf_counter()
        env = {**os.environ, **CONFIGS[name].get("env", {})}
        proc = subprocess.run([sys.executable, __file__, "--one", name, "--sizes", args.sizes,
                               "--dev-items", str(args.dev_items), "--long-items", str(args.long_items),
                               "--long-tokens", str(args.long_tokens), "--repeats", str(args.repeats)],
                              capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{name}: done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    print(_table(rows, sizes))
    for r in rows:
        for s in sizes:
            m = r[str(s)]
            if m["stages"]:
                print(f"{r['name']} {s // 1000}k stages (s): {m['stages']}")
            print(f"{r['name']} {s // 1000}k: second question {m['first_s'] / m['second_s']:.1f}x faster "
                  "than the first")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
