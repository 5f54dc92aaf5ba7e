"""Issue 32.3: the final fill never emits a fragment or glues one sentence's start onto the next; when the
budget cannot hold the most relevant sentence it is shortened at word level, each cut marked with ``…``."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressor import compress, count_tokens
from compressor.budget import MIN_RATE_BUDGET, at_sentence_boundary, fit, resolve_budget
from compressor.methods.base import Candidate
from compressor.word_pruning import MARKER, prune_sentence, word_weights
from retriever.sentences import sentence_offsets
from tests.fixtures.texts import HARBOUR

NOTE = "The meeting with Acme Corp is on Tuesday at 3pm in room 204. Bring the Q3 report."
QUESTION = "When is the Acme meeting?"
FACT = NOTE[: NOTE.index(" Bring")]



def pieces(text: str) -> list[str]:
    """The verbatim runs of an output: its text between ``…`` marks."""
    return [p.strip() for p in text.split(MARKER) if p.strip()]


def sentences_of(text: str) -> list[str]:
    return [line[s:e] for line in text.splitlines() for s, e in sentence_offsets(line)]


def assert_no_fragments(output: str, source: str) -> None:
    """Every sentence of ``output`` is a sentence of ``source``, unless a ``…`` marks it as cut, and then
    it is a verbatim run of ``source``."""
    whole = set(sentences_of(source))
    parts = output.split(MARKER)
    for k, part in enumerate(parts):
        sentences = sentences_of(part)
        for j, sentence in enumerate(sentences):
            if sentence in whole:
                continue
            marked = (k > 0 and j == 0) or (k < len(parts) - 1 and j == len(sentences) - 1)
            assert marked, f"unmarked fragment {sentence!r} in {output!r}"
            assert sentence in source, f"altered words in {sentence!r}"


def test_the_acme_note_keeps_its_fact_below_the_sentence():
    result = compress(NOTE, QUESTION, target_tokens=8)
    assert result.compressed_tokens == count_tokens(result.text) <= 8
    assert "Bring" not in result.text  # no shorter, irrelevant sentence in the fact's place
    assert "Tuesday" in result.text and "3pm" in result.text
    assert result.text.startswith(MARKER) and all(p in FACT for p in pieces(result.text))
    assert_no_fragments(result.text, NOTE)


def test_a_note_under_the_floor_comes_back_whole_at_a_rate():
    assert count_tokens(NOTE) < MIN_RATE_BUDGET
    assert compress(NOTE, QUESTION, rate=0.33).text == NOTE
    assert compress(NOTE, QUESTION).text == NOTE


def test_the_floor_bounds_a_rate_only():
    assert resolve_budget(24, 0.33, None) == 24
    assert resolve_budget(60, 0.1, None) == MIN_RATE_BUDGET
    assert resolve_budget(1000, 0.1, None) == 100
    assert resolve_budget(24, None, 8) == 8  # a hard target is obeyed


def test_a_prefix_is_never_glued_to_the_next_sentence():
    # the budget holds sentence 2 whole, but not sentence 1, which the old fill cut to "The"
    doc = NOTE
    first = Candidate(0, 0, len(FACT), 1.0)
    second = Candidate(0, len(FACT) + 1, len(doc), 0.5)
    out = fit([doc], [second, first], 12, "cl100k_base", query=QUESTION)
    assert out.tokens <= 12
    assert_no_fragments(out.text, doc)
    assert "The Bring" not in out.text


def test_pruned_words_are_verbatim_numbers_ids_and_names():
    text = "Ticket INC-20431 says user_id 88172 of Bank of America could not log in at 09:45 on server db-7.eu."
    words = text.split()
    for budget in (6, 10, 14, 20):
        runs = prune_sentence(text, 0, len(text), budget, "Which server failed?")
        kept = [text[s:e] for s, e in runs]
        # whole words, never split or altered (a run may leave off a trailing comma before a cut)
        assert all(w in words or w + "," in words for run in kept for w in run.split())
        out = (MARKER + " " if runs[0][0] else "") + f" {MARKER} ".join(kept) + f" {MARKER}" * (runs[-1][1] < len(text))
        assert count_tokens(out) <= budget
        assert budget < 14 or "db-7.eu." in kept[-1]  # the ID of the server, once there is room for it


def test_a_run_leaves_off_its_trailing_comma_before_a_cut():
    text = "Johndroe worked at Lockheed Martin as a spokesman in Bethesda, Maryland, and did not return calls."
    runs = prune_sentence(text, 0, len(text), 8, "Where did Johndroe work?")
    assert [text[s:e] for s, e in runs] == ["Lockheed Martin", "Bethesda, Maryland"]


def test_word_weights_put_facts_and_the_answer_kind_above_function_words():
    words = "The meeting with Acme Corp is on Tuesday at 3pm in room 204.".split()
    w = dict(zip(words, word_weights(words, QUESTION)))
    assert w["Tuesday"] > w["Corp"] > w["room"] > w["with"]
    assert w["3pm"] == w["Tuesday"] and w["204."] == w["Corp"]


def test_cjk_sentences_are_not_pruned():
    text = "深圳在一九八零年成为经济特区，现在是中国最重要的城市之一。"
    assert prune_sentence(text, 0, len(text), 5) is None
    assert prune_sentence(text, 0, len(text), 200) == [(0, len(text))]


def test_a_cut_after_a_sentence_end_or_a_line_break_needs_no_mark():
    text = "One two. Three four\nfive six"
    assert at_sentence_boundary(text, text.index("Three"))
    assert at_sentence_boundary(text, text.index("five"))
    assert not at_sentence_boundary(text, text.index("four"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(HARBOUR))), target=st.integers(3, 160),
       method=st.sampled_from(["condenser", "extractive", "cfic", "retrieve"]))
def test_no_method_emits_an_unmarked_fragment(order, target, method):
    text = " ".join(HARBOUR[i] for i in order)
    result = compress(text, "When did steam cranes replace the treadwheel?", target_tokens=target, method=method)
    assert result.compressed_tokens == count_tokens(result.text) <= target
    assert_no_fragments(result.text, text)


@pytest.fixture(scope="module")
def hotpot_items(shared_data):
    from evals.qa_sets import load

    items = load("hotpotqa", shared_data)
    chosen = [x for x in items if "Johndroe" in x.context][:1] + items[:3]
    assert chosen
    return chosen


@pytest.mark.parametrize("factor", [3, 5, 10])
def test_hotpotqa_outputs_have_no_fragments(hotpot_items, factor):
    for item in hotpot_items:
        result = compress(item.context, item.question, rate=1 / factor)
        assert result.compressed_tokens <= result.budget
        assert_no_fragments(result.text, item.context)


def test_reassembling_without_some_spans_keeps_the_cut_marks():
    from pipelines.protection import without

    doc = "Passage 1:\n" + NOTE
    label = Candidate(0, 0, 10, 2.0, atomic=True)
    first = Candidate(0, 11, 11 + len(FACT), 1.0)
    out = fit([doc], [label, first], 12, "cl100k_base", query=QUESTION)
    assert MARKER in out.text
    label_span = next(s for s in out.spans if s.start == 0)
    assert without(out, [label_span], [doc], frozenset(), "cl100k_base").text.startswith(MARKER)


GRAPHS = ("Answer in one word.\n\nThe graph isomorphism problem is the computational problem of determining whether "
          "two finite graphs are isomorphic. An important unsolved problem in complexity theory is whether the graph "
          "isomorphism problem is in P, NP-complete, or NP-intermediate.")
GRAPHS_QUESTION = "What is the problem attributed to defining if two finite graphs are isomorphic?"


def test_pruned_words_that_repeat_earlier_words_are_marked_where_they_stand():
    # the prompt-shapes "note" item whose pruned words ("problem", "graph isomorphism problem") also stand in
    # the first, whole sentence: every cut is marked at the piece itself, and the suite's detector says so
    from evals.prompt_shapes import fragments

    result = compress(GRAPHS, GRAPHS_QUESTION, rate=0.1)
    assert_no_fragments(result.text, GRAPHS)
    document = result.documents[0] if result.documents else GRAPHS
    assert fragments(document, result.kept, result.text) == 0
    second = GRAPHS.index("An important")
    later = [s for s in result.kept if s.start >= second and s.end < len(GRAPHS)]
    assert later, "the second sentence is cut at word level at this rate"
    out_at = result.text.index(GRAPHS[GRAPHS.index("The graph") : second].strip()) + second - GRAPHS.index("The graph")
    for span in later:  # each piece of the cut sentence is marked after it where it stands in the output
        piece = document[span.start : span.end]
        at = result.text.index(piece, out_at)
        assert result.text[at + len(piece) :].startswith(f" {MARKER}")
        out_at = at + len(piece)


def test_the_fragment_detector_reads_each_piece_where_it_stands():
    from compressor.result import Span
    from evals.prompt_shapes import fragments

    doc = "The graph problem is hard. An unsolved problem is whether it is in P."
    first = Span(doc=0, start=0, end=doc.index(" An"))
    word = doc.index("problem is whether")
    piece = Span(doc=0, start=word, end=word + len("problem"))
    marked = f"{doc[: first.end]} {MARKER} problem {MARKER}"
    assert fragments(doc, [first, piece], marked) == 0
    # the same piece without its marks is a fragment, though "problem" stands unmarked earlier too
    assert fragments(doc, [first, piece], f"{doc[: first.end]} problem") == 1
