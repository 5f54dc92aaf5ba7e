"""Shared inference for token-classification compressors: windowing, batching, word/span scores."""

from compressor.inference.device import resolve_device
from compressor.inference.windows import TokenScores, WordScores, score_tokens, score_words, span_scores
from compressor.inference.words import mean_per_span, word_spans

__all__ = ["TokenScores", "WordScores", "mean_per_span", "resolve_device", "score_tokens", "score_words",
           "span_scores", "word_spans"]
