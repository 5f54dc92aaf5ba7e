"""Structured documents compressed by their structure (issue 32.4): JSON inside arrays and objects,
CSV and Markdown tables by rows under their header."""

import json

import pytest

from compressor import compress, count_tokens
from compressor.structured import json_pieces, parse_table, prune

NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
ADMIN_ID = 27


def account_json() -> str:
    """The issue's example: 40 users (one admin), a settings object and a changelog."""
    users = [{"id": i + 1, "name": f"{NAMES[i % 10]} {chr(65 + i // 10)}.", "email": f"user{i + 1}@example.com",
              "role": "admin" if i + 1 == ADMIN_ID else "viewer" if i % 3 else "editor", "active": i % 5 != 0}
             for i in range(40)]
    settings = {"theme": "dark", "language": "en", "timezone": "UTC",
                "notifications": {"email": True, "sms": False}}
    changelog = [{"version": f"1.{v}.0", "date": f"2026-0{1 + v % 9}-1{v % 10}",
                  "notes": f"Fixed bug number {v * 7} in the export module."} for v in range(8)]
    return json.dumps({"users": users, "settings": settings, "changelog": changelog}, indent=2)


def test_json_keeps_the_matching_element_and_uses_the_budget():
    text = account_json()
    r = compress(text, "Which user is the admin?", rate=0.2)
    parsed = json.loads(r.text)  # valid JSON
    assert any(u["role"] == "admin" and u["id"] == ADMIN_ID for u in parsed["users"])
    assert r.compressed_tokens == count_tokens(r.text) <= r.budget == int(0.2 * count_tokens(text))
    assert r.compressed_tokens > 0.5 * r.budget  # the old code kept 29 tokens of a 387-token budget
    original = json.loads(text)
    assert set(parsed) <= set(original) and list(parsed) == [k for k in original if k in parsed]
    for user in parsed["users"]:  # records kept whole, in their original order
        assert user in original["users"]
    ids = [u["id"] for u in parsed["users"]]
    assert ids == sorted(ids) and 3 < len(ids) < 40
    assert r.info["structure"] == "json"


def test_json_question_steers_what_is_kept():
    r = compress(account_json(), "Which release fixed bug number 35 in the export module?", target_tokens=150)
    parsed = json.loads(r.text)
    assert any("bug number 35" in entry["notes"] for entry in parsed.get("changelog", []))
    assert r.compressed_tokens <= 150


def test_json_within_budget_and_question_agnostic():
    small = json.dumps({"a": 1, "b": [1, 2, 3]})
    assert compress(small, "what is a?", rate=1.0).text == small
    r = compress(account_json(), None, rate=0.1)
    assert json.loads(r.text) and r.compressed_tokens <= r.budget


def test_json_top_level_array():
    rows = [{"sku": f"A-{i:03d}", "stock": i * 3, "colour": "red" if i == 11 else "blue"} for i in range(50)]
    r = compress(json.dumps(rows), "Which SKU is red?", rate=0.2)
    parsed = json.loads(r.text)
    assert isinstance(parsed, list) and {"sku": "A-011", "stock": 33, "colour": "red"} in parsed


def test_pieces_open_only_large_containers_and_prune_keeps_paths():
    value = {"big": [{"n": i, "text": "word " * 20} for i in range(10)], "small": {"x": 1}}
    pieces = json_pieces(value, 40, "cl100k_base")
    paths = [p.path for p in pieces]
    assert ("big", 3) in paths and ("small",) in paths and ("big",) not in paths
    assert prune(value, {("big", 3), ("small",)}) == {"big": [value["big"][3]], "small": {"x": 1}}
    assert pieces[0].text.startswith("big: {")


CSV = "id,name,city,role\n" + "".join(
    f"{i},{NAMES[i % 10]},{['Paris', 'Oslo', 'Rome', 'Lima'][i % 4]},{'admin' if i == 17 else 'viewer'}\n"
    for i in range(60))
TABLE = "| id | name | role |\n|---|---|---|\n" + "".join(
    f"| {i} | {NAMES[i % 10]} | {'admin' if i == 17 else 'viewer'} |\n" for i in range(60))


@pytest.mark.parametrize("text, header, kind", [(CSV, "id,name,city,role\n", "csv"),
                                                (TABLE, "| id | name | role |\n|---|---|---|\n", "markdown-table")])
def test_tables_keep_the_header_and_the_matching_rows(text, header, kind):
    r = compress(text, "Which user is the admin?", rate=0.2)
    assert r.text.startswith(header) and r.info["structure"] == kind
    rows = r.text.splitlines()[header.count("\n"):]
    assert any("admin" in row for row in rows) and 3 < len(rows) < 60
    assert all(row + "\n" in text for row in rows)  # rows verbatim
    ids = [int(row.strip("| ").split(",")[0].split("|")[0]) for row in rows]
    assert ids == sorted(ids)
    assert r.budget // 2 < r.compressed_tokens <= r.budget
    assert "\n".join(text[s.start : s.end] for s in r.kept) == r.text  # kept spans locate the rows


def test_prose_with_commas_is_not_a_table():
    prose = "Paris, the capital, is large.\nOslo is cold, windy, and dark.\nRome, Italy.\n"
    assert parse_table(prose) is None
    assert parse_table("a,b\n1,2\n3,4\n").kind == "csv"


def test_a_long_text_value_is_kept_sentence_by_sentence():
    filler = " ".join(f"The committee met on day {i} and discussed the budget at length." for i in range(60))
    doc = {"title": "Minutes", "body": f"{filler} The new chair is Maria Lopez, elected by a wide margin. {filler}"}
    r = compress(json.dumps(doc), "Who is the new chair?", target_tokens=120)
    parsed = json.loads(r.text)
    assert "The new chair is Maria Lopez, elected by a wide margin." in parsed["body"]
    assert r.compressed_tokens <= 120 and r.compressed_tokens > 60


def test_a_large_json_is_shortlisted_by_bm25_and_keeps_the_answer(monkeypatch):
    from retriever.hybrid import HybridScorer

    embedded: list[int] = []
    dense = HybridScorer.dense
    monkeypatch.setattr(HybridScorer, "dense", lambda self, texts, query: embedded.append(len(texts)) or dense(
        self, texts, query))
    rows = [{"id": i, "name": f"user{i}", "note": "VIP customer, owns the red bicycle." if i == 777 else
             f"Order {i * 7} shipped late."} for i in range(1000)]
    r = compress(json.dumps(rows), "Who owns the red bicycle?", target_tokens=300)
    parsed = json.loads(r.text)
    assert {"id": 777, "name": "user777", "note": "VIP customer, owns the red bicycle."} in parsed
    assert r.compressed_tokens <= 300 and embedded and max(embedded) < 200  # not all 1000 records embedded


def test_json_lines_keep_whole_matching_records():
    lines = [json.dumps({"id": i, "event": "login failed" if i == 42 else "page viewed"}) for i in range(120)]
    r = compress("\n".join(lines) + "\n", "Which event failed?", rate=0.2)
    kept = [json.loads(line) for line in r.text.splitlines()]  # every line still a JSON record
    assert {"id": 42, "event": "login failed"} in kept and r.info["structure"] == "jsonl"
    assert r.budget // 2 < r.compressed_tokens <= r.budget


def test_truncate_keeps_the_first_pieces_of_json():
    r = compress(account_json(), "Which user is the admin?", rate=0.2, method="truncate")
    ids = [u["id"] for u in json.loads(r.text)["users"]]
    assert ids == list(range(1, len(ids) + 1)) and ADMIN_ID not in ids  # the head, not the relevant one
    assert r.budget // 2 < r.compressed_tokens <= r.budget
