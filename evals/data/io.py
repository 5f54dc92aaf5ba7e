"""Reading local benchmark files: JSON Lines, gzipped or not, from a file or a folder."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
DATA_ENV = "CONDENSER_EVAL_DATA"


def default_data_dir() -> Path:
    """Where benchmark data is looked for: ``$CONDENSER_EVAL_DATA``, else ``../shared/data`` beside the repo."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    beside_repo = _REPO.parent / "shared" / "data"
    return beside_repo if beside_repo.exists() else Path("..") / "shared" / "data"


def read_jsonl(path: Path) -> Iterator[dict]:
    """Rows of a ``.jsonl`` or ``.jsonl.gz`` file (blank lines skipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def jsonl_files(source: Path) -> list[Path]:
    """The JSON Lines files of ``source``: itself when a file, else its ``*.jsonl[.gz]`` files, sorted."""
    if source.is_file():
        return [source]
    if source.is_dir():
        return sorted(p for p in source.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    raise FileNotFoundError(f"no such data file or folder: {source}")


def file_task(path: Path) -> str:
    """Task name from a file name: ``hotpotqa.jsonl`` / ``qasper.jsonl.gz`` -> ``hotpotqa`` / ``qasper``."""
    return path.name.split(".jsonl")[0]
