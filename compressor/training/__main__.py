"""Rebuild Condenser's shipped model from ../shared/data with a fixed seed.

    python -m compressor.training --out compressor/models/condenser-minilm --seed 0 [--steps N | --minutes M]

``--steps`` makes a run reproducible whatever the machine's speed; ``--minutes`` stops at a wall-clock
budget instead (the learning rate decays over whichever ends first). The dev split
(``compressor.training.splits.is_dev``) is never trained on; its scores are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from compressor.inference import resolve_device
from compressor.models import MODEL_DIR
from compressor.training.data import build
from compressor.training.train import TrainConfig, train


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("CONDENSER_DATA", "../shared/data"))
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--steps", type=int, default=0, help="optimizer steps (0: --epochs or --minutes)")
    ap.add_argument("--minutes", type=float, default=0.0, help="wall-clock budget (0: none)")
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: 1 or 2, by the machine's load)")
    ap.add_argument("--max-length", type=int, default=320, help="model tokens per window, query included")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--device", default="cpu", help="cpu, cuda[:N], mps or auto")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast (for GPUs; slow on CPUs)")
    ap.add_argument("--init", default="", help="continue from the weights in this folder (resume a run)")
    ap.add_argument("--init-encoder", default="",
                    help="start the encoder from a retriever folder, e.g. retriever/models/condenser-retriever")
    ap.add_argument("--sentence-weight", type=float, default=0.0,
                    help="weight of a listwise sentence ranking term beside the per-token loss (0: off)")
    ap.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate (the head gets 10x)")
    ap.add_argument("--limit-per-set", type=int, default=0, help="cap examples per source (quick runs)")
    args = ap.parse_args(argv)
    data = Path(args.data)
    examples = build(data, seed=args.seed, limit_per_set=args.limit_per_set)
    dev = build(data, dev=True, seed=args.seed)
    print(f"{len(examples)} training examples, {len(dev)} dev examples (dev split kept apart)")
    cfg = TrainConfig(max_length=args.max_length, batch_size=args.batch_size, minutes=args.minutes,
                      max_steps=args.steps, epochs=args.epochs, seed=args.seed, threads=args.threads,
                      device=resolve_device(args.device), bf16=args.bf16, init=args.init,
                      init_encoder=args.init_encoder, lr=args.lr,
                      sentence_weight=args.sentence_weight,
                      head_lr=10 * args.lr)
    record = train(examples, Path(args.out), cfg, dev)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
