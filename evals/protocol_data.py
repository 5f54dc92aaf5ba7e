"""The item pool of the cross-validated protocol (``evals.protocol``): every answerable QA item of
../shared/data, with the items the shipped models trained on set apart and a fold for each of the rest.

Sources (``SOURCES``): HotpotQA distractor, MuSiQue, NQ-open (the gold passage among 19 other dev
questions' passages, as ``../shared/tools/retention.py``'s nq20), SQuAD 2.0 (the answerable question's
paragraph among up to 4 other paragraphs of its article), LongBench's English QA tasks, and long inputs
made by joining one dev item's context with other dev contexts of its source until it has
``LONG_TOKENS`` cl100k tokens (``musique-long``, ``hotpotqa-long``; seeded order and position).
An item counts when its gold answer occurs in its context under the official rule (``contains``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compressor.training.splits import is_dev
from evals import qa_sets
from evals.data.io import read_jsonl
from evals.metrics.normalize import normalize_answer
from evals.qa_sets import QAItem

FOLDS = 5
LONG_TOKENS = 10_000
LONGBENCH_QA = frozenset({"narrativeqa", "qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "musique",
                          "triviaqa"})


@dataclass(frozen=True)
class Item:
    """One QA item of ``source``; ``trained``: the shipped models were trained on it (never scored)."""

    source: str
    id: str
    question: str
    context: str
    answers: list[str]
    trained: bool = False

    @property
    def fold(self) -> int:
        return fold_of(self.source, self.id)


@dataclass
class Pool:
    """Items scored per source, and per source how many answerable items were left out as trained on."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    eligible: dict[str, int] = field(default_factory=dict)


def fold_of(source: str, item_id: str) -> int:
    """The item's fold in 0..FOLDS-1. Salted: ``is_dev`` hashes the same key mod 5, and without the salt
    every held-out item would land in one fold."""
    return int(hashlib.sha1(f"protocol-fold:{source}:{item_id}".encode()).hexdigest(), 16) % FOLDS


def norm(text: str) -> str:
    """``../shared/tools/retention.py``'s normalisation: NFKC, then the SQuAD rules (lower case, no
    punctuation or articles: ``evals.metrics.normalize.normalize_answer``)."""
    return normalize_answer(unicodedata.normalize("NFKC", text))


def contains(text: str, answers: list[str]) -> bool:
    """The official retention rule: a normalised gold answer is a substring of the normalised text."""
    t = norm(text)
    return any(norm(a) and norm(a) in t for a in answers)


def _rows(path: Path) -> list[dict]:
    return list(read_jsonl(path))


def _from_qa_set(source: str, items: Iterable[QAItem]) -> list[Item]:
    """``evals.qa_sets`` items (same "Passage i:" contexts as the embedded-model eval) as protocol items."""
    return [Item(source, x.id, x.question, x.context, x.answers, not is_dev(source, x.id)) for x in items]


def hotpotqa(data: Path) -> list[Item]:
    return _from_qa_set("hotpotqa", qa_sets.hotpotqa(data))


def musique(data: Path) -> list[Item]:
    return _from_qa_set("musique", qa_sets.musique(data))


def nq(data: Path, seed: int = 0) -> list[Item]:
    """Gold passage at a seeded place among 19 passages of other held-out questions (the trainer mixed
    training questions' passages as negatives, so distractors come from held-out rows only)."""
    rows = _rows(data / "nq" / "nq-open-oracle.jsonl.gz")
    held = [i for i in range(len(rows)) if is_dev("nq", str(i))]
    out = []
    for i, r in enumerate(rows):
        rng = random.Random(f"{seed}:nq:{i}")
        docs = [rows[j]["ctxs"][0] for j in rng.sample([j for j in held if j != i], min(19, len(held) - 1))]
        docs.insert(rng.randrange(len(docs) + 1), r["ctxs"][0])
        ctx = "\n\n".join(f"Document [{k + 1}](Title: {d['title']}) {d['text']}" for k, d in enumerate(docs))
        out.append(Item("nq", f"nq-{i}", r["question"], ctx, list(r["answers"]), not is_dev("nq", str(i))))
    return out


def squad2(data: Path, seed: int = 0) -> list[Item]:
    """Answerable questions; context: the question's paragraph with up to 4 other paragraphs of its
    article, in article order (one paragraph alone is too short to compress 10x)."""
    with gzip.open(data / "squad2" / "dev-v2.0.json.gz", "rt", encoding="utf-8") as f:
        articles = json.load(f)["data"]
    out = []
    for art in articles:
        paras = [p["context"] for p in art["paragraphs"]]
        for n, para in enumerate(art["paragraphs"]):
            for qa in para["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                rng = random.Random(f"{seed}:squad2:{qa['id']}")
                others = rng.sample([k for k in range(len(paras)) if k != n], min(4, len(paras) - 1))
                ctx = "\n\n".join(paras[k] for k in sorted([n, *others]))
                answers = sorted({a["text"] for a in qa["answers"]})
                out.append(Item("squad2", qa["id"], qa["question"], ctx, answers, not is_dev("squad2", qa["id"])))
    return out


def longbench_qa(data: Path) -> list[Item]:
    """LongBench's English single- and multi-document QA tasks (never trained on)."""
    return [Item("longbench-qa", r["_id"], r["input"], r["context"], list(r["answers"]))
            for r in _rows(data / "longbench" / "minilongbench.jsonl.gz") if r["dataset"] in LONGBENCH_QA]


def joined(base: list[Item], name: str, count: Callable[[str], int], seed: int = 0,
           tokens: int = LONG_TOKENS) -> list[Item]:
    """Each held-out item of ``base`` with other held-out contexts of its source joined around it (seeded
    order and position) until the whole has at least ``tokens`` tokens; trained items stay excluded and
    never serve as padding, and an item whose own context lacks its answer is not joined (stays unanswerable)."""
    held = [x for x in base if not x.trained]
    out = []
    for item in base:
        if item.trained or not contains(item.context, item.answers):  # answerable in its own context only
            out.append(Item(name, item.id, item.question, item.context, item.answers, item.trained))
            continue
        rng = random.Random(f"{seed}:{name}:{item.id}")
        others = [x for x in held if x.id != item.id]
        rng.shuffle(others)
        parts, size = [item.context], count(item.context)
        for other in others:
            if size >= tokens:
                break
            parts.insert(rng.randrange(len(parts) + 1), other.context)
            size += count(other.context)
        out.append(Item(name, item.id, item.question, "\n\n".join(parts), item.answers))
    return out


SOURCES = ("hotpotqa", "musique", "nq", "squad2", "longbench-qa", "musique-long", "hotpotqa-long")


def load_all(data: Path, count: Callable[[str], int], seed: int = 0,
             sources: tuple[str, ...] = SOURCES) -> dict[str, list[Item]]:
    """Every item of ``sources`` (trained ones included, flagged), answerable or not."""
    loaded: dict[str, list[Item]] = {}
    base = {"hotpotqa": lambda: hotpotqa(data), "musique": lambda: musique(data), "nq": lambda: nq(data, seed),
            "squad2": lambda: squad2(data, seed), "longbench-qa": lambda: longbench_qa(data)}
    for name in sources:
        if name.endswith("-long"):
            root = name.removesuffix("-long")
            loaded[name] = joined(loaded.get(root) or base[root](), name, count, seed)
        else:
            loaded[name] = base[name]()
    return loaded


def build_pool(all_items: dict[str, list[Item]], per_source: int, seed: int = 0) -> Pool:
    """Answerable items not trained on, a seeded sample of ``per_source`` per source (0: all)."""
    pool = Pool()
    for name, items in all_items.items():
        answerable = [x for x in items if contains(x.context, x.answers)]
        eligible = sorted((x for x in answerable if not x.trained), key=lambda x: x.id)
        pool.excluded[name] = len(answerable) - len(eligible)
        pool.eligible[name] = len(eligible)
        if per_source and len(eligible) > per_source:
            eligible = sorted(random.Random(f"{seed}:{name}").sample(eligible, per_source), key=lambda x: x.id)
        pool.items[name] = eligible
    return pool
