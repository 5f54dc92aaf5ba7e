"""``llmlingua2`` against the ``llmlingua`` package, side by side in one run, on the same model and input.

    python benchmarks/llmlingua2_speed.py [--tokens 10000] [--rate 0.33] [--small] [--data ../shared/data]

The model is a random-weight BERT of mBERT-base size (12 layers, hidden 768; MiniLM's vocabulary, so no
download), saved to a temporary folder whose name contains ``bert-base-multilingual-cased`` (llmlingua
requires it). The input is ~``--tokens`` cl100k tokens of HotpotQA contexts from the shared data. Each
configuration runs in its own subprocess (clean peak RSS): model loading, one warm-up call, then the timed
call. Reported: seconds, input tokens/s, the share of that time spent in the model's forward pass (the
rest is each implementation's own pre/post-processing), peak RSS, and agreement with the reference: the
Jaccard overlap of kept words when ours is given the budget the reference's output used (our fp32 words
and ranking are identical to the reference's on one window:
tests/compressor/methods/test_llmlingua2_parity.py).
``--small``: a 2-layer model and ~1.5k tokens, for a quick check.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CONFIGS = {
    "llmlingua 0.2.2 (reference)": {},
    "llmlingua2 fp32": {},
    "llmlingua2 bf16 (CPU autocast-free bf16 weights)": {"dtype": "bfloat16"},
    "llmlingua2 int8 (dynamic quantisation)": {"quantize": True},
}


def build_input(tokens: int, data: str) -> str:
    """Concatenated HotpotQA contexts up to ``tokens`` cl100k tokens."""
    from compressor import count_tokens
    from evals.qa_sets import load

    os.environ.setdefault("CONDENSER_DATA", data)
    parts: list[str] = []
    for item in load("hotpotqa"):
        parts.append(item.context)
        if count_tokens("\n\n".join(parts)) >= tokens:
            break
    return "\n\n".join(parts)


def build_model(folder: str, small: bool) -> str:
    from tests.fixtures.tiny_models import bert_token_classifier

    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64) if small else \
        dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
    return str(bert_token_classifier(os.path.join(folder, "random-bert-base-multilingual-cased"), size=size))


def _words(text: str, spans) -> set[tuple[int, int]]:
    return {(s, e) for s, e in spans}


class _ForwardClock:
    """Seconds spent inside a model's ``forward`` (to show where each implementation's time goes)."""

    def __init__(self, module):
        self.seconds = 0.0
        inner = module.forward

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        module.forward = timed


def run_one(name: str, model: str, text: str, rate: float) -> dict:
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    from compressor import compress, count_tokens

    n = count_tokens(text)
    if name.startswith("llmlingua 0.2.2"):
        from llmlingua import PromptCompressor

        ref = PromptCompressor(model_name=model, use_llmlingua2=True, device_map="cpu")
        call = lambda t: ref.compress_prompt(t, rate=rate, use_context_level_filter=False,
                                             return_word_label=True)
        net = ref.model
    else:
        from compressor.models.checkpoints import load_token_classifier

        opts = CONFIGS[name]
        call = lambda t: compress(t, rate=rate, method="llmlingua2", model_path=model, device="cpu",
                                  coarse=False, protect_structure=False, **opts)
        net = load_token_classifier(model, "cpu", opts.get("dtype", "auto"), bool(opts.get("quantize"))).model
    call(text[:2000])  # load and warm up
    clock = _ForwardClock(net)
    start = time.perf_counter()
    out = call(text)
    seconds = time.perf_counter() - start
    result = {"name": name, "input_tokens": n, "seconds": round(seconds, 2), "tokens_per_s": round(n / seconds),
              "forward_share": round(clock.seconds / seconds, 3),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if name.startswith("llmlingua 0.2.2"):
        pairs = [p.rsplit(" ", 1) for p in out["fn_labeled_original_prompt"].split("\t\t|\t\t")]
        result["kept_words"] = [w for w, label in pairs if label == "1"]
        result["output_tokens"] = out["compressed_tokens"]
    else:
        result["output_tokens"] = out.compressed_tokens
    return result


def agreement(model: str, text: str, ref: dict, opts: dict) -> float:
    """Jaccard overlap of the reference's kept words and ours at the budget the reference's words used."""
    from collections import Counter

    from compressor import compress

    budget = max(1, ref["output_tokens"])
    out = compress(text, target_tokens=budget, method="llmlingua2", model_path=model, device="cpu", coarse=False,
                   protect_structure=False, **opts)
    ours = Counter(text[s.start : s.end].lower() for s in out.kept)
    theirs = Counter(ref["kept_words"])
    return round(sum((ours & theirs).values()) / max(1, sum((ours | theirs).values())), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=10_000, help="input size in cl100k tokens")
    parser.add_argument("--rate", type=float, default=0.33, help="fraction of tokens kept")
    parser.add_argument("--small", action="store_true", help="2-layer model, ~1.5k tokens: a quick check")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import compressor  # noqa: F401  (offline tiktoken files, also for llmlingua)

    if args.one:
        text = open(args.input, encoding="utf-8").read()
        result = run_one(args.one, args.model, text, args.rate)
        if not args.one.startswith("llmlingua 0.2.2"):
            result.pop("kept_words", None)
        print(json.dumps(result))
        return
    tokens = 1500 if args.small else args.tokens
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(tmp, args.small)
        text = build_input(tokens, os.path.abspath(args.data))
        path = os.path.join(tmp, "input.txt")
        open(path, "w", encoding="utf-8").write(text)
        results = []
        for name in CONFIGS:
            proc = subprocess.run([sys.executable, __file__, "--one", name, "--model", model, "--input", path,
                                   "--rate", str(args.rate)], capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")})
            if proc.returncode:
                print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        ref = next((r for r in results if r["name"].startswith("llmlingua 0.2.2")), None)
        print(f"{'configuration':52} {'tokens':>7} {'s':>7} {'tok/s':>7} {'x ref':>6} {'fwd %':>6} {'RSS MB':>7} "
              f"{'agree':>6}")
        for r in results:
            speedup = ref["seconds"] / r["seconds"] if ref else float("nan")
            agree = agreement(model, text, ref, CONFIGS[r["name"]]) if ref and r is not ref else 1.0
            print(f"{r['name']:52} {r['input_tokens']:>7} {r['seconds']:>7} {r['tokens_per_s']:>7} "
                  f"{speedup:>6.2f} {100 * r['forward_share']:>6.1f} {r['peak_rss_mb']:>7} {agree:>6}")


if __name__ == "__main__":
    main()
