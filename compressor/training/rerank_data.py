"""Training groups for the sentence reranker: (query, positive, hard negatives), from three sources.

- ``supervised``: a question with an evidence sentence of its context (answer sentences first), from the
  training split's examples (``compressor.training.data``: HotpotQA supporting facts, SQuAD 2.0, NQ-open,
  MuSiQue answer sentences).
- ``cloze``: inverse cloze from the same training contexts, no labels needed: a sentence with one of its
  entities or numbers masked is a pseudo-question, and the sentence itself (under its title) is the
  positive among the other sentences of its context.
- ``chains``: multi-hop chains from HotpotQA's supporting facts: the question plus a hop-1 evidence
  sentence is the query, and an evidence sentence of the other supporting passage is the positive.

Negatives of every source are mined with the current retriever: the best-ranked non-evidence sentences
of the same context by the shipped hybrid relevance (``retriever.hybrid.HybridScorer``), topped up at
random. Sentences are the chunker's units read under their section titles, as at inference. Dev items
(``compressor.training.splits``) are never used, so the protocol's held-out items stay unseen.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compressor.training.data import Example, _rows
from compressor.training.splits import is_dev
from compressor.training.units import MIN_WORDS, units_of
from retriever.sections import titled

SOURCES = ("supervised", "cloze", "chains")
#: negatives per group: the best-ranked non-evidence sentences first, then random ones
HARD, RANDOM = 5, 2
#: a maskable span: a run of capitalised words not at the sentence start, or a number of 2+ digits
_ENTITY = re.compile(r"(?<=\s)(?:[A-Z][\w'’.-]*(?:\s+(?:of|the|de|von|and)?\s*[A-Z][\w'’.-]*)*)|\b\d[\d,.]*\d\b")
MASK = "what"


@dataclass(frozen=True)
class Group:
    """One listwise training group: ``texts[0]`` is the positive."""

    source: str
    query: str
    texts: tuple[str, ...]
    origin: str = ""  # the dataset it came from


Ranker = Callable[[list[str], str], np.ndarray]


def negatives(rank: Ranker, query: str, texts: list[str], allowed: list[int], rng: random.Random) -> list[str]:
    """``HARD`` of the ``allowed`` texts ranked best for ``query``, then ``RANDOM`` others at random."""
    if not allowed:
        return []
    scores = rank([texts[i] for i in allowed], query)
    order = [allowed[i] for i in np.argsort(-scores, kind="stable")]
    hard, rest = order[:HARD], order[HARD:]
    return [texts[i] for i in hard + rng.sample(rest, min(RANDOM, len(rest)))]


def supervised(examples: list[Example], rank: Ranker, rng: random.Random) -> Iterator[Group]:
    for ex in examples:
        if not ex.query or not ex.evidence or ex.source == "kv_retrieval":
            continue
        u = units_of(ex)
        pos = [i for i, a in enumerate(u.answer) if a and u.evidence[i]] or [i for i, e in enumerate(u.evidence) if e]
        others = [i for i, e in enumerate(u.evidence) if not e]
        if pos and len(others) >= 2:
            yield Group("supervised", ex.query, (u.texts[pos[0]], *negatives(rank, ex.query, u.texts, others, rng)),
                        ex.source)


def cloze_query(sentence: str, rng: random.Random) -> str | None:
    """``sentence`` (its title dropped) with one entity or number replaced by ``MASK``; None without one."""
    body = sentence.split(": ", 1)[-1]
    spans = [m.span() for m in _ENTITY.finditer(body) if len(m.group().strip()) > 1]
    if not spans:
        return None
    s, e = rng.choice(spans)
    return f"{body[:s]}{MASK}{body[e:]}".strip()


def cloze(examples: list[Example], rank: Ranker, rng: random.Random, per_context: int = 1) -> Iterator[Group]:
    for ex in examples:
        if ex.source == "kv_retrieval":
            continue
        u = units_of(ex)
        if len(u.texts) < 3:
            continue
        for i in rng.sample(range(len(u.texts)), min(per_context, len(u.texts))):
            if len(u.texts[i].split()) > 80:  # a long MuSiQue piece: too easy to match on its own words
                continue
            query = cloze_query(u.texts[i], rng)
            if query:
                others = [k for k in range(len(u.texts)) if k != i]
                yield Group("cloze", query, (u.texts[i], *negatives(rank, query, u.texts, others, rng)), ex.source)


def chains(data: Path, rank: Ranker, rng: random.Random, dev: bool = False) -> Iterator[Group]:
    """HotpotQA: (question + a hop-1 supporting sentence) -> a supporting sentence of the other passage."""
    for r in _rows(data / "hotpotqa" / "distractor.jsonl.gz"):
        if is_dev("hotpotqa", r["_id"]) != dev:
            continue
        facts = {(t, i) for t, i in r["supporting_facts"]}
        sents = {t: [s.strip() for s in ss] for t, ss in r["context"]}
        texts, owner, support = [], [], []
        for t, ss in sents.items():
            for i, s in enumerate(ss):
                if len(s.split()) >= MIN_WORDS:
                    texts.append(titled(t, s))
                    owner.append(t)
                    support.append((t, i) in facts)
        titles = sorted({owner[k] for k in range(len(texts)) if support[k]})
        if len(titles) != 2:
            continue
        answer = r["answer"].lower()
        first, second = sorted(titles, key=lambda t: any(answer in texts[k].lower() for k in range(len(texts))
                                                           if owner[k] == t and support[k]))
        hop = next(texts[k] for k in range(len(texts)) if owner[k] == first and support[k])
        pos = sorted((k for k in range(len(texts)) if owner[k] == second and support[k]),
                     key=lambda k: answer not in texts[k].lower())
        query = f"{r['question']} {hop}"
        others = [k for k in range(len(texts)) if not support[k]]
        if pos and len(others) >= 2:
            yield Group("chains", query, (texts[pos[0]], *negatives(rank, query, texts, others, rng)), "hotpotqa")


def hybrid_ranker() -> Ranker:
    """The shipped hybrid relevance (retriever cosine + BM25) as the pipeline ranks a long input's
    sentences: with the fast retriever, int8 (several times faster to mine with than the full one)."""
    from compressor.methods.condenser import CASCADE_EMBEDDER, DENSE_WEIGHT, _embedder
    from retriever.hybrid import HybridScorer

    scorer = HybridScorer(_embedder(CASCADE_EMBEDDER, int8=True), dense_weight=DENSE_WEIGHT)
    return lambda texts, query: scorer.scores(texts, query)


def build_groups(data: Path, sources: tuple[str, ...], examples: list[Example], rank: Ranker | None = None,
                 seed: int = 0, dev: bool = False) -> list[Group]:
    """Every group of ``sources`` from ``examples`` (and HotpotQA for ``chains``), seeded."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown source(s) {sorted(unknown)}; choose among {', '.join(SOURCES)}")
    rank = rank or hybrid_ranker()
    out: list[Group] = []
    for name in sources:
        rng = random.Random(f"{seed}:{name}")
        if name == "supervised":
            out += supervised(examples, rank, rng)
        elif name == "cloze":
            out += cloze(examples, rank, rng)
        else:
            out += chains(data, rank, rng, dev)
    return out
