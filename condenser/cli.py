"""The ``condenser`` command line: compress files, list methods, serve the API, run evaluations."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track

app = typer.Typer(help="Condenser: question-aware prompt compression.", no_args_is_help=True,
                  add_completion=False)
err = Console(stderr=True)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {source}", param_hint="FILES")
    return path.read_text(encoding="utf-8")


@app.command()
def compress(
    files: list[str] = typer.Argument(..., help="text files to compress, or - for standard input"),
    query: str | None = typer.Option(None, "--query", "-q", help="the question the output must answer"),
    rate: float | None = typer.Option(None, "--rate", "-r", help="fraction of tokens kept, in (0, 1]"),
    target_tokens: int | None = typer.Option(None, "--target-tokens", "-t", help="hard token ceiling"),
    method: str = typer.Option("condenser", "--method", "-m", help="see `condenser methods`"),
    model: str | None = typer.Option(None, "--model", help="target LLM (picks its tokenizer)"),
    as_json: bool = typer.Option(False, "--json", help="print the full result as JSON"),
    documents: bool = typer.Option(False, "--documents", help="treat the files as documents of one context"),
) -> None:
    """Compress FILES (each on its own, or jointly with --documents) and print the result."""
    from compressor import compress as run

    texts = [_read(f) for f in files]
    options = {"model": model} if model else {}
    jobs = [texts] if documents else texts
    steps = track(jobs, description="compressing", console=err) if len(jobs) > 1 else jobs
    for job in steps:
        start = time.perf_counter()
        try:
            result = run(job, query, rate=rate, target_tokens=target_tokens, method=method, **options)
        except (ValueError, TypeError) as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        elapsed = time.perf_counter() - start
        if as_json:
            typer.echo(result.model_dump_json())
        else:
            typer.echo(result.text)
            err.print(f"[bold]{result.method}[/bold]: {result.original_tokens} -> {result.compressed_tokens} "
                      f"tokens ({result.ratio:.2f}x) in {elapsed:.2f} s")


@app.command()
def methods(as_json: bool = typer.Option(False, "--json", help="print as a JSON list")) -> None:
    """List the compression methods."""
    from compressor import available_methods

    names = available_methods()
    typer.echo(json.dumps(names) if as_json else "\n".join(names))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Run the compression API and LLM proxy (needs the `api` extra)."""
    try:
        from api.server import serve as run_server
    except ImportError as exc:
        err.print(f"[red]the API is not installed:[/red] pip install 'condenser[api]' ({exc})")
        raise typer.Exit(1) from exc
    run_server(host=host, port=port, workers=workers)


def _mount_eval() -> None:
    try:
        from evals.cli import app as eval_app
    except ImportError:
        return
    app.add_typer(eval_app, name="eval", help="Batch evaluation on LongBench and ZeroSCROLLS.")


_mount_eval()

if __name__ == "__main__":
    app()
