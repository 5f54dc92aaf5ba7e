"""Rebuild Condenser's shipped model from ../shared/data with a fixed seed.

    python -m compressor.training [--out compressor/models/condenser-minilm] [--minutes 25] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from compressor.models import MODEL_DIR
from compressor.training.data import build
from compressor.training.train import TrainConfig, train


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("CONDENSER_DATA", "../shared/data"))
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--minutes", type=float, default=25.0, help="wall-clock training budget")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: 3 epochs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit-per-set", type=int, default=0, help="cap examples per source (quick runs)")
    args = ap.parse_args(argv)
    data = Path(args.data)
    examples = build(data, seed=args.seed, limit_per_set=args.limit_per_set)
    dev = build(data, dev=True, seed=args.seed)
    print(f"{len(examples)} training examples, {len(dev)} dev examples (dev split kept apart)")
    cfg = TrainConfig(minutes=args.minutes, max_steps=args.steps, seed=args.seed, threads=args.threads)
    record = train(examples, Path(args.out), cfg, dev)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
