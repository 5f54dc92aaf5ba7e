"""Loading benchmark rows from a dataset hub by name, when the optional ``datasets`` package is there."""

from __future__ import annotations

import os
import re
from pathlib import Path

_HUB_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")


def looks_like_hub_name(source: str | Path) -> bool:
    """True for ``owner/name`` strings that are not an existing local path."""
    return isinstance(source, str) and bool(_HUB_NAME.match(source)) and not Path(source).exists()


def load_rows(name: str, config: str, split: str) -> list[dict]:
    """Rows of one hub dataset configuration, or a clear error saying how to use local files instead."""
    try:
        import datasets
    except ImportError as exc:
        raise RuntimeError(
            f"loading {name!r} by name needs the `datasets` package (pip install datasets) and a reachable "
            "hub; otherwise pass --data with a local JSON Lines file or folder"
        ) from exc
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise RuntimeError(
            f"cannot load {name!r}: the hub is switched off (HF_*_OFFLINE=1); pass --data instead"
        )
    try:
        return list(datasets.load_dataset(name, config, split=split))
    except Exception as exc:  # any hub, network or script failure gets the same advice
        raise RuntimeError(
            f"could not load {name}/{config} ({split}) from the hub: {exc}; pass --data instead"
        ) from exc
