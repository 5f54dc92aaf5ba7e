"""Reference baselines for retention tables, registered as methods so they run through the same pipeline."""

from __future__ import annotations

import zlib

import numpy as np

from compressor import register
from compressor.methods.base import Request, SentenceScorer


@register("random")
class RandomSentences(SentenceScorer):
    """Random sentences (seeded per input): the chance level any method must clear."""

    uses_coarse_stage = False

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        seed = zlib.crc32("\n".join(texts).encode())
        return np.random.default_rng(seed).random(len(texts))
