"""``make demo``: compress the bundled handbook against a question with the embedded default."""

from __future__ import annotations

import time
from importlib import resources

from rich.console import Console
from rich.table import Table

from compressor import compress

QUESTION = "How much notice does the bus contractor need at weekends?"
ANSWER = "two hours"


def main(rate: float = 0.2) -> None:
    console = Console()
    text = resources.files("condenser.samples").joinpath("handbook.md").read_text(encoding="utf-8")
    start = time.perf_counter()
    result = compress(text, QUESTION, rate=rate)
    elapsed = time.perf_counter() - start
    console.rule(f"[bold]{result.method}[/bold] output for: {QUESTION}")
    console.print(result.text, markup=False, highlight=False)
    console.rule()
    console.print(f"tokens: {result.original_tokens} -> {result.compressed_tokens} (budget {result.budget}, "
                  f"{result.ratio:.1f}x)   time: {elapsed:.2f} s (first call loads models)   "
                  f"answer {ANSWER!r} kept: {ANSWER in result.text}")
    table = Table("method", "tokens", "ratio", "answer kept", "seconds")
    for name in ("truncate", "retrieve", "cfic", "extractive", "condenser"):
        start = time.perf_counter()
        r = compress(text, QUESTION, rate=rate, method=name)
        table.add_row(name, str(r.compressed_tokens), f"{r.ratio:.1f}x", str(ANSWER in r.text),
                      f"{time.perf_counter() - start:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
