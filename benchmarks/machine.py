"""What this CPU can do, so timings from different machines can be compared.

    python benchmarks/machine.py

Prints the SIMD features torch sees (AVX2 / AVX-512 / VNNI / BF16 / AMX) and the throughput of a
random-weight MiniLM-L6 (hidden 384, 6 layers) in fp32 on 2 threads with 4 x 512-token windows: the set-up
of ``../shared/FACTS.md`` (~7,100 tokens/s on the AVX-512 machine it was measured on). Every speed target
in the issues was set against that figure; scale absolute timings by the ratio printed here.
"""

from __future__ import annotations

import time
from pathlib import Path

FACTS_TOKENS_PER_S = 7_100
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """The SIMD flags of the first CPU in /proc/cpuinfo (empty where there is no such file)."""
    info = Path("/proc/cpuinfo")
    if not info.is_file():
        return []
    line = next((x for x in info.read_text().splitlines() if x.startswith("flags")), "")
    present = set(line.split(":", 1)[-1].split())
    return [f for f in FLAGS if f in present]


def minilm_tokens_per_s(repeats: int = 5, threads: int = 2) -> float:
    import torch
    from transformers import BertConfig, BertModel

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    model = BertModel(config).eval()
    batch = torch.randint(1000, 20000, (4, 512))
    with torch.inference_mode():
        model(input_ids=batch)  # warm up
        start = time.perf_counter()
        for _ in range(repeats):
            model(input_ids=batch)
    return batch.numel() * repeats / (time.perf_counter() - start)


def main() -> None:
    import torch

    rate = minilm_tokens_per_s()
    print(f"cpu flags: {', '.join(cpu_flags()) or 'unknown'}; torch CPU capability: "
          f"{torch.backends.cpu.get_cpu_capability()}")
    print(f"MiniLM-L6 fp32, 2 threads, 4 x 512 tokens: {rate:,.0f} tokens/s "
          f"({rate / FACTS_TOKENS_PER_S:.2f}x the {FACTS_TOKENS_PER_S:,} of FACTS.md)")


if __name__ == "__main__":
    main()
