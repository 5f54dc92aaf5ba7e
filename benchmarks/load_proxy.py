"""Load on the proxy, side by side in one run, loopback only, bounded in count and time.

    python benchmarks/load_proxy.py [--requests 2000] [--concurrency 8] [--miss-requests 30] [--workers 1]
    python benchmarks/load_proxy.py --overload [--concurrency 32] [--overload-requests 96] [--overload-mode fail-open]
    python benchmarks/load_proxy.py --abandoned [--overload-requests 12]

Starts a redis-server, the fake provider (``api.fake_upstream``) and the proxy (uvicorn, one process per
worker) on free loopback ports, then sends the same OpenAI chat request (a HotpotQA context of ~1.5k tokens
and its question, from ../shared/data) four ways and prints p50/p99 latency, req/s and errors:

- ``direct``: straight to the fake provider (the floor);
- ``bypass``: through the proxy with ``X-Condenser-Bypass: true`` (parsing, auth, forwarding);
- ``cache hit``: through the proxy, compressing, the compression served from the cache;
- ``cache miss``: through the proxy, every request a new context, so the compressor runs each time.

Proxy overhead = proxy p50/p99 minus direct p50/p99. Everything shares this machine's cores with the load
generator, so the figures are an upper bound on what the proxy costs.

``--overload`` runs one scenario instead: every request a new ~4k-token prompt (three HotpotQA contexts), so
each needs a compression, at ``--concurrency`` (32); it prints p50/p99 and how the proxy answered: compressed,
failed open (``x-condenser-compression: failed-open``, the queue was full), rejected (503 with Retry-After,
``--overload-mode reject``) or errors. ``--queue`` sets ``CONDENSER_COMPRESS_QUEUE``.

``--abandoned`` sends that many such prompts at once to ``/v1/compress`` with a 0.05 s compression timeout
(every one times out) and prints the CPU seconds the service process burns in the 8 s after its last answer:
the work nobody waits for any more (Linux: read from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.redis_server import RedisProcess, free_port

DATA = Path(os.environ.get("CONDENSER_DATA", ROOT.parent / "shared" / "data"))


def hotpotqa(n: int) -> list[dict]:
    items = []
    with gzip.open(DATA / "hotpotqa" / "distractor.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            context = "\n\n".join(f"{t}\n{''.join(s)}" for t, s in row["context"])
            items.append({"context": context, "question": row["question"]})
            if len(items) == n:
                break
    return items


def chat(item: dict, salt: str = "") -> dict:
    return {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": f"Answer from the documents.{salt}\n\n{item['context']}"},
        {"role": "user", "content": item["question"]}]}


def start(cmd: list[str], env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[2]} exited: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


@contextlib.contextmanager
def proxy_stack(args: argparse.Namespace, extra_env: dict[str, str] | None = None) -> Iterator[tuple[int, int]]:
    """A redis-server, the fake provider and the proxy (``args.method``, ``args.workers``, ``extra_env``) on
    free loopback ports: yields ``(provider port, proxy port)``, stops all three on the way out."""
    redis = RedisProcess().start()
    up_port, proxy_port = free_port(), free_port()
    py = sys.executable
    procs = []
    try:
        procs.append(start([py, "-m", "api.fake_upstream", "--port", str(up_port), "--stream-delay", "0",
                            "--no-record"], {}, up_port))
        env = {"CONDENSER_REDIS_URL": redis.url, "CONDENSER_OPENAI_BASE_URL": f"http://127.0.0.1:{up_port}/v1",
               "CONDENSER_METHOD": args.method, "CONDENSER_MIN_TOKENS": "200", "CONDENSER_PRELOAD": "true",
               "CONDENSER_RATE": "0.2", **(extra_env or {})}
        procs.append(start([py, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(proxy_port),
                            "--log-level", "warning", "--no-access-log", "--workers", str(args.workers)],
                           env, proxy_port))
        yield up_port, proxy_port
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        redis.stop()


def big_prompts(items: list[dict], n: int, per_prompt: int = 3) -> list[dict]:
    """``n`` distinct chat requests of ``per_prompt`` HotpotQA contexts each (about 4k tokens)."""
    return [chat({"context": "\n\n".join(items[(i * per_prompt + j) % len(items)]["context"]
                                         for j in range(per_prompt)),
                  "question": items[i % len(items)]["question"]}, f" #{i}") for i in range(n)]


async def run(url: str, bodies: list[dict], headers: dict, concurrency: int, limit_s: float) -> dict:
    """Send ``bodies`` with ``concurrency`` in flight; latency of each, stopping at ``limit_s``. ``outcomes``
    counts the answers: ``applied``/``skipped``/``bypassed``/``failed-open`` (the proxy's
    ``x-condenser-compression``), ``rejected`` (503) and ``error``."""
    latencies, errors, queue = [], 0, list(reversed(bodies))
    outcomes: collections.Counter[str] = collections.Counter()
    deadline = time.monotonic() + limit_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        async def worker():
            nonlocal errors
            while queue and time.monotonic() < deadline:
                body = queue.pop()
                start_t = time.perf_counter()
                try:
                    r = await client.post(url, json=body, headers=headers)
                    ok = r.status_code == 200
                    outcome = (r.headers.get("x-condenser-compression", "direct") if ok
                               else "rejected" if r.status_code == 503 else "error")
                except httpx.HTTPError:
                    ok, outcome = False, "error"
                outcomes[outcome] += 1
                latencies.append(time.perf_counter() - start_t)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return {"n": len(latencies), "p50_ms": pick(0.50), "p99_ms": pick(0.99), "rps": len(latencies) / wall,
            "errors": errors, "mean_ms": statistics.mean(latencies) * 1000, "outcomes": dict(outcomes),
            "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="requests per fast scenario")
    ap.add_argument("--miss-requests", type=int, default=30, help="requests in the cache-miss scenario")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="proxy worker processes")
    ap.add_argument("--method", default="condenser", help="compression method the proxy uses")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario at most")
    ap.add_argument("--overload", action="store_true", help="only the overload scenario (new ~4k-token prompts)")
    ap.add_argument("--overload-requests", type=int, default=96, help="requests in the overload scenario")
    ap.add_argument("--overload-mode", choices=["fail-open", "reject"], default="fail-open",
                    help="CONDENSER_OVERLOAD of the proxy")
    ap.add_argument("--queue", type=int, default=16, help="CONDENSER_COMPRESS_QUEUE of the proxy")
    ap.add_argument("--abandoned", action="store_true", help="only: CPU burned after timed-out compressions")
    args = ap.parse_args()
    if args.overload:
        return overload(args)
    if args.abandoned:
        return abandoned(args)

    items = hotpotqa(args.miss_requests + 1)
    with proxy_stack(args) as (up_port, proxy_port):
        direct = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        proxy = f"http://127.0.0.1:{proxy_port}/v1/chat/completions"
        same = [chat(items[0])] * args.requests
        httpx.post(proxy, json=same[0], timeout=120)  # compress once: the hit scenario reads the cache
        rows = {
            "direct (fake provider)": asyncio.run(run(direct, same, {}, args.concurrency, args.time_limit)),
            "proxy, bypass": asyncio.run(run(proxy, same, {"X-Condenser-Bypass": "true"}, args.concurrency,
                                             args.time_limit)),
            "proxy, cache hit": asyncio.run(run(proxy, same, {}, args.concurrency, args.time_limit)),
            "proxy, cache miss": asyncio.run(run(proxy, [chat(it, f" #{i}") for i, it in enumerate(items[1:])], {},
                                                 args.concurrency, args.time_limit * 5)),
        }
    base = rows["direct (fake provider)"]
    print(f"\nproxy load, loopback, {os.cpu_count()} cores shared with the load generator; "
          f"concurrency {args.concurrency}, {args.workers} proxy worker(s), method {args.method}\n")
    print("| scenario | requests | p50 ms | p99 ms | req/s | errors | overhead p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        over = "" if r is base else f"{r['p50_ms'] - base['p50_ms']:.2f} / {r['p99_ms'] - base['p99_ms']:.2f}"
        print(f"| {name} | {r['n']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['rps']:.0f} | {r['errors']} | {over} |")


def overload(args: argparse.Namespace) -> None:
    """The overload scenario alone: every request needs a compression; how long, and how answered."""
    items = hotpotqa(3 * args.overload_requests + 1)
    with proxy_stack(args, {"CONDENSER_COMPRESS_QUEUE": str(args.queue),
                            "CONDENSER_OVERLOAD": args.overload_mode}) as (_, proxy_port):
        proxy = f"http://127.0.0.1:{proxy_port}/v1/chat/completions"
        r = asyncio.run(run(proxy, big_prompts(items, args.overload_requests), {}, args.concurrency,
                            args.time_limit))
    print(f"\noverload, loopback, {os.cpu_count()} cores shared with the load generator; concurrency "
          f"{args.concurrency}, {args.workers} proxy worker(s), method {args.method}, new ~4k-token prompts, "
          f"queue {args.queue}, overload {args.overload_mode}\n")
    print("| requests | wall s | p50 ms | p99 ms | compressed | failed open | rejected (503) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    out = r["outcomes"]
    print(f"| {r['n']} | {r['wall_s']:.1f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {out.get('applied', 0)} | "
          f"{out.get('failed-open', 0)} | {out.get('rejected', 0)} | {out.get('error', 0)} |")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def abandoned(args: argparse.Namespace, timeout_s: float = 0.05, after_s: float = 8.0) -> None:
    """Timed-out compressions: how much CPU the service spends on them once every client has its answer."""
    n = min(args.overload_requests, 32)
    items = hotpotqa(3 * n + 1)
    port = free_port()
    env = {"CONDENSER_REDIS_URL": "", "CONDENSER_METHOD": args.method, "CONDENSER_PRELOAD": "true",
           "CONDENSER_COMPRESS_TIMEOUT_S": str(timeout_s), "CONDENSER_COMPRESS_QUEUE": str(n)}
    proc = start([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
                  "--log-level", "error", "--no-access-log"], env, port)
    try:
        bodies = [{"context": b["messages"][0]["content"], "query": b["messages"][1]["content"], "rate": 0.2}
                  for b in big_prompts(items, n)]

        async def send() -> list[int]:
            async with httpx.AsyncClient(timeout=120) as client:
                url = f"http://127.0.0.1:{port}/v1/compress"
                return [r.status_code for r in await asyncio.gather(*(client.post(url, json=b) for b in bodies))]

        began, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
        codes = asyncio.run(send())
        answered, cpu1 = time.perf_counter() - began, cpu_seconds(proc.pid)
        time.sleep(after_s)
        cpu2 = cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"\n{n} compressions of new ~4k-token prompts, timeout {timeout_s} s, method {args.method}: "
          f"statuses {dict(collections.Counter(codes))}, answered in {answered:.1f} s ({cpu1 - cpu0:.2f} CPU-s); "
          f"CPU-s in the {after_s:.0f} s after the last answer: {cpu2 - cpu1:.2f}")


if __name__ == "__main__":
    main()
