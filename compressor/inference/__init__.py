"""Shared inference for token-classification compressors: windowing, batching, word/span scores."""

from compressor.inference.device import resolve_device
from compressor.inference.plan import break_tokens, plan_windows
from compressor.inference.windows import (
                                          TokenScores,
                                          WordScores,
                                          score_texts,
                                          score_tokens,
                                          score_words,
                                          sentence_scores,
                                          span_scores,
)
from compressor.inference.words import mean_per_span, word_spans

__all__ = ["TokenScores", "WordScores", "break_tokens", "mean_per_span", "plan_windows", "resolve_device",
           "score_texts", "score_tokens", "score_words", "sentence_scores", "span_scores", "word_spans"]
