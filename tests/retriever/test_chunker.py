import json

from retriever.chunker import chunk, document_units, paginate
from retriever.sentences import sentence_offsets
from retriever.structure import json_members, markdown_blocks

MD = """# Title

First sentence here. Second one, with Dr. Smith and 3.5 litres!

```python
def f(x):

    return x + 1
```

| col | val |
|-----|-----|
| a   | 1   |

## Next
Closing words."""


def test_sentences_have_exact_offsets():
    text = "Dr. Smith went to Washington. He arrived at 5 p.m. today! See https://x.org/a.b now."
    spans = sentence_offsets(text)
    assert text[spans[0][0] : spans[0][1]] == "Dr. Smith went to Washington."
    assert len(spans) == 3


def test_structure_blocks_are_atomic_units():
    units, is_json = document_units(MD)
    assert not is_json
    kinds = [u.kind for u in units]
    assert kinds.count("code") == 1 and kinds.count("heading") == 2
    assert kinds.count("table_head") == 1 and kinds.count("table_row") == 1  # a table splits into head and rows
    code = next(u for u in units if u.kind == "code")
    assert MD[code.start : code.end].startswith("```python") and MD[code.start : code.end].endswith("```")
    assert code.atomic
    head = next(u for u in units if u.kind == "table_head")
    assert MD[head.start : head.end] == "| col | val |\n|-----|-----|" and head.atomic


def test_unclosed_fence_runs_to_end():
    blocks = markdown_blocks("text\n```\nno end\nstill code")
    assert blocks[-1].kind == "code" and blocks[-1].end == len("text\n```\nno end\nstill code")


def test_json_members_handle_strings_and_nesting():
    doc = '{"a": "x, y", "b": {"c": [1, 2]}, "d": "quote \\" ]"}'
    members = json_members(doc)
    assert [doc[s:e] for s, e in members] == ['"a": "x, y"', '"b": {"c": [1, 2]}', '"d": "quote \\" ]"']
    assert json_members("not json") is None
    assert json_members('"just a string"') is None


def test_pages_respect_budget_and_never_split_units():
    text = " ".join(f"Sentence {i} is here." for i in range(200))
    chunked = chunk([text], page_tokens=64)
    assert all(p.tokens <= 64 for p in chunked.pages)
    covered = [i for p in chunked.pages for i in p.units]
    assert covered == list(range(len(chunked.units)))


def test_long_unit_is_split_and_heading_starts_a_page():
    units, _ = document_units("word " * 2000, max_unit_chars=500)
    assert len(units) >= 20 and all(u.end - u.start <= 500 for u in units)
    chunked = chunk(["intro " * 150 + "\n# Heading\nbody text."], page_tokens=400)
    assert len(paginate(chunked.units, 400)) == 2


def test_json_document_detected():
    doc = json.dumps({"k": list(range(5)), "m": "v"})
    assert chunk([doc]).json_docs == frozenset({0})
