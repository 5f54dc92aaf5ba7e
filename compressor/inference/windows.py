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
    """KEEP probability of each model token, located by the character offset where it starts.

    ``ends`` (character end offsets) and ``words`` (the tokenizer's pre-token word index per token) come
    with scores from ``score_texts``; ``window_starts``/``window_scores`` hold one value per window when
    the model also returns a per-sequence score (a reranker's ``ranking`` output).
    """

    offsets: np.ndarray
    scores: np.ndarray
    ends: np.ndarray | None = None
    words: np.ndarray | None = None
    window_starts: np.ndarray | None = None
    window_scores: np.ndarray | None = None


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


def score_tokens(model, tokenizer, text: str, query: str | None = None, **kwargs) -> TokenScores:
    """KEEP probabilities of the tokens of one ``text`` given ``query``; see ``score_texts``."""
    return score_texts(model, tokenizer, [text], query, **kwargs)[0]


@dataclass
class _Text:
    ids: list[int]
    offsets: np.ndarray
    words: np.ndarray
    windows: list[tuple[int, int]]
    owned: list[tuple[int, int]]


def _tokenise(tokenizer, text: str, size: int, stride: int) -> _Text:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids, offsets = enc["input_ids"], np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    words = np.asarray([-1 if w is None else w for w in enc.word_ids()], dtype=np.int64)
    windows = plan_windows(len(ids), size, break_tokens(text, offsets[:, 0]), stride)
    return _Text(ids, offsets, words, windows, assign(windows, len(ids)))


def score_texts(model, tokenizer, texts: list[str], query: str | None = None, *, keep_label: int = 1,
                max_length: int | None = None, stride: int = 0, batch_size: int = 16,
                max_query_tokens: int | None = None) -> list[TokenScores]:
    """KEEP probabilities of the tokens of each of ``texts`` given ``query``, window by window.

    Each text is tokenised once (fast tokenizer offsets); windows of ``max_length`` model tokens, query
    and special tokens included, are cut at sentence starts where possible, overlap by ``stride``
    tokens, and the windows of ALL texts run together in batches of similar length (little padding,
    full batches across documents). The query (at most ``max_query_tokens``, default a quarter of the
    window) is repeated in every window. The model runs where its parameters are; a model output with
    a ``ranking`` field (one score per sequence) is kept per window.
    """
    import torch

    max_length = max_length or min(getattr(model.config, "max_position_embeddings", 512), 512)
    q_limit = max_query_tokens or max_length // 4
    q_ids = tokenizer(query, add_special_tokens=False)["input_ids"][:q_limit] if query else []
    size = max(8, max_length - len(q_ids) - tokenizer.num_special_tokens_to_add(pair=bool(q_ids)))
    parts = [_tokenise(tokenizer, t, size, stride) for t in texts]
    jobs = [(p, w) for p in range(len(parts)) for w in range(len(parts[p].windows))]
    rows = [_rows(tokenizer, q_ids, parts[p].ids, [parts[p].windows[w]])[0] for p, w in jobs]
    tail = suffix_length(tokenizer, pair=bool(q_ids))  # a window's tokens end before these
    probs = [np.zeros(len(p.ids), dtype=np.float32) for p in parts]
    ranks = [np.full(len(p.windows), np.nan) for p in parts]
    order = sorted(range(len(rows)), key=lambda j: len(rows[j]))  # similar lengths: little padding
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = order[b : b + batch_size]
            input_ids, mask = _pad([rows[j] for j in batch], pad)
            out = model(input_ids=input_ids.to(device), attention_mask=mask.to(device))
            keep = torch.softmax(out.logits.float(), dim=-1)[..., keep_label].cpu().numpy()
            ranking = getattr(out, "ranking", None)
            ranking = None if ranking is None else ranking.float().reshape(len(batch), -1)[:, 0].cpu().numpy()
            for i, j in enumerate(batch):
                p, w = jobs[j]
                (s, e), (lo, hi) = parts[p].windows[w], parts[p].owned[w]
                first = len(rows[j]) - tail - (e - s)  # row position of the window's first token
                probs[p][lo:hi] = keep[i, first + lo - s : first + hi - s]
                if ranking is not None:
                    ranks[p][w] = ranking[i]
    return [TokenScores(t.offsets[:, 0], probs[k], t.offsets[:, 1], t.words,
                        np.asarray([t.offsets[s, 0] if s < len(t.ids) else 0 for s, _ in t.windows]),
                        ranks[k]) for k, t in enumerate(parts)]


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
