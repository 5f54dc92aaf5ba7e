"""A run's configuration: what is evaluated, how, and where the results go (recorded in the run folder)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

NO_COMPRESSION = "none"  # pseudo-method: the original context, the ceiling every method is compared with


@dataclass
class RunConfig:
    """Everything that defines a run. ``rates`` are fractions of tokens kept (tiktoken ``encoding``)."""

    benchmark: str  # "longbench" or "zeroscrolls"
    methods: list[str]
    rates: list[float]
    reader: str = "oracle-retention"
    data: str | None = None  # file, folder or hub name; None: the default data folder
    tasks: list[str] | None = None
    limit: int | None = None  # items per task
    longbench_e: bool = False
    split: str = "validation"  # ZeroSCROLLS hub split
    context_window: int | None = None  # reader window in tokens; None: the reader's own
    encoding: str = "cl100k_base"
    workers: int = 2
    ray: bool = False
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 4
    cache_dir: str | None = None
    out: str | None = None
    extra: dict = field(default_factory=dict)

    def run_dir(self) -> Path:
        """``out``, or ``runs/<benchmark>-<reader>-<timestamp>`` when none was given (fixed on first call)."""
        if self.out is None:
            reader = "".join(c if c.isalnum() or c in "-." else "-" for c in self.reader)
            self.out = str(Path("runs") / f"{self.benchmark}-{reader}-{time.strftime('%Y%m%d-%H%M%S')}")
        return Path(self.out)

    def settings(self) -> list[tuple[str, float]]:
        """(method, rate) pairs to run; the uncompressed baseline runs once, at rate 1."""
        pairs: list[tuple[str, float]] = []
        for method in self.methods:
            pairs += [(method, 1.0)] if method == NO_COMPRESSION else [(method, r) for r in self.rates]
        return pairs

    def save(self, path: Path) -> None:
        """Write the configuration as JSON (no secrets: only the *name* of the API-key variable)."""
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
