"""``oracle-retention``: an offline reader that scores whether the gold answer survived compression."""

from __future__ import annotations

import time

from evals.metrics.retention import retention_score
from evals.readers.base import Answer, ReaderRequest


class OracleRetentionReader:
    """No LLM: the item's score is ``evals.metrics.retention.retention_score`` of the compressed context.

    Runs anywhere (CI, no API key) and isolates the compressor from reader noise; it measures
    information kept, not answer quality.
    """

    name = "oracle-retention"
    context_window = None
    scores_itself = True

    def answer(self, request: ReaderRequest) -> Answer:
        """Score the compressed context of ``request``; ``text`` stays empty."""
        start = time.perf_counter()
        score = retention_score(request.item, request.context)
        return Answer(text="", score=score, latency_s=time.perf_counter() - start)
