"""Training examples from ../shared/data: evidence spans point at the right text; dev kept apart."""

from pathlib import Path

import pytest

from compressor.training import data as d
from compressor.training.splits import is_dev

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not (DATA / "hotpotqa").is_dir(), reason="../shared/data not present")


def test_hotpotqa_evidence_is_supporting_sentences_and_dev_is_excluded():
    import random

    train = list(d.hotpotqa(DATA, dev=False, rng=random.Random(0)))
    dev = list(d.hotpotqa(DATA, dev=True, rng=random.Random(0)))
    assert train and dev and not {e.query for e in dev} & {e.query for e in train}
    with_ev = [e for e in train if e.evidence]
    assert len(with_ev) > 100
    for ex in with_ev[:50]:
        for s, e in ex.evidence:
            assert ex.text[s:e].strip() and "\n\n" not in ex.text[s:e]


def test_kv_retrieval_evidence_is_the_asked_record():
    import random

    examples = list(d.kv_retrieval(DATA, dev=False, rng=random.Random(0)))
    positives = [e for e in examples if e.evidence]
    assert positives and len(positives) == len(examples) - len(positives)
    for ex in positives[:20]:
        (s, e), = ex.evidence
        key = ex.query.split('"')[1]
        assert ex.text[s:e].strip().startswith(f'"{key}"')
    assert all(key_absent(e) for e in examples if not e.evidence)


def key_absent(ex):
    return ex.query.split('"')[1] not in ex.text


def test_squad_unanswerable_questions_have_no_evidence():
    examples = list(d.squad(DATA, dev=False))
    assert any(not e.evidence for e in examples) and any(e.evidence for e in examples)
    for ex in [e for e in examples if e.answers][:50]:
        assert all(any(s <= a < t for s, t in ex.evidence) for a, _ in ex.answers)


def test_musique_dev_ids_follow_the_shared_split():
    import gzip
    import json
    import random

    with gzip.open(DATA / "musique" / "musique_s.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    dev_questions = {r["question"] for r in rows if is_dev("musique", r["id"])}
    assert dev_questions and not dev_questions & {e.query for e in d.musique(DATA, dev=False, rng=random.Random(0))}
