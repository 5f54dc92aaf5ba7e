"""A Markdown table inside prose is compressed by rows: relevant rows kept verbatim under the table's head
(header line and ``|---|`` rule), the rest simply absent; code blocks stay whole or go whole."""

from __future__ import annotations

import pytest

from compressor import compress
from compressor.tokens import count_tokens
from retriever.chunker import document_units
from retriever.structure import markdown_blocks, table_parts

CITIES = ["Aberdeen", "Bergen", "Cadiz", "Dresden", "Esbjerg", "Faro", "Graz", "Haarlem", "Innsbruck",
          "Jena", "Kassel", "Lyon", "Malmo", "Nantes", "Oulu", "Porto", "Quimper", "Riga", "Split", "Tartu",
          "Uppsala", "Varna", "Wroclaw", "Xanthi", "York", "Zadar", "Aarhus", "Bilbao", "Cork", "Delft"]
HEADER = "| City | Staff | Depot | Opening |"
RULE = "|---|---:|---|---|"
ROW_17 = "| Quimper | 212 | Depot Q16 | The ferry contractor needs 72 hours notice for weekend loading |"
PROSE = ("The handbook explains how regional depots operate. Each depot reports to the logistics office "
         "every month. Staff rotate between sites during the summer season. Safety briefings happen each "
         "Monday morning before shifts. ") * 3
QUESTION = "How much notice does the ferry contractor need for weekend loading?"


def _rows() -> list[str]:
    rows = [f"| {c} | {100 + 7 * i} | Depot {chr(65 + i % 26)}{i} | {8 + i % 5}:00 |" for i, c in enumerate(CITIES)]
    rows[16] = ROW_17  # the 17th row holds the answer
    return rows


def _document(rows: list[str], code: str = "") -> str:
    return ("# Depots\n\n" + PROSE + "\n\nThe table lists every depot.\n\n" + HEADER + "\n" + RULE + "\n"
            + "\n".join(rows) + "\n\n" + code + PROSE + "\n")


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("|")]


def test_table_parts_split_head_and_rows():
    text = _document(_rows())
    table = next(b for b in markdown_blocks(text) if b.kind == "table")
    parts = table_parts(text, table)
    assert text[slice(*parts.head)] == HEADER + "\n" + RULE
    assert [text[s:e] for s, e in parts.rows] == _rows()
    units, _ = document_units(text)
    kinds = [u.kind for u in units]
    assert kinds.count("table_head") == 1 and kinds.count("table_row") == 30
    assert all(u.atomic for u in units if u.kind.startswith("table"))


def test_a_table_without_a_rule_stays_one_block():
    text = "Intro sentence here.\n\n| a | b |\n| c | d |\n"
    table = next(b for b in markdown_blocks(text) if b.kind == "table")
    assert table_parts(text, table) is None
    units, _ = document_units(text)
    assert [u.kind for u in units] == ["sentence", "table"]


def test_relevant_row_kept_under_its_head_within_budget():
    rows = _rows()
    result = compress(_document(rows), QUESTION, rate=0.2)
    lines = _table_lines(result.text)
    assert lines[:3] == [HEADER, RULE, ROW_17] or (lines[:2] == [HEADER, RULE] and ROW_17 in lines)
    assert 3 <= len(lines) < 2 + len(rows)  # not every row
    assert [line for line in rows if line in lines] == lines[2:]  # verbatim, in their order
    assert result.compressed_tokens <= result.budget
    assert count_tokens(result.text) == result.compressed_tokens
    for line in lines:  # still a Markdown table: whole lines, nothing cut inside
        assert line.startswith("|") and line.endswith("|") and "…" not in line
    text_lines = result.text.splitlines()
    head = text_lines.index(HEADER)
    assert text_lines[head + 1] == RULE and text_lines[head + 2].startswith("|")


def test_a_table_with_target_tokens_keeps_its_head():
    result = compress(_document(_rows()), QUESTION, target_tokens=120)
    lines = _table_lines(result.text)
    assert lines[:2] == [HEADER, RULE] and ROW_17 in lines
    assert result.compressed_tokens <= 120


CANTEEN = ("The canteen serves tomato soup on Fridays. On Mondays the canteen soup is leek and potato. "
           "Soup at the canteen costs two euros a bowl. The canteen opens at noon and closes at three. "
           "Vegetarian soup is served at the canteen every day. The Friday soup comes with fresh bread. "
           "Canteen staff change the soup menu each season. Staff may take canteen soup back to their desks. ")


def test_an_irrelevant_table_is_dropped_whole():
    rows = [f"| {c} | {100 + 7 * i} | Depot {chr(65 + i % 26)}{i} | {8 + i % 5}:00 |" for i, c in enumerate(CITIES)]
    text = _document(rows).replace("The table lists every depot.", CANTEEN)
    result = compress(text, "What soup does the canteen serve on Fridays?", rate=0.1)
    assert "tomato soup on Fridays" in result.text
    assert _table_lines(result.text) == []  # no head without rows, no stray rows


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_code_blocks_stay_whole_or_absent(rate):
    code = "```python\ndef notice(hours):\n    return hours >= 72\n```\n\n"
    result = compress(_document(_rows(), code), QUESTION, rate=rate)
    assert (code.strip() in result.text) or ("```" not in result.text and "def notice" not in result.text)
    lines = _table_lines(result.text)
    assert not lines or lines[:2] == [HEADER, RULE]


@pytest.mark.parametrize("method", ["condenser", "truncate"])
@pytest.mark.parametrize("budget", [{"target_tokens": 20}, {"target_tokens": 60}, {"rate": 0.05}, {"rate": 0.3}])
def test_rows_never_without_their_head(method, budget):
    rows = _rows()
    result = compress(_document(rows), QUESTION, method=method, **budget)
    lines = _table_lines(result.text)
    assert result.compressed_tokens <= result.budget
    assert not lines or (lines[:2] == [HEADER, RULE] and len(lines) > 2)  # a head only with rows
    assert [line for line in rows if line in lines] == lines[2:]
