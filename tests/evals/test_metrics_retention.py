"""Oracle retention per task kind, on hand-made contexts."""

import pytest

from evals.data.item import EvalItem
from evals.metrics.retention import (
    code_retention,
    count_retention,
    label_retention,
    paragraph_retention,
    qa_retention,
    retention_kind,
    retention_score,
    unigram_recall,
)


def _item(task: str, context: str, answers: list[str], **kw) -> EvalItem:
    return EvalItem(benchmark="longbench", task=task, id="1", context=context, query=kw.pop("query", None),
                    answers=answers, prefix="", suffix="", max_new_tokens=32, **kw)  # fmt: skip


def test_kinds():
    assert [retention_kind(t) for t in ("hotpotqa_e", "trec", "passage_count", "lcc", "gov_report", "quality")] == [
        "qa", "label", "count", "code", "summary", "quality"]  # fmt: skip


def test_qa_whole_word_match_and_partial_credit():
    assert qa_retention(["The Eiffel Tower"], "We saw the eiffel tower, twice.") == 1.0
    assert qa_retention(["cat"], "concatenate") == 0.0  # whole words only
    assert qa_retention(["red big house"], "a big house") == pytest.approx(2 / 3)
    assert qa_retention(["yes", "unanswerable"], "yes") is None  # uninformative gold answers
    assert qa_retention(["北京"], "首都是北京。", zh=True) == 1.0


def test_triviaqa_counts_its_input_as_context():
    item = _item("triviaqa", "demos only", ["Paris"], query="Passage: Paris is the capital.\nQuestion: ?")
    assert retention_score(item, "demos") == 1.0
    assert retention_score(_item("hotpotqa", "x", ["Paris"]), "demos") == 0.0


def test_label_needs_a_demonstration_with_the_gold_label():
    original = "Question: a ?\nType: Individual\nQuestion: b ?\nType: City\n"
    assert label_retention("trec", "Individual", original, "Question: a ?\nType: Individual\n") == 1.0
    assert label_retention("trec", "Individual", original, "Question: b ?\nType: City\nIndividual") == 0.0
    assert label_retention("lsht", "教育", "无示例", "关于教育") == 1.0  # no demonstration: containment


def test_paragraph_header_exact_number():
    assert paragraph_retention("Paragraph 1", "Paragraph 12: text") == 0.0
    assert paragraph_retention("Paragraph 1", "Paragraph 1: text") == 1.0
    assert paragraph_retention("段落5", "段落5：文字") == 1.0


def test_count_share_of_distinct_paragraphs():
    original = "Paragraph 1: A.\nParagraph 2: B.\nParagraph 3: A.\nParagraph 4: C."
    assert count_retention(original, original) == 1.0
    assert count_retention(original, "Paragraph 1: A.\nParagraph 3: A.") == pytest.approx(1 / 3)
    assert count_retention(original, "Paragraph 2: B.\nParagraph 3: A.") == pytest.approx(2 / 3)


def test_code_identifier_recall():
    original = "def run(config):\n    total = 0\n    helper = 1\n"
    assert code_retention("total += helper", original, original) == 1.0
    assert code_retention("total += helper", original, "total = 0") == 0.5
    assert code_retention("print(x)", original, "") == 1.0  # nothing the context could have kept


def test_summary_unigram_recall_and_quality_option():
    assert unigram_recall("the cat sat", "a cat sat down") == 1.0  # 'the' is dropped by normalisation
    assert unigram_recall("cat cat dog", "cat dog") == pytest.approx(2 / 3)  # clipped counts
    assert unigram_recall("北京", "北方", zh=True) == 0.5
    quality = _item("quality", "", ["B"], query="Why?\n\n (A) red apples\n (B) green pears")
    assert retention_score(quality, "green pears grow") == 1.0
    assert retention_score(quality, "red apples") == 0.0


def test_answer_survives_only_as_whole_words_and_only_when_informative():
    from evals.metrics.retention import answer_survives
    from evals.qa_sets import answer_in

    assert answer_survives(["24"], "The ACC sponsors 24 sports.")
    assert not answer_survives(["24"], "He played from 1921 to 1924.")  # a substring test says yes
    assert not answer_survives(["no"], "Arnold M. Auerbach")  # uninformative, and inside a word
    assert not answer_survives(["Stadio Olimpico in Rome"], "Rome has the Stadio Olimpico")  # words apart
    assert answer_survives(["the Bears"], "He played for the Bears.")
    assert answer_survives(["北京"], "他住在北京。", zh=True)
    assert answer_in("He played from 1921 to 1924.", ["24"]) is False  # the QA sets share the rule
