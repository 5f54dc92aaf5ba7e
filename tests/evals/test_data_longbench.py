"""LongBench loading: official fields, prompts, task filters, LongBench-E, hub fallback errors."""

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from evals.data import load_longbench
from evals.data.longbench import item_from_row, max_new_tokens, prompts, split_template
from evals.metrics.longbench import TASKS


def test_config_covers_all_21_tasks():
    assert set(prompts()) == set(TASKS) == set(max_new_tokens())
    assert len(TASKS) == 21
    assert max_new_tokens()["gov_report"] == 512 and max_new_tokens()["hotpotqa"] == 32


def test_split_template_fills_input_and_leaves_braces_alone():
    prefix, suffix = split_template("hotpotqa", "What is {x}?")
    assert prefix.endswith("The following are given passages.\n")
    assert suffix.endswith("Question: What is {x}?\nAnswer:")


def test_loads_file_with_fields(longbench_file):
    items = load_longbench(longbench_file)
    assert [i.task for i in items] == ["hotpotqa", "hotpotqa", "gov_report", "trec"]
    first = items[0]
    assert (first.query, first.answers, first.max_new_tokens, first.length) == (
        "Where was Ada born?",
        ["London"],
        32,
        300,
    )
    assert items[2].query is None  # gov_report has no question
    assert items[3].all_classes == ["Individual", "City"]
    assert first.prompt().startswith("Answer the question based on the given passages.")
    assert "Passage 1:\nAda Lovelace" in first.prompt()


def test_task_filter_and_per_task_limit(longbench_file):
    assert [i.id for i in load_longbench(longbench_file, tasks=["hotpotqa"], limit=1)] == ["h1"]
    assert Counter(i.task for i in load_longbench(longbench_file, limit=1)) == {
        "hotpotqa": 1,
        "gov_report": 1,
        "trec": 1,
    }


def test_longbench_e_prefers_e_files_and_e_tasks(tmp_path, longbench_file):
    rows = [json.loads(line) for line in longbench_file.read_text().splitlines()]
    (tmp_path / "hotpotqa.jsonl").write_text(json.dumps(rows[0]) + "\n")
    (tmp_path / "hotpotqa_e.jsonl").write_text(json.dumps({**rows[1], "dataset": None}) + "\n")
    (tmp_path / "dureader.jsonl").write_text(json.dumps({**rows[0], "dataset": "dureader"}) + "\n")
    (tmp_path / "mini.jsonl").unlink()
    e_items = load_longbench(tmp_path, longbench_e=True)
    assert [(i.task, i.id) for i in e_items] == [("hotpotqa_e", "h2")]
    assert e_items[0].max_new_tokens == 32
    assert {i.task for i in load_longbench(tmp_path)} == {"hotpotqa", "hotpotqa_e", "dureader"}


def test_unknown_task_is_an_error():
    with pytest.raises(ValueError, match="unknown LongBench task"):
        item_from_row({"_id": "x", "dataset": "nope", "context": "", "answers": []})


def test_hub_name_without_datasets_gives_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError("no datasets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(RuntimeError, match="pip install datasets"):
        load_longbench("THUDM/LongBench", tasks=["hotpotqa"])


def test_missing_local_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_longbench(tmp_path / "absent")


def test_shared_minilongbench_prompts_match_the_stored_ones(shared_data):
    path = Path(shared_data) / "longbench" / "minilongbench.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    items = load_longbench(path)
    assert len(items) == len(rows) == 123 and len({i.task for i in items}) == 18
    # MiniLongBench built narrativeqa and qasper prompts from a later template revision than the official config
    mismatched = {i.task for i, r in zip(items, rows, strict=True) if i.prompt() != r["prompt"]}
    assert mismatched <= {"narrativeqa", "qasper"}
