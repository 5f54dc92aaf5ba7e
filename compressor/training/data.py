"""Training examples from ../shared/data: (query, window text, evidence character spans).

Labels: tokens inside evidence sentences are KEEP, all others DROP. Evidence is
- HotpotQA: the supporting-fact sentences (distractor paragraphs are all DROP);
- SQuAD 2.0: the sentence holding the answer (unanswerable questions: all DROP);
- NQ-open: the gold passage's sentences holding an answer, among other questions' passages;
- MuSiQue: sentences holding an answer;
- KV retrieval: the JSON record holding the asked key, among other records (and windows without it).
The answer string's own character spans are returned too: ``compressor.training.labels`` turns both
into token targets (with its refinement inside evidence sentences).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compressor.training.splits import is_dev
from retriever.sentences import sentence_offsets


@dataclass
class Example:
    query: str
    text: str
    evidence: list[tuple[int, int]] = field(default_factory=list)
    answers: list[tuple[int, int]] = field(default_factory=list)
    source: str = ""


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _answer_spans(text: str, answers: list[str]) -> list[tuple[int, int]]:
    spans = []
    for a in answers:
        a = a.strip()
        if len(a) < 2:
            continue
        for m in re.finditer(re.escape(a), text, flags=re.IGNORECASE):
            spans.append((m.start(), m.end()))
    return spans


def _sentences_with(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(s, e) for s, e in sentence_offsets(text) if any(s <= a < e for a, _ in spans)]


def _pack(parts: list[tuple[str, list[tuple[int, int]], list[tuple[int, int]]]]) -> tuple[str, list, list]:
    """Join passages with blank lines, shifting their spans."""
    text, ev, ans = "", [], []
    for body, e, a in parts:
        base = len(text) + (2 if text else 0)
        text = f"{text}\n\n{body}" if text else body
        ev += [(s + base, t + base) for s, t in e]
        ans += [(s + base, t + base) for s, t in a]
    return text, ev, ans


def _header(rng: random.Random, index: int) -> str:
    """Half the passages get the "Passage i:" line that multi-document prompts use (a line to drop)."""
    return f"Passage {index + 1}:\n" if rng.random() < 0.5 else ""


def hotpotqa(data: Path, dev: bool, rng: random.Random) -> Iterator[Example]:
    for r in _rows(data / "hotpotqa" / "distractor.jsonl.gz"):
        if is_dev("hotpotqa", r["_id"]) != dev:
            continue
        support = {(t, i) for t, i in r["supporting_facts"]}
        paras = []
        for n, (title, sents) in enumerate(r["context"]):
            body = f"{_header(rng, n)}{title}\n"
            ev, pos = [], len(body)
            for i, s in enumerate(sents):
                start = pos + (len(s) - len(s.lstrip()))
                body += s
                pos += len(s)
                if (title, i) in support:
                    ev.append((start, pos))
            paras.append((body, ev, _answer_spans(body, [r["answer"]]) if ev else []))
        for k in range(0, len(paras), 3):  # windows of three paragraphs
            yield Example(r["question"], *_pack(paras[k : k + 3]), source="hotpotqa")


def squad(data: Path, dev: bool) -> Iterator[Example]:
    with gzip.open(data / "squad2" / "dev-v2.0.json.gz", "rt", encoding="utf-8") as f:
        articles = json.load(f)["data"]
    for art in articles:
        for para in art["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                if is_dev("squad2", qa["id"]) != dev:
                    continue
                spans = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]]
                yield Example(qa["question"], ctx, _sentences_with(ctx, spans), sorted(set(spans)), "squad2")


def nq(data: Path, dev: bool, rng: random.Random) -> Iterator[Example]:
    rows = _rows(data / "nq" / "nq-open-oracle.jsonl.gz")
    for i, r in enumerate(rows):
        if is_dev("nq", str(i)) != dev:
            continue
        gold = f"{r['ctxs'][0]['title']}\n{r['ctxs'][0]['text']}"
        ans = _answer_spans(gold, r["answers"])
        others = [rows[j]["ctxs"][0] for j in rng.sample(range(len(rows)), 2) if j != i]
        parts = [(gold, _sentences_with(gold, ans), ans)] + [(f"{o['title']}\n{o['text']}", [], []) for o in others]
        rng.shuffle(parts)
        yield Example(r["question"], *_pack(parts), source="nq")


def musique(data: Path, dev: bool, rng: random.Random) -> Iterator[Example]:
    for r in _rows(data / "musique" / "musique_s.jsonl.gz"):
        if is_dev("musique", r["id"]) != dev:
            continue
        paras = []
        for n, c in enumerate(r["ctxs"]):
            body = _header(rng, n) + f"{c.get('title', '')}\n{c['text']}".strip()
            ans = _answer_spans(body, r["answers"])
            paras.append((body, _sentences_with(body, ans), ans))
        for k in range(0, len(paras), 3):
            yield Example(r["question"], *_pack(paras[k : k + 3]), source="musique")


def kv_retrieval(data: Path, dev: bool, rng: random.Random, records: int = 6) -> Iterator[Example]:
    """A window of JSON records with the asked key, and one without it (all DROP)."""
    for name in ("kv-retrieval-75_keys", "kv-retrieval-140_keys"):
        for i, r in enumerate(_rows(data / "kv_retrieval" / f"{name}.jsonl.gz")):
            if is_dev("kv_retrieval", f"{name}:{i}") != dev:
                continue
            pairs, key = r["ordered_kv_records"], r["key"]
            gold = next(j for j, (k, _) in enumerate(pairs) if k == key)
            query = rng.choice([f'Key: "{key}"', f'What is the value of key "{key}"?'])
            lo = max(0, min(gold - rng.randrange(records), len(pairs) - records))
            far = (gold + len(pairs) // 2) % max(1, len(pairs) - records)
            for start, has in ((lo, True), (far, False)):
                window = pairs[start : start + records]
                text, ev = "{\n", []
                for k, v in window:
                    line = f'  "{k}": "{v}",\n'
                    if k == key:
                        ev.append((len(text), len(text) + len(line) - 2))
                    text += line
                if has == bool(ev):
                    yield Example(query, text + "}", ev, _answer_spans(text, [r["value"]]), "kv_retrieval")


#: examples kept per source: SQuAD (single paragraphs, half unanswerable) would otherwise be over half the data
CAPS = {"squad2": 1500}


def build(data: Path, *, dev: bool = False, seed: int = 0, limit_per_set: int = 0) -> list[Example]:
    """All training (or dev) examples, each source capped (``CAPS``, ``limit_per_set``), shuffled with ``seed``."""
    rng = random.Random(seed)
    sets = [list(hotpotqa(data, dev, rng)), list(squad(data, dev)), list(nq(data, dev, rng)),
            list(musique(data, dev, rng)),
            list(kv_retrieval(data, dev, rng))]
    out = []
    for items in sets:
        rng.shuffle(items)
        caps = [c for c in (limit_per_set, CAPS.get(items[0].source, 0) if items else 0) if c]
        out.extend(items[: min(caps)] if caps else items)
    rng.shuffle(out)
    return out
