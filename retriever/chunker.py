"""Structure-aware, token-budgeted chunking: documents -> units (sentences, blocks) -> pages.

Units are what compression methods keep or drop: sentences of prose, and whole code blocks, headings,
JSON members, and a Markdown table's head and rows (``atomic``: never cut in the middle; the head is kept
with any kept row, ``pipelines.protection``). Pages group consecutive units up to a
token budget for coarse retrieval; a page never splits a unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from compressor.tokens import DEFAULT_ENCODING, count_many
from retriever.sentences import sentence_offsets
from retriever.structure import Block, json_members, markdown_blocks, table_parts


@dataclass(frozen=True)
class Unit:
    """A sentence or structural block: characters ``[start, end)`` of document ``doc``."""

    doc: int
    start: int
    end: int
    kind: str = "sentence"
    atomic: bool = False
    tokens: int = 0


@dataclass(frozen=True)
class Page:
    """Consecutive units of one document, at most ``page_tokens`` tokens unless one unit is larger."""

    doc: int
    start: int
    end: int
    units: tuple[int, ...]
    tokens: int


@dataclass(frozen=True)
class Chunked:
    """The units and pages of a set of documents, plus whether each document is one JSON value."""

    units: list[Unit]
    pages: list[Page]
    json_docs: frozenset[int]


def _prose_spans(text: str, block: Block) -> list[tuple[int, int]]:
    spans = []
    pos = block.start
    for line in text[block.start : block.end].splitlines(keepends=True):
        spans.extend(sentence_offsets(line, base=pos))
        pos += len(line)
    return spans


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long span at whitespace (or hard, for text without spaces) into pieces <= max_chars."""
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def _split_block_lines(text: str, block: Block, max_chars: int) -> list[tuple[int, int]]:
    """Break a huge atomic block into groups of whole lines (still atomic pieces)."""
    groups, start, pos = [], block.start, block.start
    for line in text[block.start : block.end].splitlines(keepends=True):
        if pos + len(line) - start > max_chars and pos > start:
            groups.append((start, pos))
            start = pos
        pos += len(line)
    groups.append((start, block.end))
    return [(s, e) for s, e in groups if text[s:e].strip()]


def document_units(text: str, doc: int = 0, *, max_unit_chars: int = 2000) -> tuple[list[Unit], bool]:
    """Units of one document, and whether it is a JSON document (units are then its top-level members)."""
    members = json_members(text)
    if members is not None:
        return [Unit(doc, s, e, "json", True) for s, e in members], True
    units: list[Unit] = []
    for block in markdown_blocks(text):
        if not text[block.start : block.end].strip():
            continue
        parts = table_parts(text, block) if block.kind == "table" else None
        if parts is not None:  # rows are selected one by one, like sentences
            units.append(Unit(doc, *parts.head, "table_head", True))
            units.extend(Unit(doc, s, e, "table_row", True) for s, e in parts.rows)
            continue
        if block.atomic:
            spans = _split_block_lines(text, block, 4 * max_unit_chars)
            units.extend(Unit(doc, *_trim(text, s, e), block.kind, True) for s, e in spans)
            continue
        for s, e in _prose_spans(text, block):
            units.extend(Unit(doc, a, b) for a, b in _split_long(text, s, e, max_unit_chars))
    return units, False


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in "\r\n":
        end -= 1
    return start, end


def chunk(
    documents: list[str],
    *,
    page_tokens: int = 256,
    encoding: str = DEFAULT_ENCODING,
    max_unit_chars: int = 2000,
) -> Chunked:
    """Split documents into token-counted units and group them into pages of about ``page_tokens``.

    Cached by content: the same documents asked another question are not chunked again (treat the
    returned object as read-only).
    """
    return _chunk(tuple(documents), page_tokens, encoding, max_unit_chars)


@lru_cache(maxsize=64)
def _chunk(documents: tuple[str, ...], page_tokens: int, encoding: str, max_unit_chars: int) -> Chunked:
    units: list[Unit] = []
    json_docs = set()
    for i, text in enumerate(documents):
        doc_units, is_json = document_units(text, i, max_unit_chars=max_unit_chars)
        units.extend(doc_units)
        if is_json:
            json_docs.add(i)
    counts = count_many([documents[u.doc][u.start : u.end] for u in units], encoding)
    units = [Unit(u.doc, u.start, u.end, u.kind, u.atomic, n) for u, n in zip(units, counts)]
    return Chunked(units, paginate(units, page_tokens), frozenset(json_docs))


def paginate(units: list[Unit], page_tokens: int) -> list[Page]:
    """Group consecutive units of the same document into pages; headings start a new page."""
    pages: list[Page] = []
    current: list[int] = []
    used = 0
    for i, unit in enumerate(units):
        starts_new = current and (
            units[current[0]].doc != unit.doc
            or used + unit.tokens > page_tokens
            or (unit.kind == "heading" and used > page_tokens // 4)
        )
        if starts_new:
            pages.append(_page(units, current, used))
            current, used = [], 0
        current.append(i)
        used += unit.tokens
    if current:
        pages.append(_page(units, current, used))
    return pages


def _page(units: list[Unit], idx: list[int], tokens: int) -> Page:
    return Page(units[idx[0]].doc, units[idx[0]].start, units[idx[-1]].end, tuple(idx), tokens)
