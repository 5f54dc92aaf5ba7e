"""Running an evaluation: units in parallel (threads or Ray), results appended, then summary and plots."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from evals.data import EvalItem, load_longbench, load_zeroscrolls
from evals.readers import Reader, ResponseCache, make_reader
from evals.runner.config import RunConfig
from evals.runner.plots import plot_latency, plot_score_vs_ratio
from evals.runner.store import ResultStore
from evals.runner.summary import markdown, summarize, write_csv
from evals.runner.work import Unit, evaluate, preload_methods


@dataclass
class RunResult:
    """What a run produced: where, how much, and the summary rows."""

    run_dir: Path
    summary: list[dict]
    new: int
    skipped: int
    errors: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)


def load_items(config: RunConfig) -> list[EvalItem]:
    """The configured benchmark's items (data source, tasks and per-task limit from ``config``)."""
    if config.benchmark == "longbench":
        return load_longbench(
            config.data, tasks=config.tasks, longbench_e=config.longbench_e, limit=config.limit
        )
    if config.benchmark == "zeroscrolls":
        return load_zeroscrolls(config.data, tasks=config.tasks, split=config.split, limit=config.limit)
    raise ValueError(f"unknown benchmark {config.benchmark!r}")


def _reader_options(config: RunConfig) -> dict:
    return {"spec": config.reader, "base_url": config.base_url, "api_key_env": config.api_key_env,
            "context_window": config.context_window, "max_concurrency": config.max_concurrency,
            "cache_dir": config.cache_dir}  # fmt: skip


def build_reader(config: RunConfig) -> Reader:
    """The configured reader; LLM readers get the on-disk response cache."""
    opts = _reader_options(config)
    cache = ResponseCache(opts.pop("cache_dir")) if config.reader != "oracle-retention" else None
    opts.pop("cache_dir", None)
    return make_reader(opts.pop("spec"), cache=cache, **opts)


def _run_threads(units, reader, config, on_result: Callable[[str, dict], None]) -> None:
    def one(unit: Unit) -> tuple[str, dict]:
        try:
            return "ok", evaluate(unit, reader, encoding=config.encoding, window=config.context_window)
        except Exception as exc:  # noqa: BLE001 - reported per unit, the run goes on
            return "error", {"key": unit.key(reader.name), "error": f"{type(exc).__name__}: {exc}"}

    if config.workers > 1 and units:  # imports and model loads race across threads: do them here first
        preload_methods([u.method for u in units], config.encoding)
    with ThreadPoolExecutor(max_workers=max(config.workers, 1)) as pool:
        for future in as_completed([pool.submit(one, u) for u in units]):
            on_result(*future.result())


def _write_outputs(
    config: RunConfig, store: ResultStore, keys: set[str] | None
) -> tuple[list[dict], dict[str, Path]]:
    rows = [r for r in store.rows() if keys is None or r["key"] in keys]
    summary = summarize(rows, buckets=config.longbench_e)
    title = f"{config.benchmark} · reader {config.reader}"
    files = {"results": store.dir / "results.jsonl", "config": store.dir / "config.json",
             "summary_md": store.dir / "summary.md", "summary_csv": store.dir / "summary.csv"}  # fmt: skip
    files["summary_md"].write_text(markdown(summary, title), encoding="utf-8")
    write_csv(summary, files["summary_csv"])
    if summary:
        files["plot_score"] = plot_score_vs_ratio(summary, store.dir / "score_vs_ratio.png", title)
        if latency := plot_latency(summary, store.dir / "latency.png", title):
            files["plot_latency"] = latency
    return summary, files


def run(
    config: RunConfig,
    *,
    reader: Reader | None = None,
    items: Sequence[EvalItem] | None = None,
    progress: bool = True,
) -> RunResult:
    """Evaluate every (item, method, rate) of ``config`` not already in the run folder, then summarise.

    Resumable: results already in ``<run>/results.jsonl`` are skipped; failures go to ``errors.jsonl``
    and are retried by the next run.
    """
    start = time.perf_counter()
    store = ResultStore(config.run_dir())
    config.save(store.dir / "config.json")
    reader = reader or build_reader(config)
    items = list(items) if items is not None else load_items(config)
    units = [Unit(item, m, r) for item in items for m, r in config.settings()]
    done = store.done_keys()
    todo = [u for u in units if u.key(reader.name) not in done]
    errors: list[dict] = []
    bar = tqdm(
        total=len(todo), desc=f"{config.benchmark} x {config.reader}", disable=not progress, unit="item"
    )

    def on_result(status: str, payload: dict) -> None:
        (store.add if status == "ok" else store.add_error)(payload)
        if status != "ok":
            errors.append(payload)
        bar.update(1)

    if config.ray:
        from evals.runner.ray_backend import run_on_ray

        run_on_ray(todo, _reader_options(config), encoding=config.encoding, window=config.context_window,
                   on_result=on_result)  # fmt: skip
    else:
        _run_threads(todo, reader, config, on_result)
    bar.close()
    summary, files = _write_outputs(config, store, {u.key(reader.name) for u in units})
    return RunResult(store.dir, summary, len(todo) - len(errors), len(units) - len(todo), errors,
                     time.perf_counter() - start, files)  # fmt: skip


def report(run_dir: str | Path) -> RunResult:
    """Rewrite the summary and plots of a run folder from every result it holds (e.g. of a stopped run)."""
    import json

    run_dir = Path(run_dir)
    fields = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    config = RunConfig(**fields)
    summary, files = _write_outputs(config, ResultStore(run_dir), None)
    return RunResult(run_dir, summary, 0, len(ResultStore(run_dir).rows()), [], 0.0, files)
