"""Official truncation to the reader's window: LongBench middle cut, ZeroSCROLLS document-tail cut."""

from compressor import count_tokens
from evals.data.item import EvalItem
from evals.data.prompt import head_truncate, middle_truncate, render_prompt

WORDS = " ".join(f"w{i}" for i in range(2000))


def _item(truncation: str, **kw) -> EvalItem:
    base = {"benchmark": "x", "task": "hotpotqa", "id": "1", "context": WORDS, "query": "q", "answers": ["a"],
                "prefix": "START ", "suffix": " Question: q\nAnswer:", "max_new_tokens": 32, "truncation": truncation}  # fmt: skip
    return EvalItem(**{**base, **kw})


def test_middle_truncate_keeps_both_ends():
    cut = middle_truncate(WORDS, 100)
    assert cut.startswith("w0 w1") and cut.endswith("w1999")
    assert count_tokens(cut) <= 101  # two halves re-tokenised may merge at the seam
    assert middle_truncate("short", 100) == "short"


def test_head_truncate():
    assert count_tokens(head_truncate(WORDS, 50)) <= 50
    assert head_truncate(WORDS, 50).startswith("w0")


def test_longbench_prompt_cut_to_window_minus_generation():
    item = _item("middle")
    prompt = render_prompt(item, window=300)
    assert prompt.startswith("START w0") and prompt.endswith("Answer:")
    assert count_tokens(prompt) <= 300 - 32 + 1
    assert render_prompt(item, window=None) == item.prompt()


def test_zeroscrolls_prompt_keeps_question_and_marks_the_cut():
    item = _item(
        "tail", separator="... [The rest of the story is omitted]\n\n", suffix="\n\nQuestion:\nq\n\nAnswer:\n"
    )
    prompt = render_prompt(item, "short context", window=300)
    assert prompt == item.prompt("short context")  # fits: unchanged
    prompt = render_prompt(item, window=300)
    assert prompt.startswith("START w0")
    assert prompt.endswith("... [The rest of the story is omitted]\n\nQuestion:\nq\n\nAnswer:\n")
    assert count_tokens(prompt) <= 300 - 32 - 1
