"""Windowed token classification over texts longer than a model's positions (never truncation).

The text is tokenised once with offsets; its tokens are cut into windows that each fit beside the
query (``[CLS] query [SEP] window [SEP]``) and start at sentence starts where possible; windows are
batched by length to avoid padding, and each token's KEEP probability is mapped back to character
offsets. Model-agnostic: any Hugging Face token classification model (BERT, XLM-R, DeBERTa, ModernBERT)
with a fast tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compressor.inference.plan import assign, break_tokens, plan_windows
from compressor.inference.specials import suffix_length, with_specials
from compressor.inference.words import mean_per_span, word_spans


@dataclass
class WordScores:
    """KEEP probability of each word; ``starts``/``ends`` are character offsets into the scored text."""

    starts: np.ndarray
    ends: np.ndarray
    scores: np.ndarray


@dataclass
class TokenScores:
    """KEEP probability of each model token, located by the character offset where it starts."""

    offsets: np.ndarray
    scores: np.ndarray


def _rows(tokenizer, q_ids: list[int], ids: list[int], windows: list[tuple[int, int]]) -> list[list[int]]:
    return [with_specials(tokenizer, q_ids, ids[s:e]) if q_ids else with_specials(tokenizer, ids[s:e])
            for s, e in windows]


def _pad(rows: list[list[int]], pad_id: int):
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return input_ids, mask


def score_tokens(model, tokenizer, text: str, query: str | None = None, *, keep_label: int = 1,
                 max_length: int | None = None, stride: int = 0, batch_size: int = 16,
                 max_query_tokens: int | None = None) -> TokenScores:
    """KEEP probabilities of the tokens of ``text`` given ``query``, window by window.

    ``text`` is tokenised once (fast tokenizer offsets); windows of ``max_length`` model tokens, query
    and special tokens included, are cut at sentence starts where possible, overlap by ``stride``
    tokens, and run in batches of similar length. The query (at most ``max_query_tokens``, default a
    quarter of the window) is repeated in every window. The model runs where its parameters are.
    """
    import torch

    max_length = max_length or min(getattr(model.config, "max_position_embeddings", 512), 512)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids, offsets = enc["input_ids"], np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    q_limit = max_query_tokens or max_length // 4
    q_ids = tokenizer(query, add_special_tokens=False)["input_ids"][:q_limit] if query else []
    size = max(8, max_length - len(q_ids) - tokenizer.num_special_tokens_to_add(pair=bool(q_ids)))
    windows = plan_windows(len(ids), size, break_tokens(text, offsets[:, 0]), stride)
    owned = assign(windows, len(ids))
    rows = _rows(tokenizer, q_ids, ids, windows)
    tail = suffix_length(tokenizer, pair=bool(q_ids))  # a window's tokens end before these
    probs = np.zeros(len(ids), dtype=np.float32)
    order = sorted(range(len(rows)), key=lambda w: len(rows[w]))  # similar lengths: little padding
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = order[b : b + batch_size]
            input_ids, mask = _pad([rows[w] for w in batch], pad)
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            keep = torch.softmax(logits.float(), dim=-1)[..., keep_label].cpu().numpy()
            for i, w in enumerate(batch):
                (s, e), (lo, hi) = windows[w], owned[w]
                first = len(rows[w]) - tail - (e - s)  # row position of the window's first token
                probs[lo:hi] = keep[i, first + lo - s : first + hi - s]
    return TokenScores(offsets[:, 0], probs)


def score_words(model, tokenizer, text: str, query: str | None = None, **kwargs) -> WordScores:
    """KEEP probability of each word: the mean over the word's sub-tokens."""
    tokens = score_tokens(model, tokenizer, text, query, **kwargs)
    starts, ends = word_spans(text)
    return WordScores(starts, ends, mean_per_span(tokens.offsets, tokens.scores, starts, ends))


def span_scores(tokens: TokenScores, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean token KEEP probability inside each character span (Provence-style sentence score).

    Spans may come in any order but must not overlap (sentences, words).
    """
    order = np.argsort(starts, kind="stable")
    out = np.zeros(len(starts))
    out[order] = mean_per_span(tokens.offsets, tokens.scores, starts[order], ends[order])
    return out


def sentence_scores(words: WordScores, spans: np.ndarray) -> np.ndarray:
    """Mean word KEEP probability inside each ``(start, end)`` character span (rows of ``spans``)."""
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    return span_scores(TokenScores(words.starts, words.scores), spans[:, 0], spans[:, 1])
