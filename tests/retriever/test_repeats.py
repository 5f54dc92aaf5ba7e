"""Repeated text: what the fit cuts out of a span because a kept one says it already."""

import pytest

from retriever.repeats import SHINGLE, SeenText, without_spans

A = "the northern line runs from morden in the south to high barnet and edgware in the north"
B = "trains on it are painted black and run every two minutes at the busiest hours of the day"
C = "a new extension to battersea power station opened in september twenty twenty one for riders"


def test_nothing_seen_keeps_the_whole_span():
    text = f"{A}. {B}."
    assert SeenText(10).novel(text, 0, len(text)) == [(0, len(text))]


def test_a_run_seen_before_is_cut_out_and_the_rest_kept():
    seen = SeenText(10)
    first = f"{A}. {B}."
    seen.add(first, 0, len(first))
    window = f"{B.upper()}. {C}."  # the overlap of the next window, in other case
    pieces = seen.novel(window, 0, len(window))
    assert [window[s:e] for s, e in pieces] == [C + "."]


def test_a_span_seen_whole_leaves_nothing():
    seen = SeenText(10)
    seen.add(A, 0, len(A))
    assert seen.novel(A, 0, len(A)) == []


def test_short_shared_phrases_are_not_repeats():
    seen = SeenText(20)
    seen.add(A, 0, len(A))
    text = "the northern line runs from morden in the south, but the new trains are fast and quiet too"
    assert seen.novel(text, 0, len(text)) == [(0, len(text))]  # 10 shared words < 20


def test_scraps_left_by_a_cut_go_with_it():
    seen = SeenText(10)
    seen.add(A, 0, len(A))
    text = f"{A} pa"  # a window's ragged edge
    assert seen.novel(text, 0, len(text)) == []
    assert len("pa".split()) < SHINGLE


def test_offsets_are_of_the_whole_text():
    seen = SeenText(10)
    seen.add(A, 0, len(A))
    text = f"intro. {A}. {C}."
    start = text.index(A)
    pieces = seen.novel(text, start, len(text))
    assert [text[s:e].strip(". ") for s, e in pieces] == [C]


def test_min_words_must_be_positive():
    with pytest.raises(ValueError, match="min_words"):
        SeenText(0)


def test_without_spans():
    assert without_spans(0, 10, [(2, 4), (6, 7)]) == [(0, 2), (4, 6), (7, 10)]
    assert without_spans(5, 10, [(0, 6), (9, 12)]) == [(6, 9)]
    assert without_spans(0, 10, [(0, 10)]) == []


def test_a_short_sentence_kept_before_is_a_repeat_when_whole():
    seen = SeenText(20)
    sentence = "Crane 30 at berth 2 lifts 90 red containers."  # 10 words < 20, but all of it seen
    seen.add(f"Intro. {sentence} More.", 0, len(sentence) + 12)
    assert seen.novel(sentence, 0, len(sentence)) == []
