"""Speed of the default path, side by side in one run on the same inputs (issue: 10k tokens in 0.5 s).

    python benchmarks/speed.py [--sizes 10000,50000] [--dev-items 40] [--skip-llmlingua]

Prompts of ~10k and ~50k tokens are built from HotpotQA dev contexts with the first item's question.
For each configuration, in its own subprocess (clean peak RSS): wall time of the first call on the
prompt (models already loaded), of a second question on the same prompt, tokens/s, peak RSS, and
answer retention at 5x on HotpotQA dev items.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CONFIGS = {
    "condenser (cascade)": {"method": "condenser"},
    "condenser (no cascade)": {"method": "condenser", "coarse": False},
    "extractive": {"method": "extractive"},
    "llmlingua2 (llmlingua pkg, random mBERT-size)": {"method": "llmlingua-reference"},
}


def build_prompt(tokens: int):
    from compressor import count_tokens
    from compressor.training.splits import is_dev
    from evals.qa_sets import load

    items = [x for x in load("hotpotqa") if is_dev("hotpotqa", x.id)]
    parts, question, answers = [], items[0].question, items[0].answers
    for item in items:
        parts.append(item.context)
        if count_tokens("\n\n".join(parts)) >= tokens:
            break
    return "\n\n".join(parts), question, answers


def _reference_compressor():
    """llmlingua's PromptCompressor on a random-weight BERT of mBERT-base size (no hub)."""
    import tempfile

    import compressor  # noqa: F401  (offline tiktoken for llmlingua)
    from llmlingua import PromptCompressor
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from retriever.embeddings import default_model_path

    path = tempfile.mkdtemp(suffix="-bert-base-multilingual-cased")
    tok = AutoTokenizer.from_pretrained(default_model_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, num_labels=2)  # bert-base shape, MiniLM's vocabulary
    BertForTokenClassification(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return PromptCompressor(model_name=path, use_llmlingua2=True, device_map="cpu")


def run_one(name: str, sizes: list[int], dev_items: int) -> dict:
    import resource

    from compressor import compress, count_tokens
    from compressor.training.splits import is_dev
    from evals.qa_sets import answer_in, load

    spec = dict(CONFIGS[name])
    method = spec.pop("method")
    if method == "llmlingua-reference":
        ref = _reference_compressor()
        run = lambda ctx, q, budget: ref.compress_prompt(ctx, target_token=budget)["compressed_prompt"]  # noqa: E731
    else:
        run = lambda ctx, q, budget: compress(ctx, q, target_tokens=budget, method=method, **spec).text  # noqa: E731
    out = {"name": name}
    warm_ctx, warm_q, _ = build_prompt(1000)
    run(warm_ctx, warm_q, 200)  # load models before timing
    for size in sizes:
        ctx, question, _ = build_prompt(size)
        n = count_tokens(ctx)
        start = time.perf_counter()
        run(ctx, question, n // 5)
        first = time.perf_counter() - start
        start = time.perf_counter()
        run(ctx, "Which of these passages mentions a river?", n // 5)
        second = time.perf_counter() - start
        out[size] = {"tokens": n, "first_s": first, "second_s": second, "tokens_per_s": n / first}
    items = [x for x in load("hotpotqa") if is_dev("hotpotqa", x.id)][:dev_items]
    kept = sum(answer_in(run(x.context, x.question, max(1, count_tokens(x.context) // 5)), x.answers) for x in items)
    out["retention_5x"] = 100.0 * kept / max(1, len(items))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--dev-items", type=int, default=40)
    ap.add_argument("--skip-llmlingua", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.one:
        print(json.dumps(run_one(args.one, sizes, args.dev_items)))
        return
    rows = []
    for name in CONFIGS:
        if args.skip_llmlingua and "llmlingua" in name:
            continue
        proc = subprocess.run([sys.executable, __file__, "--one", name, "--sizes", args.sizes,
                               "--dev-items", str(args.dev_items)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    head = "| method | " + " | ".join(f"{s // 1000}k: s (2nd q) | {s // 1000}k tok/s" for s in sizes)
    print(head + " | retention@5x | peak RSS MB |")
    print("|---" * (1 + 2 * len(sizes) + 2) + "|")
    for r in rows:
        cells = []
        for s in sizes:
            m = r[str(s)] if str(s) in r else r[s]
            cells += [f"{m['first_s']:.2f} ({m['second_s']:.2f})", f"{m['tokens_per_s']:,.0f}"]
        print(f"| {r['name']} | " + " | ".join(cells) + f" | {r['retention_5x']:.1f} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
