"""Property tests of the exact-budget assembly shared by every method."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressor import compress, count_tokens
from compressor.budget import assemble, fit
from compressor.methods.base import Candidate
from compressor.result import Span
from tests.fixtures.texts import HARBOUR

WORDS = st.sampled_from(
    ["river", "the", "Halvern", "42", "train", "über", "東京", "—", "is", "at", "05:12", "snow", "😀", "a.b"]
)
SENTENCE = st.lists(WORDS, min_size=1, max_size=25).map(lambda ws: " ".join(ws) + ".")
TEXT = st.lists(SENTENCE, min_size=1, max_size=60).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, frac=st.floats(0.05, 1.0), method=st.sampled_from(["truncate", "cfic", "retrieve"]))
def test_budget_is_never_exceeded(text, frac, method):
    total = count_tokens(text)
    target = max(1, int(total * frac))
    r = compress(text, "Which train leaves at 05:12?", target_tokens=target, method=method)
    assert r.compressed_tokens == count_tokens(r.text) <= target
    if total <= target:
        assert r.text == text


@settings(max_examples=40, deadline=None)
@given(text=TEXT, frac=st.floats(0.2, 0.9))
def test_budget_is_mostly_used_when_the_input_allows(text, frac):
    total = count_tokens(text)
    # Cuts fall on word boundaries, so a budget must be a good deal larger than a word for 90 % to hold.
    target = max(60, int(total * frac))
    r = compress(text, "snow", target_tokens=target, method="truncate")
    if total > target:
        assert r.compressed_tokens >= 0.9 * target


@settings(max_examples=40, deadline=None)
@given(text=TEXT)
def test_truncate_output_is_a_prefix(text):
    r = compress(text, rate=0.5, method="truncate")
    assert text.startswith(r.text)


def test_fit_rebuilds_valid_json_from_members():
    doc = json.dumps([{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(50)])
    from retriever.chunker import chunk

    chunked = chunk([doc])
    cands = [Candidate(u.doc, u.start, u.end, float(-i), u.atomic) for i, u in enumerate(chunked.units)]
    out = fit([doc], cands, 100, "cl100k_base", json_docs=chunked.json_docs)
    parsed = json.loads(out.text)
    assert out.tokens <= 100 and parsed and parsed[0]["id"] == 0


def test_assemble_uses_original_whitespace_and_no_spaces_for_cjk():
    text = "東京は大きい。次の文。最後。"
    spans = [Span(start=0, end=7), Span(start=11, end=14)]
    assert assemble([text], spans) == ["東京は大きい。最後。"]
    text2 = "Alpha one.\n\nBeta two. Gamma three."
    assert assemble([text2], [Span(start=0, end=10), Span(start=22, end=34)]) == ["Alpha one.\n\nGamma three."]


def test_fit_never_cuts_protected_blocks():
    doc = "Intro words here.\n```\ncode line one\ncode line two\n```\nTail."
    code_start = doc.index("```")
    code_end = doc.rindex("```") + 3
    cands = [Candidate(0, 0, len(doc), 1.0)]
    out = fit([doc], cands, 8, "cl100k_base", protected=[(0, code_start, code_end)])
    assert "code line" not in out.text and out.tokens <= 8




def _windows() -> tuple[str, str, str]:
    first, second = " ".join(HARBOUR[0:8]), " ".join(HARBOUR[4:12])  # half of each is the other's
    return first, second, f"{first}\n\n{second}"


def test_fit_with_repeat_words_keeps_overlapping_text_once():
    first, _, doc = _windows()
    cands = [Candidate(0, 0, len(first), 1.0), Candidate(0, len(first) + 2, len(doc), 0.9)]
    budget = count_tokens(" ".join(HARBOUR)) + 5  # both windows' text, said once
    out = fit([doc], cands, budget, "cl100k_base", repeat_words=20)
    assert all(out.text.count(s) == 1 for s in HARBOUR)
    assert out.tokens <= budget
    plain = fit([doc], cands, budget, "cl100k_base")  # without: the overlap costs twice, the tail is lost
    assert plain.text.count(HARBOUR[4]) == 2 and HARBOUR[11] not in plain.text


def test_fit_with_repeat_words_leaves_atomic_candidates_whole():
    first, _, doc = _windows()
    cands = [Candidate(0, 0, len(first), 1.0), Candidate(0, len(first) + 2, len(doc), 0.9, atomic=True)]
    out = fit([doc], cands, count_tokens(doc) + 5, "cl100k_base", repeat_words=20)
    assert out.text.count(HARBOUR[4]) == 2


def test_the_final_fill_takes_its_prefix_from_text_not_kept_yet():
    first, _, doc = _windows()
    start = len(first) + 2  # the second window opens with the first's second half
    cands = [Candidate(0, 0, len(first), 1.0), Candidate(0, start, len(doc), 0.9)]
    budget = count_tokens(first) + 40  # the second window's new half does not fit whole
    out = fit([doc], cands, budget, "cl100k_base", repeat_words=20)
    assert out.text.count(HARBOUR[4]) == 1 and HARBOUR[8][:30] in out.text  # filled from sentence 8 on
    assert out.tokens <= budget
