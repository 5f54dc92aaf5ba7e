"""Hand-checked cases for the ZeroSCROLLS metrics."""

import pytest

from evals.metrics import zeroscrolls as zs


def test_rouge_components_stem_and_score():
    assert zs.rouge_components("the cat sat on the mat", "the cat sat on the mat") == pytest.approx((1, 1, 1))
    r1, r2, rl = zs.rouge_components("cats sitting", "cat sit")  # Porter stemming makes them equal
    assert (r1, r2, rl) == pytest.approx((1, 1, 1))
    assert zs.rouge_components("dog", "cat") == (0.0, 0.0, 0.0)


def test_rouge_task_score_is_geometric_mean_of_means():
    comps = [[0.8, 0.2, 0.5], [0.2, 0.8, 0.5]]
    assert zs.task_score("gov_report", comps) == 50.0  # gm of means (0.5, 0.5, 0.5)
    per_item = sum(zs.geometric_mean(c) for c in comps) / 2
    assert per_item == pytest.approx(0.4309, abs=1e-4)  # the other (wrong) aggregation differs


def test_f1_transliterates_and_takes_max_over_references():
    assert zs.f1("Café Müller", "cafe muller") == 1.0
    assert zs.score_item("qasper", "the cat", ["dog", "a cat"]) == 1.0


def test_quality_accuracy_first_standalone_letter():
    assert zs.accuracy("The answer is (C).", "C") == 1.0
    assert zs.accuracy("A good guess is B", "B") == 0.0  # "A" comes first
    assert zs.accuracy("none", "C") == 0.0


def test_space_digest_exponential_similarity():
    assert zs.exp_similarity("about 40%", "50.0%") == 0.5
    assert zs.exp_similarity("42.5% of reviews", "42.5%") == 1.0
    assert zs.exp_similarity("forty percent", "50%") == 0.0


def test_book_sum_sort_concordance_index():
    assert zs.concordance_index("1, 2, 3", "1, 2, 3") == 1.0
    assert zs.concordance_index("3, 1, 2", "1, 2, 3") == pytest.approx(1 / 3)
    assert zs.concordance_index("3, 2, 1", "1, 2, 3") == 0.0
    assert zs.concordance_index("1, 2", "1, 2, 3") == 0.0  # not a permutation
    assert zs.concordance_index("Order: 2, 1, 3.", "1, 2, 3") == pytest.approx(2 / 3)


def test_aggregate_is_plain_average():
    assert zs.aggregate_score({"quality": 50.0, "qasper": 20.0}) == 35.0
    assert zs.task_score("quality", [[1.0], [0.0], [1.0]]) == 66.67
