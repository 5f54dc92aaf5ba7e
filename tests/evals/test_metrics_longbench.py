"""Hand-checked cases for each official LongBench metric, and the regression against the reference scores."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from evals.metrics import longbench as lb

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "longbench"


def test_qa_f1_normalises_punctuation_and_articles():
    # tokens: [eiffel, tower, paris] vs [eiffel, tower] -> P 2/3, R 1, F1 0.8
    assert lb.qa_f1_score("The Eiffel Tower, Paris!", "Eiffel tower") == pytest.approx(0.8)
    assert lb.qa_f1_score("nothing shared", "Eiffel tower") == 0.0


def test_qa_f1_zh_uses_jieba_tokens():
    # 北京/是/中国/的/首都 against 北京: P 1/5, R 1 -> F1 1/3
    assert lb.qa_f1_zh_score("北京是中国的首都。", "北京") == pytest.approx(1 / 3)


def test_rouge_l_f_and_errors_score_zero():
    # LCS 2 of 2 prediction tokens and 4 gold tokens: F = 2 * 1 * 0.5 / 1.5
    assert lb.rouge_score("cat sat", "cat sat on mat") == pytest.approx(2 / 3, abs=1e-6)
    # the package counts the gold's distinct words (5 here, not 6): R = 3/5, F = 0.75
    assert lb.rouge_score("the cat sat", "the cat sat on the mat") == pytest.approx(0.75, abs=1e-6)
    assert lb.rouge_score("", "the cat sat") == 0.0  # the package raises on an empty hypothesis
    assert lb.rouge_score("The Cat", "the cat") == 0.0  # case-sensitive


def test_rouge_zh_segments_before_scoring():
    assert lb.rouge_zh_score("北京是首都", "北京是首都") == pytest.approx(1.0, abs=1e-6)
    assert lb.rouge_zh_score("上海", "北京是首都") == 0.0


def test_classification_keeps_the_reference_skip_quirk():
    classes = ["A", "AB", "ABC", "X"]
    # matches [A, AB, ABC]; removing A skips AB, so [AB, ABC] remain -> 1/2 (a clean filter would give 1)
    assert lb.classification_score("ABC", "ABC", all_classes=classes) == 0.5
    assert lb.classification_score("X", "ABC", all_classes=classes) == 0.0


def test_retrieval_and_count_share_of_numbers():
    assert lb.retrieval_score("Paragraph 3, or maybe Paragraph 5", "Paragraph 3") == 0.5
    assert lb.retrieval_score("no idea", "Paragraph 3") == 0.0
    assert lb.retrieval_zh_score("答案是段落12", "段落12") == 1.0
    assert lb.count_score("There are 7 unique paragraphs out of 10", "7") == 0.5


def test_code_similarity_takes_first_clean_line():
    assert lb.code_sim_score("\n# comment\nx = foo(1)\ny = 2", "x = foo(1)") == 1.0
    assert lb.code_sim_score("```python", "x = 1") == 0.0  # no clean line: empty string


def test_first_line_rule_applies_only_to_its_tasks():
    pred = "\nParis\nQuestion: and then?\nAnswer: London"
    assert lb.score_item("triviaqa", pred, ["Paris"]) == 1.0
    assert lb.score_item("hotpotqa", pred, ["Paris"]) < 1.0
    assert (
        lb.score_item("hotpotqa_e", "Paris", ["London", "Paris"]) == 1.0
    )  # LongBench-E name, max over golds
    assert lb.score_item("hotpotqa", "Paris", []) == 0.0


def test_length_buckets_and_task_score():
    assert [lb.length_bucket(n) for n in (3999, 4000, 7999, 8000)] == ["0-4k", "4-8k", "4-8k", "8k+"]
    assert lb.bucket_scores([1.0, 0.0, 0.5], [100, 5000, 9000]) == {"0-4k": 100.0, "4-8k": 0.0, "8k+": 50.0}
    assert lb.task_score([1 / 3, 0.0]) == 16.67


def _predictions():
    with open(DATA / "example_predictions.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.mark.skipif(not DATA.exists(), reason="shared LongBench data not present")
def test_reproduces_official_scores_of_example_predictions():
    per_task = defaultdict(list)
    for row in _predictions():
        score = lb.score_item(row["dataset"], row["prediction"], row["answers"], row["all_classes"])
        assert score == pytest.approx(row["longbench_score"], abs=1e-6), row["_id"]
        per_task[row["dataset"]].append(score)
    expected = json.loads((DATA / "example_scores.json").read_text())
    assert set(per_task) == set(expected)
    for task, scores in per_task.items():
        assert lb.task_score(scores) == pytest.approx(expected[task]["longbench_score"], abs=0.01), task
