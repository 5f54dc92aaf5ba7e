"""Windowed token classification over texts longer than a model's positions (never truncation).

The text is tokenised once with offsets; its tokens are cut into windows that each fit beside the
query (``[CLS] query [SEP] window [SEP]``), windows are batched by length to avoid padding, and each
token's KEEP probability is mapped back to character offsets. Model-agnostic: any Hugging Face token
classification model (BERT, XLM-R, DeBERTa, ModernBERT) with a fast tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def _windows(n_tokens: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(n_tokens, s + size)) for s in range(0, n_tokens, size)] or [(0, 0)]


def score_tokens(model, tokenizer, text: str, query: str | None = None, *, keep_label: int = 1,
                 max_length: int | None = None, batch_size: int = 16) -> TokenScores:
    """KEEP probabilities of the tokens of ``text`` given ``query``, window by window."""
    import torch

    max_length = max_length or min(getattr(model.config, "max_position_embeddings", 512), 512)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    q_ids = tokenizer(query, add_special_tokens=False)["input_ids"][: max_length // 4] if query else []
    specials = tokenizer.num_special_tokens_to_add(pair=bool(q_ids))
    size = max(8, max_length - len(q_ids) - specials)
    windows = _windows(len(ids), size)
    probs = np.zeros(len(ids), dtype=np.float32)
    order = sorted(range(len(windows)), key=lambda w: windows[w][1] - windows[w][0])
    device = next(model.parameters()).device
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = [windows[w] for w in order[b : b + batch_size]]
            rows = [with_specials(tokenizer, q_ids, ids[s:e]) if q_ids else with_specials(tokenizer, ids[s:e])
                    for s, e in batch]
            width = max(len(r) for r in rows)
            pad = tokenizer.pad_token_id or 0
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, r in enumerate(rows):
                input_ids[i, : len(r)] = torch.tensor(r)
                mask[i, : len(r)] = 1
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            keep = torch.softmax(logits.float(), dim=-1)[..., keep_label].cpu().numpy()
            tail = suffix_length(tokenizer, pair=bool(q_ids))  # the window ends before these
            for i, (s, e) in enumerate(batch):
                probs[s:e] = keep[i, len(rows[i]) - tail - (e - s) : len(rows[i]) - tail]
    return TokenScores(offsets[:, 0], probs)


def score_words(model, tokenizer, text: str, query: str | None = None, **kwargs) -> WordScores:
    """KEEP probability of each word: the mean over the word's sub-tokens."""
    tokens = score_tokens(model, tokenizer, text, query, **kwargs)
    starts, ends = word_spans(text)
    return WordScores(starts, ends, mean_per_span(tokens.offsets, tokens.scores, starts, ends))


def span_scores(tokens: TokenScores, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean token KEEP probability inside each character span (Provence-style sentence score)."""
    order = np.argsort(starts, kind="stable")
    out = np.zeros(len(starts))
    out[order] = mean_per_span(tokens.offsets, tokens.scores, starts[order], ends[order])
    return out
