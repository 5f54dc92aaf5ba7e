"""Window planning: full coverage, sentence-start cuts, overlaps owned once."""

from itertools import pairwise

import numpy as np

from compressor.inference.plan import assign, break_tokens, plan_windows


def test_windows_cover_everything_and_respect_the_size():
    for n, size, stride in [(1, 8, 0), (100, 8, 0), (100, 30, 10), (257, 64, 16)]:
        windows = plan_windows(n, size, stride=stride)
        assert windows[0][0] == 0 and windows[-1][1] == n
        assert all(0 < e - s <= size for s, e in windows)
        assert all(b[0] <= a[1] for a, b in pairwise(windows))  # no gap
        owned = assign(windows, n)
        covered = np.concatenate([np.arange(lo, hi) for lo, hi in owned])
        np.testing.assert_array_equal(covered, np.arange(n))  # every token owned exactly once


def test_cuts_prefer_a_sentence_start_in_the_second_half():
    windows = plan_windows(100, 40, breaks=np.array([10, 35, 70]))
    assert windows[0] == (0, 35) and windows[1] == (35, 70)
    # a break in the first half only: hard cut at the size
    assert plan_windows(100, 40, breaks=np.array([5]))[0] == (0, 40)


def test_empty_input_is_one_empty_window():
    assert plan_windows(0, 16) == [(0, 0)]


def test_break_tokens_found_after_sentence_ends_and_newlines():
    text = "One two. Three\nfour five"
    starts = np.array([0, 4, 9, 15, 20])  # One, two., Three, four, five
    np.testing.assert_array_equal(break_tokens(text, starts), [2, 3])
