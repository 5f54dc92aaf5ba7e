"""The official LongBench metrics (THUDM/LongBench ``metrics.py`` + ``eval.py``), reimplemented.

Every quirk of the reference is kept on purpose, so item scores match the published ones to 1e-6:
the first-line rule for four few-shot tasks, the in-loop list removal in classification, ROUGE errors
scoring 0. ``../shared/reference/longbench/METRICS.md`` describes each rule in words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from evals.metrics.normalize import jieba_cut, normalize_answer, normalize_zh_answer

Metric = Callable[..., float]

# eval.py cuts these few-shot tasks' predictions to their first line before scoring.
FIRST_LINE_TASKS = frozenset({"trec", "triviaqa", "samsum", "lsht"})

# LongBench-E length buckets (the item's ``length`` field: words for English, characters for Chinese).
LENGTH_BUCKETS = ("0-4k", "4-8k", "8k+")


def token_f1(prediction: Sequence[str], ground_truth: Sequence[str]) -> float:
    """Multiset token-overlap F1; 0 when nothing overlaps."""
    num_same = sum((Counter(prediction) & Counter(ground_truth)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction)
    recall = num_same / len(ground_truth)
    return 2 * precision * recall / (precision + recall)


def qa_f1_score(prediction: str, ground_truth: str, **_: object) -> float:
    """English QA F1 over SQuAD-normalised whitespace tokens."""
    return token_f1(normalize_answer(prediction).split(), normalize_answer(ground_truth).split())


def _zh_tokens(text: str) -> list[str]:
    tokens = (normalize_zh_answer(tok) for tok in jieba_cut(text))
    return [tok for tok in tokens if tok]


def qa_f1_zh_score(prediction: str, ground_truth: str, **_: object) -> float:
    """Chinese QA F1 over jieba tokens, each normalised; empty tokens dropped."""
    return token_f1(_zh_tokens(prediction), _zh_tokens(ground_truth))


@lru_cache(maxsize=1)
def _rouge():
    from rouge import Rouge  # pltrdy/rouge 1.0.1, as the official scorer

    return Rouge()


def rouge_score(prediction: str, ground_truth: str, **_: object) -> float:
    """ROUGE-L F of the ``rouge`` 1.0.1 package (summary-level LCS, sentences split on '.').

    Any error (empty prediction, RecursionError on very long sentences) scores 0, as in the reference.
    """
    try:
        scores = _rouge().get_scores([prediction], [ground_truth], avg=True)
    except Exception:  # noqa: BLE001 - the reference swallows every error the same way
        return 0.0
    return float(scores["rouge-l"]["f"])


def rouge_zh_score(prediction: str, ground_truth: str, **_: object) -> float:
    """Chinese ROUGE-L: both strings segmented with jieba and re-joined with spaces first."""
    return rouge_score(" ".join(jieba_cut(prediction)), " ".join(jieba_cut(ground_truth)))


def classification_score(
    prediction: str, ground_truth: str, *, all_classes: Sequence[str], **_: object
) -> float:
    """1/len(matches) when the gold label is among the class names found in the prediction, else 0.

    A match that is a proper substring of the gold label is dropped; like the reference, the removal
    happens while iterating, so the element right after a removed one is skipped (not examined).
    """
    matches = [name for name in all_classes if name in prediction]
    for term in matches:  # mutating while iterating: the reference behaviour
        if term in ground_truth and term != ground_truth:
            matches.remove(term)
    return 1.0 / len(matches) if ground_truth in matches else 0.0


def _share_equal(numbers: list[str], target: str) -> float:
    return 0.0 if not numbers else sum(n == target for n in numbers) / len(numbers)


def retrieval_score(prediction: str, ground_truth: str, **_: object) -> float:
    """Share of the numbers in the prediction equal to the gold paragraph id (``Paragraph N``)."""
    gold_id = re.findall(r"Paragraph (\d+)", ground_truth)[0]
    return _share_equal(re.findall(r"\d+", prediction), gold_id)


def retrieval_zh_score(prediction: str, ground_truth: str, **_: object) -> float:
    """Chinese retrieval: the gold id follows ``段落``."""
    gold_id = re.findall(r"段落(\d+)", ground_truth)[0]
    return _share_equal(re.findall(r"\d+", prediction), gold_id)


def count_score(prediction: str, ground_truth: str, **_: object) -> float:
    """Share of the numbers in the prediction equal to the gold count."""
    return _share_equal(re.findall(r"\d+", prediction), str(ground_truth))


def code_sim_score(prediction: str, ground_truth: str, **_: object) -> float:
    """fuzzywuzzy ratio / 100 between the gold line and the first prediction line free of `, # and //."""
    from fuzzywuzzy import fuzz

    line = next(
        (
            ln
            for ln in prediction.lstrip("\n").split("\n")
            if "`" not in ln and "#" not in ln and "//" not in ln
        ),
        "",
    )
    return fuzz.ratio(line, ground_truth) / 100


TASK_METRICS: dict[str, Metric] = {
    "narrativeqa": qa_f1_score,
    "qasper": qa_f1_score,
    "multifieldqa_en": qa_f1_score,
    "multifieldqa_zh": qa_f1_zh_score,
    "hotpotqa": qa_f1_score,
    "2wikimqa": qa_f1_score,
    "musique": qa_f1_score,
    "dureader": rouge_zh_score,
    "gov_report": rouge_score,
    "qmsum": rouge_score,
    "multi_news": rouge_score,
    "vcsum": rouge_zh_score,
    "trec": classification_score,
    "triviaqa": qa_f1_score,
    "samsum": rouge_score,
    "lsht": classification_score,
    "passage_retrieval_en": retrieval_score,
    "passage_count": count_score,
    "passage_retrieval_zh": retrieval_zh_score,
    "lcc": code_sim_score,
    "repobench-p": code_sim_score,
}
TASKS = tuple(TASK_METRICS)
# LongBench-E covers these 13 tasks (``<task>_e`` in the hub dataset).
LONGBENCH_E_TASKS = (
    "qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "gov_report", "multi_news", "trec",
    "triviaqa", "samsum", "passage_count", "passage_retrieval_en", "lcc", "repobench-p",
)  # fmt: skip


def base_task(task: str) -> str:
    """Strip LongBench-E's ``_e`` suffix: ``hotpotqa_e`` -> ``hotpotqa``."""
    return task[:-2] if task.endswith("_e") and task[:-2] in TASK_METRICS else task


def first_line(prediction: str) -> str:
    """eval.py's rule: strip leading newlines, keep up to the next newline."""
    return prediction.lstrip("\n").split("\n")[0]


def score_item(
    task: str, prediction: str, answers: Iterable[str], all_classes: Sequence[str] | None = None
) -> float:
    """Official LongBench item score in [0, 1]: max of the task metric over the gold answers (0 if none)."""
    task = base_task(task)
    metric = TASK_METRICS[task]
    if task in FIRST_LINE_TASKS:
        prediction = first_line(prediction)
    score = 0.0
    for answer in answers:
        score = max(score, metric(prediction, answer, all_classes=all_classes or []))
    return score


def task_score(item_scores: Sequence[float]) -> float:
    """Task score as eval.py reports it: 100 x mean, rounded to 2 decimals (0 for no items)."""
    return round(100 * sum(item_scores) / len(item_scores), 2) if item_scores else 0.0


def length_bucket(length: int) -> str:
    """LongBench-E bucket of an item's ``length``: under 4000, under 8000, the rest."""
    return "0-4k" if length < 4000 else "4-8k" if length < 8000 else "8k+"


def bucket_scores(item_scores: Sequence[float], lengths: Sequence[int]) -> dict[str, float]:
    """LongBench-E per-bucket task scores (NaN-free: an empty bucket is omitted)."""
    groups: dict[str, list[float]] = {b: [] for b in LENGTH_BUCKETS}
    for score, length in zip(item_scores, lengths, strict=True):
        groups[length_bucket(length)].append(score)
    return {b: task_score(s) for b, s in groups.items() if s}
