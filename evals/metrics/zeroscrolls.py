"""The ZeroSCROLLS metrics, reimplemented from the paper and the public metric files.

``../shared/reference/zeroscrolls/METRICS.md`` describes each. Item scores are in [0, 1]; task scores
are 100 x the mean, except the ROUGE tasks, whose task score is the geometric mean of the *averaged*
ROUGE-1/2/L F-measures (the SCROLLS way), not the mean of per-item geometric means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import combinations

from evals.metrics.longbench import token_f1
from evals.metrics.normalize import normalize_zeroscrolls

ROUGE_TASKS = frozenset({"gov_report", "summ_screen_fd", "qmsum", "squality"})
F1_TASKS = frozenset({"qasper", "narrative_qa", "musique"})
TASKS = (
    "gov_report", "summ_screen_fd", "qmsum", "squality", "qasper", "narrative_qa",
    "quality", "musique", "space_digest", "book_sum_sort",
)  # fmt: skip
_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


@lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer  # Google's package, as ZeroSCROLLS uses

    return rouge_scorer.RougeScorer(list(_ROUGE_TYPES), use_stemmer=True)


def rouge_components(prediction: str, reference: str) -> tuple[float, float, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measures (stemmed; L is plain LCS, not Lsum), each in [0, 1]."""
    scores = _scorer().score(reference, prediction)
    return tuple(float(scores[t].fmeasure) for t in _ROUGE_TYPES)  # type: ignore[return-value]


def geometric_mean(values: Sequence[float]) -> float:
    """Geometric mean; 0 when any value is 0."""
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 after ZeroSCROLLS normalisation (SQuAD rules + unidecode)."""
    return token_f1(normalize_zeroscrolls(prediction).split(), normalize_zeroscrolls(reference).split())


_LETTER = re.compile(r"\b[A-D]\b")


def accuracy(prediction: str, reference: str) -> float:
    """QuALITY: the first standalone capital letter A-D of the prediction equals the gold one."""
    pred, gold = _LETTER.search(prediction), _LETTER.search(reference)
    return float(pred is not None and gold is not None and pred.group() == gold.group())


_PERCENT = re.compile(r"\d+\.?\d*%")


def exp_similarity(prediction: str, reference: str) -> float:
    """SpaceDigest: 0.5 ** (|pred% - gold%| / 10) on the first percentage of each; 0 when none."""
    pred, gold = _PERCENT.search(prediction), _PERCENT.search(reference)
    if pred is None or gold is None:
        return 0.0
    return 0.5 ** (abs(float(pred.group()[:-1]) - float(gold.group()[:-1])) / 10)


def _int_list(text: str) -> list[int] | None:
    kept = re.sub(r"[^0-9, ]", "", text)
    try:
        return [int(x) for x in kept.split(",")]
    except ValueError:
        return None


def concordance_index(prediction: str, reference: str) -> float:
    """BookSumSort: concordance index of the predicted order against the gold order.

    0 unless the prediction is a permutation of the gold list. Without censoring or ties, lifelines'
    ``concordance_index`` is the share of pairs that both orders rank the same way, computed here directly.
    """
    gold, pred = _int_list(reference), _int_list(prediction)
    if gold is None or pred is None or sorted(gold) != sorted(pred) or len(set(gold)) != len(gold):
        return 0.0
    if len(gold) < 2:
        return 1.0
    position = {value: i for i, value in enumerate(pred)}
    pairs = list(combinations(range(len(gold)), 2))
    return sum(position[gold[i]] < position[gold[j]] for i, j in pairs) / len(pairs)


_SCALAR = {"quality": accuracy, "space_digest": exp_similarity, "book_sum_sort": concordance_index}


def item_components(task: str, prediction: str, references: Iterable[str]) -> list[float]:
    """The per-item numbers a task aggregates: [R1, R2, RL] for ROUGE tasks, else [score].

    With several references, the reference giving the best item score is used (max over gold answers).
    """
    best: list[float] = [0.0, 0.0, 0.0] if task in ROUGE_TASKS else [0.0]
    for ref in references:
        if task in ROUGE_TASKS:
            cand = list(rouge_components(prediction, ref))
            best = cand if geometric_mean(cand) >= geometric_mean(best) else best
        else:
            metric = f1 if task in F1_TASKS else _SCALAR[task]
            best = [max(best[0], metric(prediction, ref))]
    return best


def score_item(task: str, prediction: str, references: Iterable[str]) -> float:
    """One item's score in [0, 1] (for ROUGE tasks: the geometric mean of its three F-measures)."""
    comps = item_components(task, prediction, references)
    return geometric_mean(comps) if task in ROUGE_TASKS else comps[0]


def task_score(task: str, components: Sequence[Sequence[float]]) -> float:
    """Official task score (x100, 2 decimals) from the per-item components of ``item_components``."""
    if not components:
        return 0.0
    means = [sum(c[k] for c in components) / len(components) for k in range(len(components[0]))]
    value = geometric_mean(means) if task in ROUGE_TASKS else means[0]
    return round(100 * value, 2)


def aggregate_score(task_scores: Mapping[str, float]) -> float:
    """Benchmark score: the plain average of the task scores (officially over all ten tasks)."""
    return round(sum(task_scores.values()) / len(task_scores), 2) if task_scores else 0.0
