"""The ``condenser`` command line: compress files, list methods, serve the API, run evaluations."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track

DEFAULT_METHOD = "condenser"

app = typer.Typer(help="Condenser: question-aware prompt compression.", no_args_is_help=True,
                  add_completion=False, context_settings={"help_option_names": ["-h", "--help"]})
err = Console(stderr=True)

#: compress()'s argument names as the flags that set them, for error messages
FLAGS = {"rate": "--rate", "target_tokens": "--target-tokens", "query": "--query", "method": "--method",
         "encoding": "--encoding", "model": "--model", "context": "the input"}


class UsageError(Exception):
    """A mistake on the command line or in the input: printed as one line, exit status 2."""


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        from condenser import __version__

        typer.echo(f"condenser {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                      help="print the version and exit")) -> None:
    """Condenser: question-aware prompt compression."""


def _read(source: str) -> str:
    """The text of a file (or standard input for ``-``), or a one-line ``UsageError`` saying what is wrong."""
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if path.is_dir():
        raise UsageError(f"{source}: is a directory (give files, or - for standard input)")
    if not path.is_file():
        raise UsageError(f"{source}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                         "convert it first, e.g. iconv -f latin1 -t utf-8") from exc
    except OSError as exc:
        raise UsageError(f"{source}: cannot be read ({exc.strerror or exc})") from exc


def _options(pairs: list[str]) -> dict[str, Any]:
    """``--option key=value`` pairs as method options; values are JSON when they parse (0.5, true, [1]),
    else strings."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option takes key=value, got {pair!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw
    return options


def _flag_message(message: str, option_names: set[str]) -> str:
    """A compress() error message in the command line's words: ``--rate`` instead of ``rate``."""
    message = re.sub(r"\bgive rate or target_tokens\b", "give --rate or --target-tokens", message)
    if message.startswith("unknown option"):
        return f"--option: {message}"
    head, _, rest = message.partition(" ")
    if head in FLAGS:
        return f"{FLAGS[head]} {rest}"
    if head.endswith(":") and head[:-1] in FLAGS:  # "encoding: encoding 'x' is not available"
        return f"{FLAGS[head[:-1]]}: {rest}"
    if head in option_names:
        return f"--option {head}: {rest}"
    return message


def _check_ready(method: str, options: dict[str, Any]) -> None:
    """Refuse a method whose checkpoint is not on this machine before loading anything, saying what it needs."""
    from compressor.readiness import CHECKPOINT_METHODS, method_status

    if method not in CHECKPOINT_METHODS:
        return
    ready, detail = method_status(method, options.get("model_path"))
    if not ready:
        raise UsageError(f"--method {method} is not ready: "
                         + detail.replace("model_path= in Python", "--option model_path=/folder"))


@app.command()
def compress(
    files: list[str] = typer.Argument(..., help="text files to compress, or - for standard input"),
    query: str | None = typer.Option(None, "--query", "-q", help="the question the output must answer"),
    rate: float | None = typer.Option(None, "--rate", "-r", help="fraction of tokens kept, in (0, 1]"),
    target_tokens: int | None = typer.Option(None, "--target-tokens", "-t", help="hard token ceiling"),
    method: str = typer.Option(DEFAULT_METHOD, "--method", "-m", help="see `condenser methods`"),
    model: str | None = typer.Option(None, "--model", help="target LLM, e.g. gpt-4o (counts its tokens)"),
    encoding: str | None = typer.Option(None, "--encoding",
                                        help="target LLM's tiktoken encoding, e.g. o200k_base (instead of --model)"),
    option: list[str] = typer.Option([], "--option", "-o", metavar="KEY=VALUE",
                                     help="a method option, repeatable: -o dense_weight=0 -o hops=1"),
    as_json: bool = typer.Option(False, "--json", help="print the full result as JSON (several files: one array)"),
    documents: bool = typer.Option(False, "--documents", help="treat the files as documents of one context"),
) -> None:
    """Compress FILES (each on its own, or jointly with --documents) and print the result.

    With several files, each output is headed by ``==> FILE <==``; with --json they form one JSON array.
    """
    from compressor import compress as run

    try:
        texts = [_read(f) for f in files]
        options = _options(option)
        _check_ready(method, options)
    except UsageError as exc:
        raise _fail(str(exc)) from exc
    if model:
        options["model"] = model
    if encoding:
        options["encoding"] = encoding
    jobs = [("+".join(files), texts)] if documents else list(zip(files, texts))
    several = len(jobs) > 1
    steps = track(jobs, description="compressing", console=err) if several else jobs
    collected = []
    for name, job in steps:
        start = time.perf_counter()
        try:
            result = run(job, query, rate=rate, target_tokens=target_tokens, method=method, **options)
        except (ValueError, TypeError, LookupError) as exc:
            message = str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc)
            raise _fail(_flag_message(message, set(options))) from exc
        elapsed = time.perf_counter() - start
        if as_json:
            collected.append({"file": name, **result.model_dump(mode="json")} if several else
                             result.model_dump(mode="json"))
            continue
        if several:
            typer.echo(f"==> {name} <==")
        typer.echo(result.text)
        err.print(f"[bold]{result.method}[/bold]: {result.original_tokens} -> {result.compressed_tokens} "
                  f"tokens ({result.ratio:.2f}x) in {elapsed:.2f} s", highlight=False)
    if as_json:
        typer.echo(json.dumps(collected if several else collected[0], ensure_ascii=False))


@app.command()
def methods(as_json: bool = typer.Option(False, "--json", help="print as a JSON list of objects")) -> None:
    """List the compression methods: the default (*), whether each is ready, and what the others need."""
    from compressor.readiness import all_statuses

    statuses = all_statuses()
    if as_json:
        typer.echo(json.dumps([{"name": s.name, "default": s.name == DEFAULT_METHOD, "ready": s.ready,
                                "description": s.description, "detail": s.detail} for s in statuses]))
        return
    width = max(len(s.name) for s in statuses) + 2
    for s in statuses:
        mark = "*" if s.name == DEFAULT_METHOD else " "
        state = "ready" if s.ready else "needs a checkpoint" if s.checkpoint else "not ready"
        typer.echo(f"{mark} {s.name:<{width}}{state:<20}{s.description}")
        if not s.ready:
            typer.echo(f"  {'':<{width}}  {s.detail}")
    typer.echo(f"* default (--method {DEFAULT_METHOD})")


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
