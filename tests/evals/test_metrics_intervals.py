"""Intervals and paired tests of small-sample recalls, against hand-checked values."""

import pytest

from evals.embedded_model_eval import Cell, significance
from evals.metrics.intervals import paired, wilson


def test_wilson_interval_of_17_of_20():
    lo, hi = wilson(17, 20)
    assert lo == pytest.approx(63.96, abs=0.01) and hi == pytest.approx(94.76, abs=0.01)


def test_wilson_interval_narrows_with_more_items_and_stays_in_range():
    small, large = wilson(17, 20), wilson(170, 200)
    assert large[1] - large[0] < small[1] - small[0]
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 100.0
    assert wilson(0, 0) == (0.0, 100.0)


def test_paired_counts_only_disagreements():
    test = paired([True] * 10 + [False] * 2 + [True] * 5, [False] * 10 + [True] * 2 + [True] * 5)
    assert (test.wins, test.losses) == (10, 2)
    assert test.p == pytest.approx(0.0386, abs=1e-4)  # 2 * P(X <= 2), X ~ Bin(12, 0.5)
    assert paired([True, False], [True, False]).p == 1.0


def test_paired_rejects_outcomes_of_different_items():
    with pytest.raises(ValueError, match="length"):
        paired([True], [True, False])


def test_significance_compares_with_the_best_baseline_of_each_cell():
    cells = {
        "truncate": {"set": [Cell([True, False, False, False], 0.0), Cell([True, True, True, False], 0.0)]},
        "bm25": {"set": [Cell([False, True, False, False], 0.0), Cell([True, False, False, False], 0.0)]},
        "pipeline": {"set": [Cell([True, True, True, False], 0.1), Cell([True, True, True, False], 0.1)]},
    }
    lines = significance([3, 5], cells, "pipeline").splitlines()
    assert lines[2].startswith("| set 3x | 75.0 |")
    assert "truncate 25.0 | +50.0 | 2 / 0 |" in lines[2]  # truncate ties BM25 at 25.0: the first is kept
    assert "truncate 75.0 | +0.0 | 0 / 0 | 1.000 |" in lines[3]
