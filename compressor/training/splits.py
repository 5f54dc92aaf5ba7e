"""The dev split every benchmark and the trainer agree on: never train on a dev item."""

from __future__ import annotations

import hashlib


def is_dev(dataset: str, item_id: str) -> bool:
    """Deterministic: one item in five of each dataset is kept apart for evaluation."""
    digest = hashlib.sha1(f"{dataset}:{item_id}".encode()).hexdigest()
    return int(digest, 16) % 5 == 0
