"""``condenser eval longbench|zeroscrolls``: score-vs-compression runs from the command line.

Mounted by the product CLI as ``condenser eval``; usable alone as ``python -m evals.cli``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from evals.readers import READER_HELP
from evals.runner import NO_COMPRESSION, RunConfig, RunResult, report, run
from evals.runner.summary import AVERAGE

app = typer.Typer(help="Evaluate compression methods on LongBench / ZeroSCROLLS.", no_args_is_help=True)

Data = Annotated[
    str | None, typer.Option(help="JSONL file, folder, or hub name (default: ../shared/data/<bench>)")
]
Methods = Annotated[str | None, typer.Option(help=f"comma-separated methods ('{NO_COMPRESSION}' = uncompressed); "
                                                  "default: all registered + none")]  # fmt: skip
Rates = Annotated[str, typer.Option(help="comma-separated fractions of tokens kept")]
ReaderOpt = Annotated[str, typer.Option("--reader", help=READER_HELP)]
Tasks = Annotated[str | None, typer.Option(help="comma-separated tasks (default: all in the data)")]
Limit = Annotated[int | None, typer.Option(help="at most N items per task")]
Out = Annotated[
    str | None, typer.Option(help="run folder (reuse it to resume); default runs/<bench>-<reader>-<time>")
]
Workers = Annotated[int, typer.Option(help="parallel items (threads)")]
Ray = Annotated[bool, typer.Option("--ray", help="spread items over a Ray cluster ($RAY_ADDRESS or local)")]
Window = Annotated[int | None, typer.Option(help="reader context window in tokens (prompt is cut to fit)")]
BaseUrl = Annotated[str | None, typer.Option(help="OpenAI-compatible base URL (default $OPENAI_BASE_URL)")]
KeyEnv = Annotated[str, typer.Option(help="name of the env var holding the API key")]
Concurrency = Annotated[int, typer.Option(help="max concurrent reader requests")]
CacheDir = Annotated[
    str | None, typer.Option(help="reader response cache (default ~/.cache/condenser/reader)")
]
Quiet = Annotated[bool, typer.Option("--quiet", help="no progress bar")]

DEFAULT_RATES = "0.5,0.33,0.2,0.1"


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _methods(value: str | None) -> list[str]:
    if value:
        return _csv(value) or []
    from compressor import available_methods

    return [NO_COMPRESSION, *available_methods()]


def _report(result: RunResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"average over tasks · {result.run_dir}")
    for col in ("method", "rate", "score", "achieved ratio", "compress ms"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for s in result.summary:
        if s["task"] == AVERAGE:
            table.add_row(
                s["method"], f"{s['rate']:g}", str(s["score"]), f"{s['ratio']:.2f}", f"{s['compress_ms']:.1f}"
            )
    console = Console()
    console.print(table)
    console.print(f"{result.new} new, {result.skipped} already done, {len(result.errors)} failed "
                  f"in {result.seconds:.1f} s; summary: {result.files.get('summary_md')}")  # fmt: skip
    if result.errors:
        console.print(
            f"[yellow]first failure: {result.errors[0]['error']}[/] (see errors.jsonl; rerun to retry)"
        )


def _execute(config: RunConfig, quiet: bool) -> None:
    try:
        result = run(config, progress=not quiet)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _report(result)


@app.command()
def longbench(
    data: Data = None, methods: Methods = None, rates: Rates = DEFAULT_RATES, reader: ReaderOpt = "oracle-retention",
    tasks: Tasks = None, limit: Limit = None, out: Out = None, workers: Workers = 2, ray: Ray = False,
    context_window: Window = None, base_url: BaseUrl = None, api_key_env: KeyEnv = "OPENAI_API_KEY",
    max_concurrency: Concurrency = 4, cache_dir: CacheDir = None, quiet: Quiet = False,
    longbench_e: Annotated[bool, typer.Option("--e", help="LongBench-E: its 13 tasks, scores per length bucket")] = False,
) -> None:  # fmt: skip
    """LongBench (official prompts, metrics and middle truncation)."""
    config = RunConfig("longbench", _methods(methods), [float(r) for r in _csv(rates) or []], reader, data,
                       _csv(tasks), limit, longbench_e, context_window=context_window, workers=workers, ray=ray,
                       base_url=base_url, api_key_env=api_key_env, max_concurrency=max_concurrency,
                       cache_dir=cache_dir, out=out)  # fmt: skip
    _execute(config, quiet)


@app.command()
def zeroscrolls(
    data: Data = None, methods: Methods = None, rates: Rates = DEFAULT_RATES, reader: ReaderOpt = "oracle-retention",
    tasks: Tasks = None, limit: Limit = None, out: Out = None, workers: Workers = 2, ray: Ray = False,
    context_window: Window = None, base_url: BaseUrl = None, api_key_env: KeyEnv = "OPENAI_API_KEY",
    max_concurrency: Concurrency = 4, cache_dir: CacheDir = None, quiet: Quiet = False,
    split: Annotated[str, typer.Option(help="hub split when loading by name")] = "validation",
) -> None:  # fmt: skip
    """ZeroSCROLLS (official prompts and metrics, document-tail truncation)."""
    config = RunConfig("zeroscrolls", _methods(methods), [float(r) for r in _csv(rates) or []], reader, data,
                       _csv(tasks), limit, split=split, context_window=context_window, workers=workers, ray=ray,
                       base_url=base_url, api_key_env=api_key_env, max_concurrency=max_concurrency,
                       cache_dir=cache_dir, out=out)  # fmt: skip
    _execute(config, quiet)


@app.command("report")
def report_command(run_dir: Annotated[str, typer.Argument(help="a run folder (with config.json)")]) -> None:
    """Rewrite a run folder's summary and plots from all the results it holds (e.g. after stopping it)."""
    try:
        result = report(run_dir)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _report(result)


if __name__ == "__main__":
    app()
