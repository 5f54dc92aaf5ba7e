"""Throughput of batch jobs (issue 9's batch mode): ``compress_many`` against a loop of ``compress``.

    python benchmarks/throughput.py [--items 200] [--rate 0.2] [--device auto] [--long 0]
    python benchmarks/throughput.py --quick      # smoke run: 8 items

Inputs are HotpotQA contexts (~1.3k tokens each, every item, dev and training: this is a speed test) with
their questions, plus ``--long`` prompts of ~10k tokens (consecutive contexts, the cascade's case). Each
mode starts cold (every cached vector, chunking and BM25 index forgotten) on the same inputs, one after
the other in this process, models loaded and warmed first. Printed per mode: seconds, input tokens/s
(cl100k), outputs identical to the loop's, peak RSS, and on a GPU its peak memory.

``--device auto`` runs the sentence embedder on a GPU where torch sees one (float16, batches of 512) and on
the CPU otherwise (ONNX Runtime, batches of 16). Numbers are only comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere


def inputs(items: int, long: int, long_tokens: int = 10_000) -> tuple[list[str], list[str]]:
    """(contexts, questions): ``items`` HotpotQA contexts and ``long`` prompts of ~``long_tokens``."""
    from compressor import count_tokens
    from evals.qa_sets import load

    pool = list(load("hotpotqa"))
    contexts, questions = [x.context for x in pool[:items]], [x.question for x in pool[:items]]
    start = 0
    for _ in range(long):
        parts = []
        while count_tokens("\n\n".join(parts)) < long_tokens:
            parts.append(pool[start % len(pool)].context)
            start += 1
        contexts.append("\n\n".join(parts))
        questions.append(pool[(start - len(parts)) % len(pool)].question)
    return contexts, questions


def _gpu_memory(device: str) -> tuple[callable, callable]:
    """(reset, peak MB) of the GPU's allocated memory; no-ops on the CPU."""
    if not device.startswith("cuda"):
        return (lambda: None), (lambda: None)
    import torch

    return torch.cuda.reset_peak_memory_stats, lambda: torch.cuda.max_memory_allocated() / 2**20


def run(items: int, long: int, rate: float, device: str) -> list[dict]:
    from compressor import compress, compress_many, count_tokens
    from compressor.inference import resolve_device
    from retriever import clear_caches

    device = resolve_device(device)
    contexts, questions = inputs(items, long)
    tokens = sum(count_tokens(c) for c in contexts)
    compress(contexts[-1], questions[-1], rate=rate, device=device)  # load and warm the models
    reset, peak = _gpu_memory(device)
    modes = {
        "compress() in a loop": lambda: [compress(c, q, rate=rate, device=device, prefetch=False)
                                         for c, q in zip(contexts, questions)],
        "compress_many() (batch mode)": lambda: compress_many(contexts, questions, rate=rate, device=device,
                                                              prefetch=False),
    }
    rows, reference = [], None
    for name, fn in modes.items():
        clear_caches()
        reset()
        start = time.perf_counter()
        results = fn()
        seconds = time.perf_counter() - start
        texts = [r.text for r in results]
        reference = reference or texts
        rows.append({"mode": name, "device": device, "inputs": len(contexts), "tokens": tokens,
                     "seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds),
                     "identical_to_loop": sum(a == b for a, b in zip(texts, reference)),
                     "ratio": round(tokens / max(1, sum(r.compressed_tokens for r in results)), 2),
                     "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                     "gpu_peak_mb": peak()})
    return rows


def _table(rows: list[dict]) -> str:
    head = "| mode | device | inputs | tokens | s | tokens/s | identical to loop | ratio | peak RSS MB | GPU peak MB |"
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        gpu = "-" if r["gpu_peak_mb"] is None else f"{r['gpu_peak_mb']:,.0f}"
        lines.append(f"| {r['mode']} | {r['device']} | {r['inputs']} | {r['tokens']:,} | {r['seconds']:.2f} | "
                     f"{r['tokens_per_s']:,} | {r['identical_to_loop']} | {r['ratio']} | {r['peak_rss_mb']:,} "
                     f"| {gpu} |")
    base, batch = rows[0]["seconds"], rows[-1]["seconds"]
    lines.append(f"\nbatch mode: {base / batch:.2f}x the loop's throughput")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=200, help="HotpotQA contexts (~1.3k tokens each)")
    ap.add_argument("--long", type=int, default=0, help="~10k-token prompts added (cascaded inputs)")
    ap.add_argument("--rate", type=float, default=0.2, help="fraction of tokens kept")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] for the sentence embedder")
    ap.add_argument("--quick", action="store_true", help="smoke run: 8 items")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    rows = run(8 if args.quick else args.items, 0 if args.quick else args.long, args.rate, args.device)
    print(_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
