"""ZeroSCROLLS loading: splitting the official prompt into document and question, grouping gold answers."""

from pathlib import Path

import pytest

from evals.data import load_zeroscrolls
from evals.data.zeroscrolls import MAX_NEW_TOKENS, PromptSplitError, item_from_row, split_prompt


def test_split_qa_prompt():
    text = "Instr.\n\nStory:\nOnce.\n\nQuestion: not a header\n\nQuestion:\nWho?\n\nAnswer:\n"
    prefix, doc, suffix, query = split_prompt(text)
    assert (prefix, doc, suffix, query) == ("Instr.\n\nStory:\n", "Once.\n\nQuestion: not a header",
                                            "\n\nQuestion:\nWho?\n\nAnswer:\n", "Who?")  # fmt: skip


def test_split_summary_and_quality_prompts():
    assert split_prompt("Summarise.\n\nReport:\nText here.\n\nSummary:\n") == (
        "Summarise.\n\nReport:\n", "Text here.", "\n\nSummary:\n", None)  # fmt: skip
    quality = "Pick.\n\nStory:\nS.\n\nQuestion and Possible Answers:\nWhy?\n\n (A) x\n (B) y\n\nAnswer:\n"
    assert split_prompt(quality)[3] == "Why?\n\n (A) x\n (B) y"


def test_unsplittable_prompt_is_compressed_whole():
    with pytest.raises(PromptSplitError):
        split_prompt("no structure at all")
    item = item_from_row({"id": "1", "input": "no structure at all"}, "qasper", ["x"])
    assert (item.context, item.prefix, item.suffix, item.query) == ("no structure at all", "", "", None)


def test_hub_rows_use_their_indices():
    text = "I.\n\nStory:\nDOC\n\nQuestion:\nQ?\n\nAnswer:\n"
    row = {"id": "1", "input": text, "document_start_index": 11, "document_end_index": 14,
           "query_start_index": 26, "query_end_index": 28, "truncation_seperator": "... [cut]\n\n"}  # fmt: skip
    item = item_from_row(row, "narrative_qa", ["a"])
    assert (item.context, item.query, item.separator) == ("DOC", "Q?", "... [cut]\n\n")
    assert item.prompt() == text


def test_loads_folder_and_groups_answers_by_id(zeroscrolls_dir):
    items = {i.task: i for i in load_zeroscrolls(zeroscrolls_dir)}
    qa = items["narrative_qa"]
    assert qa.answers == ["London", "in London"] and qa.query == "Where was Ada born?"
    assert qa.max_new_tokens == MAX_NEW_TOKENS["narrative_qa"] == 64
    assert qa.separator == "... [The rest of the story is omitted]\n\n"
    assert items["gov_report"].query is None and items["gov_report"].max_new_tokens == 1024
    assert [i.task for i in load_zeroscrolls(zeroscrolls_dir, tasks=["gov_report"])] == ["gov_report"]


def test_shared_zeroscrolls_round_trips(shared_data):
    items = load_zeroscrolls(Path(shared_data) / "zeroscrolls")
    assert len(items) == 86 and len({i.task for i in items}) == 7
    assert all(i.context and i.suffix for i in items)
    assert all(i.query for i in items if i.task not in {"gov_report", "summ_screen_fd"})
