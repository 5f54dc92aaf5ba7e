"""On-disk response cache for LLM readers, so a rerun of the same requests costs nothing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "CONDENSER_EVAL_CACHE"


def default_cache_dir() -> Path:
    """``$CONDENSER_EVAL_CACHE``, else ``~/.cache/condenser/reader``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "condenser" / "reader")


def cache_key(base_url: str, model: str, messages: list[dict], params: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything that determines a response (never the API key)."""
    blob = json.dumps([base_url.rstrip("/"), model, messages, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """One JSON file per key under ``root/<2 hex>/<key>.json``; writes are atomic (rename)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored response for ``key``, or None."""
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict) -> None:
        """Store ``value`` under ``key`` (last writer wins)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, ensure_ascii=False)
        os.replace(tmp, path)
