"""What sentence vectors in Redis save: the next question on a long document, on another replica.

    python benchmarks/replica_cache.py [--tokens 10000] [--repeats 5]

Starts a throwaway redis-server on loopback (``redis-server`` must be installed: ``make system-deps``), then
per repeat on a ~10k-token HotpotQA prompt: a cold first question (Redis flushed, every cache cleared),
the next question on the same replica (vectors in memory), and the next question as another replica would
ask it (memory caches cleared, vectors in Redis). Prints the median seconds of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from benchmarks.speed import build_prompt
    from compressor import compress
    from retriever import clear_caches
    from retriever.embeddings import wait_prefetches
    from retriever.vector_store import RedisVectorStore, vector_scope
    from tests.fixtures.redis_server import RedisProcess

    server = RedisProcess().start()
    store = RedisVectorStore(server.url)
    prompt, first, second = build_prompt(args.tokens)
    compress(prompt, first, rate=0.2)  # load and warm the models
    times: dict[str, list[float]] = {"first question, cold": [], "next question, same replica": [],
                                     "next question, another replica (vectors in Redis)": []}
    try:
        for _ in range(args.repeats):
            server.client().flushall()
            clear_caches()
            with vector_scope(store, "benchmark"):
                for label, question in zip(times, (first, second, second + " ")):
                    if label.startswith("next question, another"):
                        clear_caches()  # a replica that never saw the document
                    start = time.perf_counter()
                    compress(prompt, question, rate=0.2)
                    times[label].append(time.perf_counter() - start)
                    wait_prefetches()  # the background embedding of the rest lands in Redis too
    finally:
        store.close()
        server.stop()
    for label, values in times.items():
        print(f"{label}: {statistics.median(values):.3f} s (calls {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
