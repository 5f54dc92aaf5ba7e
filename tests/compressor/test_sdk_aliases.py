"""LLMLingua habits (issue 32.7): ``question=`` / ``target_token=`` aliases, ``instruction=``, did-you-mean,
an unknown ``model=`` warned about and recorded, and a result that prints as its text (issue 34.6)."""

import warnings

import pytest

from compressor import compress, compress_many, count_tokens
from compressor.result import CompressionResult
from compressor.validation import _warned_models

TEXT = " ".join(
    f"Sentence number {i} talks about topic {i % 7} and mentions the value {i * 13}." for i in range(120)
)
QUESTION = "Which sentence mentions the value 650?"
INSTRUCTION = "You are a careful assistant. Always answer in French. Cite the sentence number."


def test_question_is_an_alias_of_query():
    by_alias = compress(TEXT, question=QUESTION, target_tokens=60)
    by_name = compress(TEXT, QUESTION, target_tokens=60)
    assert by_alias.text == by_name.text
    assert "650" in by_alias.text


def test_target_token_is_an_alias_of_target_tokens():
    r = compress(TEXT, QUESTION, target_token=50)
    assert r.budget == 50 and r.compressed_tokens <= 50


@pytest.mark.parametrize("kwargs, both", [
    ({"query": QUESTION, "question": QUESTION}, "query or question"),
    ({"target_tokens": 40, "target_token": 40}, "target_tokens or target_token"),
])
def test_alias_and_name_together_is_a_clear_error(kwargs, both):
    with pytest.raises(ValueError, match=both):
        compress(TEXT, **kwargs)


def test_aliases_work_in_compress_many():
    results = compress_many([TEXT, TEXT], question=None, target_token=40, method="truncate")
    assert [r.budget for r in results] == [40, 40]


@pytest.mark.parametrize("typo, suggestion", [("quesiton", "question"), ("instructions", "instruction"),
                                              ("target_tokns", "target_tokens"), ("encodng", "encoding")])
def test_unknown_option_suggests_the_close_name(typo, suggestion):
    with pytest.raises(TypeError, match=f"{typo} \\(did you mean '{suggestion}'\\?\\)"):
        compress(TEXT, **{typo: 1})


def test_unrelated_unknown_option_has_no_suggestion():
    with pytest.raises(TypeError, match="colour \\(accepted"):
        compress(TEXT, method="truncate", colour="red")


@pytest.mark.parametrize("budget", [{"target_tokens": 80}, {"rate": 0.2}])
def test_instruction_is_kept_verbatim_first_and_counted_in_the_budget(budget):
    r = compress(TEXT, QUESTION, instruction=INSTRUCTION, **budget)
    assert r.text.startswith(INSTRUCTION + "\n\n")
    assert r.compressed_tokens == count_tokens(r.text) <= r.budget
    assert r.compressed_tokens >= 0.8 * r.budget  # the context still uses what the instruction leaves
    assert r.info["instruction_tokens"] == count_tokens(INSTRUCTION)
    assert r.original_tokens == count_tokens(INSTRUCTION + "\n\n" + TEXT)


def test_instruction_survives_a_budget_smaller_than_the_context_needs():
    r = compress(TEXT, QUESTION, instruction=INSTRUCTION, target_tokens=25)
    assert INSTRUCTION in r.text and r.compressed_tokens <= 25


def test_instruction_larger_than_the_budget_is_an_error():
    with pytest.raises(ValueError, match="instruction"):
        compress(TEXT, QUESTION, instruction=INSTRUCTION, target_tokens=5)


def test_instruction_must_be_text():
    with pytest.raises(TypeError, match="instruction"):
        compress(TEXT, QUESTION, instruction=["rules"], target_tokens=50)


def test_unknown_model_warns_once_and_info_records_the_encoding():
    _warned_models.discard("claude-sonnet-4")
    with pytest.warns(UserWarning, match="claude-sonnet-4.*cl100k_base"):
        r = compress(TEXT, QUESTION, rate=0.2, model="claude-sonnet-4")
    assert r.info["encoding"] == "cl100k_base" and r.info["model"] == "claude-sonnet-4"
    assert r.info["model_known"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second call must not warn again
        compress(TEXT, QUESTION, rate=0.2, model="claude-sonnet-4")


def test_known_model_does_not_warn_and_is_recorded():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = compress(TEXT, QUESTION, rate=0.2, model="gpt-4o")
    assert r.info["encoding"] == "o200k_base" and r.info["model_known"] is True


@pytest.mark.parametrize("context, rate", [(TEXT, 0.2), ("Short note.", 0.5)])
def test_info_records_what_was_done(context, rate):
    r = compress(context, QUESTION, rate=rate, method="extractive")
    assert {k: r.info[k] for k in ("method", "encoding", "budget", "tokens_in", "tokens_out")} == {
        "method": "extractive", "encoding": "cl100k_base", "budget": r.budget,
        "tokens_in": r.original_tokens, "tokens_out": r.compressed_tokens}


def test_str_is_the_text_and_repr_is_short():
    r = compress(TEXT, QUESTION, target_tokens=100)
    assert str(r) == r.text and f"{r}" == r.text
    shown = repr(r)
    assert len(shown) < 200 and r.text[:40] in shown
    assert f"{r.original_tokens}→{r.compressed_tokens}" in shown and "condenser" in shown
    short = CompressionResult(text="hi", original_tokens=1, compressed_tokens=1, ratio=1.0, method="x")
    assert repr(short) == "CompressionResult(method='x', tokens=1→1, ratio=1.00, text='hi')"


def test_an_alias_left_at_none_is_ignored():
    r = compress(TEXT, QUESTION, question=None, target_token=None, target_tokens=40, method="truncate")
    assert r.budget == 40
