"""Evaluation runs: configuration, per-item work, result store, summary, plots, Ray backend."""

from evals.runner.config import NO_COMPRESSION, RunConfig
from evals.runner.run import RunResult, load_items, report, run

__all__ = ["NO_COMPRESSION", "RunConfig", "RunResult", "load_items", "report", "run"]
