"""Real HotpotQA items (distractor setting) from ../shared/data for the integration tests."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any


def hotpotqa_items(shared_data: str, n: int = 3) -> list[dict[str, Any]]:
    """The first ``n`` items, each with ``paragraphs`` ("Title\\nsentences") added beside the raw fields."""
    path = os.path.join(shared_data, "hotpotqa", "distractor.jsonl.gz")
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            item["paragraphs"] = [f"{title}\n{''.join(sents)}" for title, sents in item["context"]]
            items.append(item)
            if len(items) == n:
                break
    return items
