"""Benchmark loaders: LongBench (and LongBench-E) and ZeroSCROLLS, as benchmark-neutral ``EvalItem``s."""

from evals.data.item import EvalItem
from evals.data.longbench import load_longbench
from evals.data.prompt import render_prompt
from evals.data.zeroscrolls import load_zeroscrolls

__all__ = ["EvalItem", "load_longbench", "load_zeroscrolls", "render_prompt"]
