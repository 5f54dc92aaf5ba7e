"""Official LongBench and ZeroSCROLLS metrics (reimplemented; see each module's docstring)."""

from evals.metrics import longbench, zeroscrolls

__all__ = ["longbench", "zeroscrolls"]
