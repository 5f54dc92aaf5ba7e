"""Oracle retention: does the compressed context still hold what the gold answer needs?

A reader-free score in [0, 1] (or None when an item's gold answer says nothing about the context), chosen
per task so that an uncompressed context scores (near) 1:

- ``qa``: 1 when a gold answer survives as a normalised, whole-word substring (Chinese: plain substring
  after LongBench's Chinese normalisation); otherwise partial credit for abstractive answers: the share
  of the answer's distinct content words (Chinese: characters) still present. Gold answers "yes", "no",
  "unanswerable" are uninformative: None. TriviaQA's evidence passage sits in its (uncompressed) input,
  so the input counts as context there. Comparison questions name their answer; containment then says
  little: the known weakness of answer-survival measures.
- ``label`` (trec, lsht): a demonstration with the gold label (``Type: <label>`` / ``类别：<label>``)
  survives; plain substring containment when the original has no such demonstration.
- ``paragraph`` (passage_retrieval_en/zh): the gold paragraph's header (``Paragraph N`` / ``段落N``) survives.
- ``count`` (passage_count): the share of the original's distinct paragraphs whose header survives.
- ``code`` (lcc, repobench-p): the share of the next line's identifiers (those the original context
  defines or uses) still present.
- ``summary`` (summaries, DuReader, QuALITY options, the rest): ROUGE-1 recall of the gold (clipped
  unigram counts of normalised words; Chinese: characters) against the compressed context. Recall of
  unigrams, not ROUGE-L, because LCS over whole contexts is quadratic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from evals.data.item import EvalItem
from evals.metrics.longbench import base_task
from evals.metrics.normalize import normalize_answer, normalize_zh_answer

_KINDS = {
    "trec": "label", "lsht": "label", "passage_retrieval_en": "paragraph", "passage_retrieval_zh": "paragraph",
    "passage_count": "count", "lcc": "code", "repobench-p": "code",
    "narrativeqa": "qa", "qasper": "qa", "multifieldqa_en": "qa", "multifieldqa_zh": "qa", "hotpotqa": "qa",
    "2wikimqa": "qa", "musique": "qa", "triviaqa": "qa", "narrative_qa": "qa", "quality": "quality",
}  # fmt: skip
_DEMO_PREFIX = {"trec": "Type: ", "lsht": "类别："}
_UNINFORMATIVE = frozenset({"yes", "no", "unanswerable"})
# Function words ignored by the partial-credit rule (articles are already gone after normalisation).
_STOPWORDS = frozenset(
    [
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "not",
        "no",
        "he",
        "she",
        "they",
        "his",
        "her",
        "their",
        "we",
        "you",
        "i",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "than",
        "then",
        "there",
        "also",
    ]
)
_PARAGRAPH = re.compile(r"(?:Paragraph |段落)(\d+)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")


def retention_kind(task: str) -> str:
    """Which retention rule a task uses (see the module docstring)."""
    return _KINDS.get(base_task(task), "summary")


def _is_zh(item: EvalItem) -> bool:
    return item.language == "zh"


def _answer_survival(gold: str, text: str, zh: bool) -> float:
    """1 for a whole (normalised) match, else the share of the gold's distinct content units present."""
    if zh:
        return 1.0 if gold in text else len(set(gold) & set(text)) / len(set(gold))
    if f" {gold} " in text:
        return 1.0
    words = set(gold.split()) - _STOPWORDS
    return len(words & set(text.split())) / len(words) if words else 0.0


def _informative(answers: list[str], zh: bool) -> tuple[list[str], Callable[[str], str]]:
    """The normalised gold answers that say something about the context, and the normaliser."""
    norm = normalize_zh_answer if zh else normalize_answer
    return [g for g in (norm(a) for a in answers) if g and g not in _UNINFORMATIVE], norm


def qa_retention(answers: list[str], context: str, zh: bool = False) -> float | None:
    """Best survival of an informative gold answer in ``context``; None when no gold answer is informative."""
    golds, norm = _informative(answers, zh)
    if not golds:
        return None
    text = norm(context) if zh else f" {norm(context)} "
    return max(_answer_survival(g, text, zh) for g in golds)


def answer_survives(answers: list[str], context: str, zh: bool = False) -> bool:
    """Whether an informative gold answer occurs in ``context`` whole: as normalised whole words (Chinese:
    as a substring). Stricter than ``qa_retention``'s 1.0, which also gives full credit when the answer's
    content words all occur apart; a plain substring test would find "24" in "1924" and "no" in "Arnold"."""
    golds, norm = _informative(answers, zh)
    text = norm(context) if zh else f" {norm(context)} "
    return any((g in text) if zh else (f" {g} " in text) for g in golds)


def label_retention(task: str, label: str, original: str, context: str) -> float:
    """1 when a demonstration carrying the gold label survives (plain containment as a fallback)."""
    demo = re.compile(re.escape(_DEMO_PREFIX.get(base_task(task), "") + label) + r"[ \t]*(?:\n|$)")
    if demo.search(original):
        return float(bool(demo.search(context)))
    return float(label in context)


def paragraph_retention(answer: str, context: str) -> float:
    """1 when the gold paragraph's header survives."""
    match = _PARAGRAPH.search(answer)
    if match is None:
        return float(answer in context)
    header = answer[: match.end()]
    return float(re.search(re.escape(header) + r"(?!\d)", context) is not None)


def _paragraphs(text: str) -> dict[str, str]:
    """Paragraph header -> body, for ``Paragraph N: ...`` layouts."""
    parts = re.split(r"(Paragraph \d+:)", text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def count_retention(original: str, context: str) -> float:
    """Share of the original's distinct paragraph bodies whose header survives."""
    bodies = _paragraphs(original)
    distinct = set(bodies.values())
    if not distinct:
        return 1.0
    kept = {body for header, body in bodies.items() if header in context}
    return len(kept) / len(distinct)


def code_retention(answer: str, original: str, context: str) -> float:
    """Share of the gold line's identifiers (present in the original) that are still present."""
    needed = set(_IDENT.findall(answer)) & set(_IDENT.findall(original))
    if not needed:
        return 1.0
    return len(needed & set(_IDENT.findall(context))) / len(needed)


def _units(text: str, zh: bool) -> list[str]:
    return list(normalize_zh_answer(text)) if zh else normalize_answer(text).split()


def unigram_recall(reference: str, context: str, zh: bool = False) -> float:
    """ROUGE-1 recall of ``reference`` against ``context`` with clipped counts (0 for an empty reference)."""
    ref = Counter(_units(reference, zh))
    if not ref:
        return 0.0
    return sum((ref & Counter(_units(context, zh))).values()) / sum(ref.values())


def _quality_option(item: EvalItem) -> str:
    """QuALITY: the text of the gold option, read from the question's ``(A) ...`` lines."""
    letter = (item.answers[0].strip()[:1] if item.answers else "").upper()
    match = re.search(rf"\({letter}\)\s*(.+)", item.query or "")
    return match.group(1) if match else ""


def retention_score(item: EvalItem, context: str) -> float | None:
    """Oracle retention of ``item``'s gold answer in ``context`` (the compressed context), per task kind."""
    kind, zh = retention_kind(item.task), _is_zh(item)
    answers = item.answers
    if kind == "qa":
        visible = f"{context}\n{item.query}" if base_task(item.task) == "triviaqa" else context
        return qa_retention(answers, visible, zh)
    if not answers:
        return None
    if kind == "label":
        return max(label_retention(item.task, a, item.context, context) for a in answers)
    if kind == "paragraph":
        return max(paragraph_retention(a, context) for a in answers)
    if kind == "count":
        return count_retention(item.context, context)
    if kind == "code":
        return max(code_retention(a, item.context, context) for a in answers)
    if kind == "quality":
        return unigram_recall(_quality_option(item), context)
    return max(unigram_recall(a, context, zh) for a in answers)
