"""The run's per-item results: one JSON line per (item, method, rate, reader), appended as they finish."""

from __future__ import annotations

import json
import threading
from pathlib import Path

RESULTS = "results.jsonl"
ERRORS = "errors.jsonl"


def row_key(item_key: str, method: str, rate: float, reader: str) -> str:
    """The identity of one result, used to skip work already done when a run is resumed."""
    return f"{item_key}|{method}|{rate:g}|{reader}"


class ResultStore:
    """Thread-safe append-only JSONL of results (and of failures, kept apart so a rerun retries them)."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._end_torn_line()

    def _end_torn_line(self) -> None:
        """After a crash mid-write, start the next row on a fresh line (the torn one is then ignored)."""
        path = self.dir / RESULTS
        if path.exists() and path.stat().st_size:
            with open(path, "rb+") as fh:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")

    def rows(self) -> list[dict]:
        """All result rows written so far (a torn last line from a crash is ignored)."""
        path = self.dir / RESULTS
        if not path.exists():
            return []
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows

    def done_keys(self) -> set[str]:
        """Keys of the results already in the file."""
        return {row["key"] for row in self.rows() if "key" in row}

    def _append(self, name: str, row: dict) -> None:
        with self._lock, open(self.dir / name, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def add(self, row: dict) -> None:
        """Append one result."""
        self._append(RESULTS, row)

    def add_error(self, row: dict) -> None:
        """Append one failure (not counted as done)."""
        self._append(ERRORS, row)
